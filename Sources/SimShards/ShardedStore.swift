import Foundation
import SimKernel
import SimModel
import SimPlatform

/// The store: a ``ServerPool`` of `threads` per shard on its host, Poisson clients on the other
/// hosts, a router holding each key's serving shard, and rebalancing as throttled streams.
///
/// A request goes from a random client host to the first of its key's shard and replicas that
/// the client can reach (after the network's latency), is served there in FIFO order, and its
/// answer comes back after the latency; a write is also served by the other reachable replicas
/// (not waited for: consistency ONE). A request whose replicas are all unreachable, or that a
/// host failure drops from a queue, fails.
///
/// A change of the map (a shard added or removed, a range split and moved) compares the new
/// map with the serving owners: each key whose owner changes is moved, in one stream per
/// (old shard, new shard) pair, each sending shard streaming one at a time at most at
/// `stream_throughput`. A key is served by its old shard until its stream has finished, then by
/// the new one. A change arriving while a rebalance runs waits for it to end.
final class ShardedStore: EventHandler, ServerPoolObserver, ActivityObserver {
  enum Kind: Int32 {
    case arrival = 0
    case atShard = 1  // payload: request slot
    case response = 2  // payload: request slot
    case addShard = 3
    case removeShard = 4
    case splitCheck = 5
    case shift = 6
    case sample = 7
    case endOfWarmup = 8
  }

  struct Request {
    var client: Int32
    var shard: Int32
    var key: Int32
    var isWrite: Bool
    var start: SimTime
    var service: SimTime
    var counted: Bool
    /// A rebalance was running when it started.
    var rebalancing: Bool
  }

  /// One bulk transfer of the keys moving from a shard to another.
  struct Stream {
    var destination: Int32
    var bytes: Double
  }

  let p: ShardsParameters
  unowned let platform: Platform
  unowned let simulator: Simulator
  var me = EntityID(0)
  let warmup: SimTime
  let sampleInterval: SimTime?
  let arrivals: RandomStream
  let choices: RandomStream
  let serviceStream: RandomStream
  var keyTable: DiscreteTable?
  /// The popularity ranking's rotation: rank r is key (r + offset) mod keys.
  var offset = 0
  // The map.
  /// The map being moved to (the target).
  var map: ShardMap
  /// Each key's serving shard (the router's answer), and where it is moving (-1: nowhere).
  var owner: [Int32]
  var moving: [Int32]
  var size: [Double]
  var pools: [ServerPool] = []
  let clientHosts: [Int32]
  /// latency[client index][slot]: the network's one-way latency between them.
  var latency: [[SimTime]] = []
  var nextSlot: Int32
  // Requests in flight.
  var requests: [Request] = []
  var freeRequests: [Int32] = []
  // Rebalancing.
  var pendingChanges: [Int] = []  // +1 add, -1 remove
  var outbox: [[Stream]] = []
  var streamsLeft = 0
  var rebalanceStart: SimTime?
  /// Requests per key since the last split check (range: load splits and the added shard's split).
  var keyLoad: [Int32]
  var lastCheck = SimTime.zero
  // Statistics (after the warm-up).
  var latencyAll = LatencyHistogram()
  var latencyDuring = LatencyHistogram()
  var latencyOutside = LatencyHistogram()
  var shardLatency: [LatencyHistogram] = []
  var shardArrivals: [Int] = []
  var activeFrom: [SimTime?] = []
  var made = 0
  var succeeded = 0
  var failed = 0
  var keysMoved = 0
  var bytesMoved = 0.0
  var keysMoveFailed = 0
  var streamsFailed = 0
  var splits = 0
  var rebalances = 0
  var rebalanceSeconds = 0.0
  // Steady-state signals, from the start.
  var succeededTotal = 0
  var latencySumTotal = 0.0
  // Time series over the last interval.
  var intervalOK = 0
  var intervalLatency = 0.0
  var intervalArrivals: [Int] = []
  var series = TimeSeries()

  init(parameters: ShardsParameters, platform: Platform, simulator: Simulator, context: RunContext) {
    p = parameters
    self.platform = platform
    self.simulator = simulator
    warmup = context.warmup
    sampleInterval = context.timeseriesInterval
    arrivals = context.streams.stream("shards.arrivals")
    choices = context.streams.stream("shards.choices")
    serviceStream = context.streams.stream("shards.service")
    clientHosts = p.clientHosts
    map = ShardMap(
      scheme: p.partitioning, keys: p.keys, shards: p.shards, slots: p.slots, vnodes: p.vnodes,
      tokenStream: context.streams.stream("shards.tokens"))
    owner = map.owners()
    moving = Array(repeating: -1, count: p.keys)
    let sizes = context.streams.stream("shards.sizes")
    size = (0..<p.keys).map { _ in min(ShardsParameters.maxValueSize, max(0, parameters.valueSize.sample(sizes))) }
    keyLoad = Array(repeating: 0, count: p.keys)
    nextSlot = Int32(p.shards)
    me = simulator.register(self)
    pools = (0..<Int32(p.slots)).map {
      ServerPool(servers: p.threads, simulator: simulator, on: HostID($0), platform: platform)
    }
    platform.assignRole("shard", hosts: (0..<Int32(p.slots)).map(HostID.init))
    platform.assignRole("client", hosts: clientHosts.map(HostID.init))
    latency = clientHosts.map { c in (0..<Int32(p.slots)).map { platform.latency(from: HostID(c), to: HostID($0)) } }
    shardLatency = Array(repeating: LatencyHistogram(), count: p.slots)
    shardArrivals = Array(repeating: 0, count: p.slots)
    intervalArrivals = shardArrivals
    activeFrom = (0..<p.slots).map { $0 < p.shards ? SimTime.zero : nil }
    outbox = Array(repeating: [], count: p.slots)
    switch p.popularity {
    case .zipf:
      // Positive, finite weights (the first is 1): the table cannot refuse them.
      keyTable = try! DiscreteTable(weights: (0..<p.keys).map { pow(Double($0 + 1), -p.keySkew) })
    case .uniform, .hotset: break
    }
    scheduleArrival()
    for t in p.addShard { simulator.schedule(at: t, to: me, kind: Kind.addShard.rawValue) }
    for t in p.removeShard { simulator.schedule(at: t, to: me, kind: Kind.removeShard.rawValue) }
    if p.partitioning == .range {
      simulator.schedule(after: p.splitCheckInterval, to: me, kind: Kind.splitCheck.rawValue)
    }
    if let shift = p.shiftInterval { simulator.schedule(after: shift, to: me, kind: Kind.shift.rawValue) }
    if warmup > .zero { simulator.schedule(at: warmup, to: me, kind: Kind.endOfWarmup.rawValue) }
    if let interval = sampleInterval { simulator.schedule(after: interval, to: me, kind: Kind.sample.rawValue) }
  }

  func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .arrival: arrive()
    case .atShard: reachShard(Int32(event.payload))
    case .response: answered(Int32(event.payload))
    case .addShard:
      pendingChanges.append(1)
      startRebalance()
    case .removeShard:
      pendingChanges.append(-1)
      startRebalance()
    case .splitCheck:
      checkSplits()
      simulator.schedule(after: p.splitCheckInterval, to: me, kind: Kind.splitCheck.rawValue)
    case .shift:
      offset = (offset + p.shiftKeys) % p.keys
      if let shift = p.shiftInterval { simulator.schedule(after: shift, to: me, kind: Kind.shift.rawValue) }
    case .sample: sample()
    case .endOfWarmup: endWarmup()
    case nil: preconditionFailure("unknown shards event")
    }
  }

  // MARK: Clients and shards

  func scheduleArrival() {
    simulator.schedule(
      after: SimTime(seconds: arrivals.exponential(mean: 1 / p.rate)), to: me, kind: Kind.arrival.rawValue)
  }

  /// The key of the next request: a rank from the popularity, rotated by the shift.
  func drawKey() -> Int {
    let rank: Int
    switch p.popularity {
    case .uniform: rank = choices.uniformInt(p.keys)
    case .zipf: rank = choices.discrete(keyTable!)
    case .hotset:
      let hot = min(p.keys, max(1, Int((p.hotFraction * Double(p.keys)).rounded())))
      if hot == p.keys || choices.uniform() < p.hotShare {
        rank = choices.uniformInt(hot)
      } else {
        rank = hot + choices.uniformInt(p.keys - hot)
      }
    }
    return (rank + offset) % p.keys
  }

  /// The key's serving shard and its replicas, in the order a request tries them.
  func candidates(_ key: Int) -> [Int32] {
    let primary = owner[key]
    return [primary] + map.successors(of: primary, count: p.replication - 1)
  }

  func arrive() {
    scheduleArrival()
    let now = simulator.now
    let c = choices.uniformInt(clientHosts.count)
    let client = clientHosts[c]
    let key = drawKey()
    let isWrite = choices.uniform() >= p.readFraction
    let service = p.service.sampleTime(serviceStream)
    let counted = now >= warmup
    if counted { made += 1 }
    guard let shard = candidates(key).first(where: { platform.reachable(HostID(client), HostID($0)) }) else {
      return fail(counted: counted)
    }
    let request = Request(
      client: Int32(c), shard: shard, key: Int32(key), isWrite: isWrite, start: now, service: service,
      counted: counted, rebalancing: rebalanceStart != nil)
    let slot = requests.store(request, reusing: &freeRequests)
    simulator.schedule(after: latency[c][Int(shard)], to: me, kind: Kind.atShard.rawValue, payload: Int64(slot))
  }

  /// Counts one request arriving at a shard (its load).
  func countLoad(_ shard: Int32, key: Int32) {
    keyLoad[Int(key)] &+= 1
    intervalArrivals[Int(shard)] += 1
    if simulator.now >= warmup { shardArrivals[Int(shard)] += 1 }
  }

  func reachShard(_ slot: Int32) {
    let r = requests[Int(slot)]
    guard platform.reachable(HostID(clientHosts[Int(r.client)]), HostID(r.shard)) else { return failRequest(slot) }
    countLoad(r.shard, key: r.key)
    if r.isWrite {
      // The other replicas apply the write too (their answers are not waited for).
      for replica in candidates(Int(r.key)) where replica != r.shard && platform.isUp(HostID(replica)) {
        countLoad(replica, key: r.key)
        pools[Int(replica)].submit(service: p.service.sampleTime(serviceStream), tag: -1, observer: self)
      }
    }
    pools[Int(r.shard)].submit(service: r.service, tag: Int64(slot), observer: self)
  }

  func requestServed(tag: Int64, waited: SimTime, in simulator: Simulator) {
    guard tag >= 0 else { return }
    let r = requests[Int(tag)]
    if r.counted { shardLatency[Int(r.shard)].record(waited + r.service) }
    simulator.schedule(
      after: latency[Int(r.client)][Int(r.shard)], to: me, kind: Kind.response.rawValue, payload: tag)
  }

  func requestDropped(tag: Int64, reason: FailureReason, in simulator: Simulator) {
    guard tag >= 0 else { return }
    failRequest(Int32(tag))
  }

  func answered(_ slot: Int32) {
    let r = requests[Int(slot)]
    freeRequests.append(slot)
    let elapsed = simulator.now - r.start
    succeededTotal += 1
    latencySumTotal += elapsed.seconds
    intervalOK += 1
    intervalLatency += elapsed.seconds
    guard r.counted else { return }
    succeeded += 1
    latencyAll.record(elapsed)
    if r.rebalancing { latencyDuring.record(elapsed) } else { latencyOutside.record(elapsed) }
  }

  func failRequest(_ slot: Int32) {
    freeRequests.append(slot)
    fail(counted: requests[Int(slot)].counted)
  }

  func fail(counted: Bool) {
    if counted { failed += 1 }
  }

  // MARK: Rebalancing

  /// The active shard with the fewest keys.
  func leastKeys() -> Int32 {
    var count = [Int](repeating: 0, count: p.slots)
    for k in 0..<p.keys { count[Int(moving[k] >= 0 ? moving[k] : owner[k])] += 1 }
    return map.active.min { (count[Int($0)], $0) < (count[Int($1)], $1) }!
  }

  /// The hottest range (by requests since the last check; the largest by keys if none) and the
  /// key splitting its load in half.
  func hottestRange() -> (range: Int, at: Int) {
    var best = (range: 0, load: -1, width: 0)
    for r in map.rangeStart.indices {
      var load = 0
      for k in map.rangeStart[r]..<map.rangeEnd(r) { load += Int(keyLoad[k]) }
      let width = map.rangeEnd(r) - map.rangeStart[r]
      if (load, width) > (best.load, best.width) { best = (r, load, width) }
    }
    return (best.range, splitPoint(best.range, weight: { Double(self.keyLoad[$0]) }))
  }

  /// The first key from which the rest of range `r` holds at most half its weight (at least one
  /// key on each side; the key midpoint when the range weighs nothing).
  func splitPoint(_ r: Int, weight: (Int) -> Double) -> Int {
    let (start, end) = (map.rangeStart[r], map.rangeEnd(r))
    guard end - start >= 2 else { return start }
    var total = 0.0
    for k in start..<end { total += weight(k) }
    guard total > 0 else { return (start + end) / 2 }
    var sum = 0.0
    for k in start..<end {
      sum += weight(k)
      if sum >= total / 2 { return min(max(k + 1, start + 1), end - 1) }
    }
    return end - 1
  }

  /// Applies the next waiting change of the shard set, if no rebalance is running.
  func startRebalance() {
    guard rebalanceStart == nil, !pendingChanges.isEmpty else { return }
    let change = pendingChanges.removeFirst()
    if change > 0 {
      let slot = nextSlot
      nextSlot += 1
      activeFrom[Int(slot)] = simulator.now
      if p.partitioning == .range {
        let (r, at) = hottestRange()
        map.add(slot: slot, splitting: r, at: at)
      } else {
        map.add(slot: slot)
      }
    } else {
      let last = map.active.last!
      var keys = [Int](repeating: 0, count: p.slots)
      for k in 0..<p.keys { keys[Int(owner[k])] += 1 }
      let heirs = map.active.filter { $0 != last }
      _ = map.removeLast { _, width in
        // Each range of the removed shard goes to the shard then holding the fewest keys.
        let heir = heirs.min { (keys[Int($0)], $0) < (keys[Int($1)], $1) }!
        keys[Int(heir)] += width
        return heir
      }
      activeFrom[Int(last)] = nil
    }
    move()
  }

  /// Moves every key whose owner in the map is not its serving shard.
  func move() {
    let target = map.owners()
    var bytes = [Double](repeating: 0, count: p.slots * p.slots)
    var any = [Bool](repeating: false, count: p.slots * p.slots)
    for k in 0..<p.keys where target[k] != owner[k] {
      moving[k] = target[k]
      let pair = Int(owner[k]) * p.slots + Int(target[k])
      bytes[pair] += size[k]
      any[pair] = true
    }
    rebalanceStart = simulator.now
    for source in 0..<p.slots {
      for destination in 0..<p.slots where any[source * p.slots + destination] {
        outbox[source].append(Stream(destination: Int32(destination), bytes: bytes[source * p.slots + destination]))
        streamsLeft += 1
      }
      if !outbox[source].isEmpty { sendNext(from: source) }
    }
    if streamsLeft == 0 { rebalanced() }
  }

  /// Starts the first stream waiting at `source`, throttled to `stream_throughput`.
  func sendNext(from source: Int) {
    guard let stream = outbox[source].first else { return }
    let (from, to) = (HostID(Int32(source)), HostID(stream.destination))
    let tag = Int64(source) << 20 | Int64(stream.destination)
    guard platform.reachable(from, to), let throttle = p.streamThroughput else {
      platform.transfer(bytes: stream.bytes, from: from, to: to, observer: self, tag: tag)
      return
    }
    let route = platform.route(from: from, to: to)
    platform.fluid.start(
      amount: stream.bytes, on: route.resources, maxRate: min(throttle, platform.rateCap(from: from, to: to)),
      latency: route.latency, observer: self, tag: tag, endpoints: (from.index, to.index))
  }

  func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    streamEnded(tag: tag, ok: true)
  }

  func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    streamEnded(tag: tag, ok: false)
  }

  /// A stream ended: its keys are served by their new shard now (or, if it failed, stay).
  func streamEnded(tag: Int64, ok: Bool) {
    let (source, destination) = (Int32(tag >> 20), Int32(tag & 0xF_FFFF))
    for k in 0..<p.keys where owner[k] == source && moving[k] == destination {
      moving[k] = -1
      if ok {
        owner[k] = destination
        keysMoved += 1
        bytesMoved += size[k]
      } else {
        keysMoveFailed += 1
      }
    }
    if !ok { streamsFailed += 1 }
    outbox[Int(source)].removeFirst()
    streamsLeft -= 1
    sendNext(from: Int(source))
    if streamsLeft == 0 { rebalanced() }
  }

  func rebalanced() {
    if let start = rebalanceStart { rebalanceSeconds += (simulator.now - start).seconds }
    rebalanceStart = nil
    rebalances += 1
    startRebalance()
  }

  /// Range partitioning: splits every range over `split_size` bytes (at its byte median) or
  /// `split_load` requests/s (at its load median) and moves the upper half to the shard that
  /// served the fewest requests since the last check, as HBase's and MongoDB's balancers do.
  func checkSplits() {
    let seconds = (simulator.now - lastCheck).seconds
    defer {
      lastCheck = simulator.now
      for k in keyLoad.indices { keyLoad[k] = 0 }
    }
    guard rebalanceStart == nil, pendingChanges.isEmpty else { return }
    var shardLoad = [Int](repeating: 0, count: p.slots)
    for k in 0..<p.keys { shardLoad[Int(owner[k])] += Int(keyLoad[k]) }
    var r = 0
    var changed = false
    while r < map.rangeStart.count, map.rangeStart.count < ShardsParameters.maxRanges {
      let (start, end) = (map.rangeStart[r], map.rangeEnd(r))
      var bytes = 0.0
      var load = 0
      for k in start..<end {
        bytes += size[k]
        load += Int(keyLoad[k])
      }
      let bySize = bytes > p.splitSize
      let byLoad = p.splitLoad.map { Double(load) / seconds > $0 } ?? false
      guard end - start >= 2, bySize || byLoad else {
        r += 1
        continue
      }
      let at = bySize ? splitPoint(r, weight: { self.size[$0] }) : splitPoint(r, weight: { Double(self.keyLoad[$0]) })
      map.split(r, at: at)
      splits += 1
      let from = map.rangeShard[r]
      let to = map.active.min { (shardLoad[Int($0)], $0) < (shardLoad[Int($1)], $1) }!
      if to != from {
        var moved = 0
        for k in at..<end { moved += Int(keyLoad[k]) }
        shardLoad[Int(from)] -= moved
        shardLoad[Int(to)] += moved
        map.assign(r + 1, to: to)
        changed = true
      }
      r += 2
    }
    if changed { move() }
  }

  // MARK: Statistics

  func endWarmup() {
    latencyAll.reset()
    latencyDuring.reset()
    latencyOutside.reset()
    for s in 0..<p.slots {
      shardLatency[s].reset()
      pools[s].resetStatistics()
    }
  }

  func sample() {
    let now = simulator.now
    let seconds = sampleInterval!.seconds
    series.append(time: now, metric: "shards.throughput", value: Double(intervalOK) / seconds)
    series.append(
      time: now, metric: "shards.latency_mean", value: intervalOK > 0 ? intervalLatency / Double(intervalOK) : .nan)
    series.append(
      time: now, metric: "shards.load_skew", value: skew(map.active.map { Double(intervalArrivals[Int($0)]) }))
    series.append(time: now, metric: "shards.rebalancing", value: rebalanceStart == nil ? 0 : 1)
    intervalOK = 0
    intervalLatency = 0
    for s in intervalArrivals.indices { intervalArrivals[s] = 0 }
    simulator.schedule(after: sampleInterval!, to: me, kind: Kind.sample.rawValue)
  }

  /// The largest value over the mean (NaN when they are all 0).
  func skew(_ values: [Double]) -> Double {
    let mean = values.reduce(0, +) / Double(max(1, values.count))
    return mean > 0 ? values.max()! / mean : .nan
  }
}
