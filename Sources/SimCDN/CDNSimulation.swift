import Foundation
import SimKernel
import SimModel
import SimPlatform

/// The regions' arrivals, the edges' caches and the origin's pool, on hosts of the platform.
///
/// A request picks an object by Zipf rank and goes to the first edge of its region's list whose
/// host is up and reachable from the region's (none: failed). A hit (in cache and younger than the
/// TTL) is answered after the region-edge round trip; a miss is inserted into the cache at once
/// (no request coalescing) and fetched through the origin's FIFO pool (on the origin's host),
/// answered after the round trips, the origin's queue and service, and the object's transfer
/// from the origin's host to the edge's over the platform network (or size / origin_bandwidth).
/// An edge's host going down fails its regions over to their next edge; it comes back empty.
/// Churn rotates the rank ring: a new object (a recycled slot with a fresh size, purged from
/// every cache) takes rank 1.
final class CDNSimulation: EventHandler, ServerPoolObserver, PlatformObserver, ActivityObserver, PlatformWorkload {
  enum Kind: Int32 {
    case arrival = 0
    case warmup, sample, flush, churn
  }

  unowned let platform: Platform
  unowned let simulator: Simulator
  let measuredSeconds: Double
  /// Round trips region r -> its k-th edge, and edge e -> origin.
  var regionRTT: [[SimTime]]
  var originRTT: [SimTime]

  let p: CDNParameters
  let arrivals: RandomStream
  let picks: RandomStream
  let sizes: RandomStream
  let service: RandomStream
  let churn: RandomStream
  let table: DiscreteTable
  let pool: ServerPool
  let caches: [EdgeCache]
  var me = EntityID(0)
  var up: [Bool]
  var size: [Double]
  /// Rank r is the object in slot (rankHead + r) mod objects.
  var rankHead = 0
  // In-flight origin fetches: (region, edge, object, start, fixed part of the latency); slots reused.
  var fetches: [(region: Int, edge: Int, object: Int, start: SimTime, extra: SimTime)] = []
  var warmupEnd = SimTime.zero
  var freeFetches: [Int32] = []
  // Statistics after the warm-up.
  var requests = 0
  var hits = 0
  var failed = 0
  var bytes = 0.0
  var bytesHit = 0.0
  var edgeRequests: [Int]
  var edgeHits: [Int]
  var edgeBytes: [Double]
  var edgeBytesHit: [Double]
  var latency = LatencyHistogram()
  var regionLatency: [LatencyHistogram]
  var intervalRequests = 0
  var intervalHits = 0
  var intervalOrigin = 0
  var series = TimeSeries()
  var timeseries: TimeSeries { series }
  let sampleInterval: SimTime?

  init(_ p: CDNParameters, context: RunContext, simulator: Simulator, platform: Platform) {
    self.p = p
    self.platform = platform
    self.simulator = simulator
    measuredSeconds = context.measuredSeconds
    warmupEnd = context.warmup
    let edgeHost = p.edges.map { HostID($0.host) }
    let origin = HostID(p.originHost)
    regionRTT = p.regions.map { region in
      region.latency.isEmpty
        ? region.edges.map { e in platform.latency(from: HostID(region.host), to: edgeHost[e]) * 2 } : region.latency
    }
    originRTT = p.edges.indices.map { e in
      p.edges[e].originLatency ?? platform.latency(from: edgeHost[e], to: origin) * 2
    }
    arrivals = context.streams.stream("cdn.arrivals")
    picks = context.streams.stream("cdn.objects")
    sizes = context.streams.stream("cdn.sizes")
    service = context.streams.stream("cdn.origin_service")
    churn = context.streams.stream("cdn.churn")
    // Positive, finite weights: the table cannot refuse them.
    table = try! DiscreteTable(weights: (0..<p.objects).map { pow(Double($0 + 1), -p.zipfExponent) })
    pool = ServerPool(servers: p.originServers, simulator: simulator, on: origin, platform: platform)
    caches = p.edges.map { EdgeCache(capacity: $0.cacheSize, policy: $0.policy, objects: p.objects) }
    up = edgeHost.map { platform.isUp($0) }
    size = []
    edgeRequests = Array(repeating: 0, count: p.edges.count)
    edgeHits = edgeRequests
    edgeBytes = Array(repeating: 0, count: p.edges.count)
    edgeBytesHit = edgeBytes
    regionLatency = Array(repeating: LatencyHistogram(), count: p.regions.count)
    sampleInterval = context.timeseriesInterval
    size = (0..<p.objects).map { _ in drawSize() }
    me = simulator.register(self)
    for r in p.regions.indices {
      simulator.schedule(after: nextArrival(r), to: me, kind: Kind.arrival.rawValue, payload: Int64(r))
    }
    if context.warmup > .zero { simulator.schedule(at: context.warmup, to: me, kind: Kind.warmup.rawValue) }
    if let interval = sampleInterval { simulator.schedule(after: interval, to: me, kind: Kind.sample.rawValue) }
    let horizon = context.duration
    platform.addObserver(self)
    platform.assignRole("edge", hosts: edgeHost)
    platform.assignRole("origin", hosts: [origin])
    platform.assignRole("client", hosts: p.regions.map { HostID($0.host) })
    for f in p.flushes where f.at < horizon {
      simulator.schedule(at: f.at, to: me, kind: Kind.flush.rawValue, payload: Int64(f.edge))
    }
    if p.churnRate > 0 { simulator.schedule(after: nextChurn(), to: me, kind: Kind.churn.rawValue) }
  }

  /// Object sizes at most, so that a transfer time always fits the clock.
  static let maxObjectSize = 1_099_511_627_776.0

  func drawSize() -> Double {
    let x = p.objectSize.sample(sizes).rounded()
    return x >= 1 ? min(x, Self.maxObjectSize) : 1
  }
  func nextArrival(_ r: Int) -> SimTime { SimTime(seconds: arrivals.exponential(mean: 1 / p.regions[r].rate)) }
  func nextChurn() -> SimTime { SimTime(seconds: churn.exponential(mean: 1 / p.churnRate)) }

  func handle(_ event: Event, in simulator: Simulator) {
    let now = simulator.now
    switch Kind(rawValue: event.kind)! {
    case .arrival:
      let r = Int(event.payload)
      request(region: r, now: now)
      simulator.schedule(after: nextArrival(r), to: me, kind: Kind.arrival.rawValue, payload: Int64(r))
    case .warmup:
      requests = 0
      hits = 0
      failed = 0
      bytes = 0
      bytesHit = 0
      for e in p.edges.indices { (edgeRequests[e], edgeHits[e], edgeBytes[e], edgeBytesHit[e]) = (0, 0, 0, 0) }
      latency = LatencyHistogram()
      for r in p.regions.indices { regionLatency[r] = LatencyHistogram() }
      pool.resetStatistics()
      platform.resetStatistics()
    case .sample:
      let seconds = sampleInterval!.seconds
      series.append(
        time: now, metric: "cdn.hit_ratio_series",
        value: intervalRequests > 0 ? Double(intervalHits) / Double(intervalRequests) : .nan)
      series.append(time: now, metric: "cdn.origin_load", value: Double(intervalOrigin) / seconds)
      (intervalRequests, intervalHits, intervalOrigin) = (0, 0, 0)
      simulator.schedule(after: sampleInterval!, to: me, kind: Kind.sample.rawValue)
    case .flush:
      caches[Int(event.payload)].flush()
    case .churn:
      rankHead = (rankHead + p.objects - 1) % p.objects
      for cache in caches { cache.remove(rankHead) }
      size[rankHead] = drawSize()
      simulator.schedule(after: nextChurn(), to: me, kind: Kind.churn.rawValue)
    }
  }

  func request(region r: Int, now: SimTime) {
    let region = p.regions[r]
    let object = (rankHead + picks.discrete(table)) % p.objects
    let client = HostID(region.host)
    // Clients on a host that is down send nothing.
    guard platform.isUp(client) else { return }
    guard let k = region.edges.firstIndex(where: { up[$0] && platform.reachable(client, HostID(p.edges[$0].host)) })
    else {
      failed += 1
      return
    }
    let e = region.edges[k]
    let edge = p.edges[e]
    let cache = caches[e]
    let bytesOf = size[object]
    requests += 1
    intervalRequests += 1
    bytes += bytesOf
    edgeRequests[e] += 1
    edgeBytes[e] += bytesOf
    let fresh = cache.contains(object) && (edge.ttl.map { now - cache.fetchedAt[object] <= $0 } ?? true)
    if fresh {
      cache.touch(object)
      hits += 1
      intervalHits += 1
      bytesHit += bytesOf
      edgeHits[e] += 1
      edgeBytesHit[e] += bytesOf
      latency.record(regionRTT[r][k])
      regionLatency[r].record(regionRTT[r][k])
      return
    }
    intervalOrigin += 1
    cache.insert(object, size: bytesOf, now: now)
    // Fixed legs: the region's round trip, and the edge-origin round trip (with a platform
    // transfer, only the request's leg: the transfer carries the answer's).
    let extra: SimTime
    if let bandwidth = edge.originBandwidth {
      extra = regionRTT[r][k] + originRTT[e] + SimTime(seconds: bytesOf / bandwidth)
    } else {
      extra = regionRTT[r][k] + SimTime(nanoseconds: originRTT[e].nanoseconds / 2)
    }
    let slot = fetches.store((r, e, object, now, extra), reusing: &freeFetches)
    pool.submit(service: p.originService.sampleTime(service), tag: Int64(slot), observer: self)
  }

  func requestServed(tag: Int64, waited: SimTime, in simulator: Simulator) {
    let slot = Int(tag)
    let f = fetches[slot]
    guard p.edges[f.edge].originBandwidth == nil else {
      answered(slot, at: simulator.now)
      return
    }
    platform.transfer(
      bytes: size[f.object], from: HostID(p.originHost), to: HostID(p.edges[f.edge].host), observer: self, tag: tag)
  }

  func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    answered(Int(tag), at: simulator.now)
  }

  func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    lost(Int(tag), at: simulator.now)
  }

  func requestDropped(tag: Int64, reason: FailureReason, in simulator: Simulator) {
    lost(Int(tag), at: simulator.now)
  }

  /// A miss answered: its latency, counted if it started after the warm-up.
  func answered(_ slot: Int, at now: SimTime) {
    let f = fetches[slot]
    freeFetches.append(Int32(slot))
    guard f.start >= warmupEnd else { return }
    let total = now - f.start + f.extra
    latency.record(total)
    regionLatency[f.region].record(total)
  }

  /// A miss lost with the origin's host or on its way back: the request failed.
  func lost(_ slot: Int, at now: SimTime) {
    let f = fetches[slot]
    freeFetches.append(Int32(slot))
    guard f.start >= warmupEnd else { return }
    failed += 1
    requests -= 1
    edgeRequests[f.edge] -= 1
    bytes -= size[f.object]
    edgeBytes[f.edge] -= size[f.object]
  }

  /// An edge's host down: its regions fail over; back up: it starts empty.
  func hostChanged(_ host: HostID, up isUp: Bool, in simulator: Simulator) {
    for (e, edge) in p.edges.enumerated() where edge.host == host.index {
      up[e] = isUp
      if isUp { caches[e].flush() }
    }
  }

  func metrics() -> Metrics {
    let now = simulator.now
    var m = Metrics()
    let misses = requests - hits
    m.set("cdn.requests", Double(requests + failed))
    m.set("cdn.hits", Double(hits))
    m.set("cdn.misses", Double(misses))
    m.set("cdn.failed", Double(failed))
    m.set("cdn.hit_ratio", requests > 0 ? Double(hits) / Double(requests) : .nan)
    m.set("cdn.byte_hit_ratio", bytes > 0 ? bytesHit / bytes : .nan)
    m.set("cdn.origin_offload", requests > 0 ? 1 - Double(misses) / Double(requests) : .nan)
    m.set("cdn.origin_byte_offload", bytes > 0 ? 1 - (bytes - bytesHit) / bytes : .nan)
    m.set("cdn.bytes_served", bytes)
    m.set("cdn.bytes_from_cache", bytesHit)
    m.set("cdn.bytes_from_origin", bytes - bytesHit)
    for (e, edge) in p.edges.enumerated() {
      m.set("cdn.hit_ratio.\(edge.name)", edgeRequests[e] > 0 ? Double(edgeHits[e]) / Double(edgeRequests[e]) : .nan)
      m.set("cdn.byte_hit_ratio.\(edge.name)", edgeBytes[e] > 0 ? edgeBytesHit[e] / edgeBytes[e] : .nan)
    }
    m.set("cdn.latency_mean", latency.count > 0 ? latency.mean : .nan)
    m.set("cdn.latency_p50", latency.percentile(50))
    m.set("cdn.latency_p99", latency.percentile(99))
    for (r, region) in p.regions.enumerated() {
      let h = regionLatency[r]
      m.set("cdn.latency_mean.\(region.name)", h.count > 0 ? h.mean : .nan)
      m.set("cdn.latency_p50.\(region.name)", h.percentile(50))
      m.set("cdn.latency_p99.\(region.name)", h.percentile(99))
    }
    m.set("cdn.origin_rate", Double(misses) / measuredSeconds)
    m.set("cdn.origin_utilisation", pool.busyServers.average(until: now) / Double(p.originServers))
    var che = Double.nan
    var fifo = Double.nan
    if p.regions.count == 1, p.edges.count == 1, p.churnRate == 0, p.edges[0].ttl == nil, p.objects <= 100_000 {
      let q = CacheTheory.zipf(p.objects, p.zipfExponent)
      if p.edges[0].policy == .lru {
        che = CacheTheory.hitRatio(popularity: q, sizes: size, capacity: p.edges[0].cacheSize)
      }
      if p.edges[0].policy == .fifo {
        fifo = CacheTheory.hitRatio(popularity: q, sizes: size, capacity: p.edges[0].cacheSize, fifo: true)
      }
    }
    m.set("theory.che_hit_ratio", che)
    m.set("theory.fifo_hit_ratio", fifo)
    return m
  }
}
