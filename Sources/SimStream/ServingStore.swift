import SimKernel
import SimPlatform

/// The serving layer: a key-value store on a few hosts that holds the views and answers queries.
///
/// Keys are spread over the store hosts (key mod hosts); each host serves requests with a pool
/// of `threads` (a FIFO queue in front). A stream job's window results arrive as writes (the
/// network's latency, then `write_service` per (window, key) entry); a batch view is bulk
/// loaded and swapped in whole (ElephantDB's way). A query for one key goes to its host; in a
/// Lambda architecture it makes two lookups, the batch view and the real-time view, and merges
/// them. Every answer is checked against the truth: the events of its key up to the answer's
/// horizon (everything before it is complete in the views it read).
package final class ServingStore: EventHandler, ServerPoolObserver, ActivityObserver, StreamSink {
  /// A stream job's view: counts per key per window, the complete horizon, and (for a job that
  /// keeps everything) the windows no update can reach any more, folded into one count per key.
  package struct View {
    var base: [Int]
    var foldedUpTo: Int64
    var windows: [Int64: [Int32]] = [:]
    var fired: [Int64: Set<Int>] = [:]
    package var horizon: Int64
    var fold: Bool
  }

  package enum Reads {
    case stream
    case lambda(speed: Bool)
  }

  struct Write {
    var view: Int
    var window: Int64
    var counts: [(key: Int32, count: Int32)]
    var task: Int
    var fire: Bool
    var host: Int
    var from: HostID
    var emission: Int
  }

  struct Query {
    var key: Int
    var host: Int32
    var start: SimTime
    var lookups: Int
  }

  let p: ServingParameters
  package let hosts: [Int32]
  let clients: [Int32]
  let keys: Int
  let keepBelow: Int
  let windowSize: Int64
  let slide: Int64
  let lateness: Int64
  /// Window tasks of each view's job (a window is complete once all have fired it).
  var tasksPerView: [Int] = []
  unowned let log: EventLog
  unowned let platform: Platform
  unowned let simulator: Simulator
  var me = EntityID(0)
  let random: RandomStream
  let keyTable: DiscreteTable?
  let pools: [ServerPool]
  var reads: Reads
  package var views: [View] = []
  /// The view queries read (a Kappa switch-over moves it).
  package var current = 0
  /// The batch view (Lambda): the history at first.
  var batch: [Int] = []
  var batchCutoff: Int64 = 0
  var writes: [Int64: Write] = [:]
  var nextWrite: Int64 = 0
  var emissionsLeft: [Int: Int] = [:]
  var nextEmission = 0
  var queries: [Int64: Query] = [:]
  var nextQuery: Int64 = 0
  var measureFrom: SimTime
  // Statistics.
  var latency = LatencyHistogram()
  var freshness = LatencyHistogram()
  var error = RunningStatistics()
  var errorNow = RunningStatistics()
  var exact = 0
  var answered = 0
  var failedQueries = 0
  var entriesWritten = 0
  package var serviceSeconds = 0.0

  init(
    parameters: ServingParameters, hosts: [Int32], clients: [Int32], job: StreamJobParameters,
    reads: Reads, log: EventLog, platform: Platform, simulator: Simulator, context: RunContext
  ) {
    p = parameters
    self.hosts = hosts
    self.clients = clients
    keys = log.events.keys
    keepBelow = Int((job.keepKeys * Double(keys)).rounded())
    windowSize = job.windowSize.nanoseconds
    slide = job.windowSlide.nanoseconds
    lateness = job.allowedLateness.nanoseconds
    self.reads = reads
    self.log = log
    self.platform = platform
    self.simulator = simulator
    measureFrom = context.warmup
    random = context.streams.stream("serving.queries")
    keyTable = log.keyTable
    pools = hosts.map {
      ServerPool(servers: parameters.threads, simulator: simulator, on: HostID($0), platform: platform)
    }
    batch = truthBase(before: 0)
    me = simulator.register(self)
    if parameters.queryRate > 0 {
      simulator.schedule(after: SimTime(seconds: random.exponential(mean: 1 / parameters.queryRate)), to: me)
    }
  }

  /// A new view for a job's results, complete from `from` (with `base` before it).
  func addView(base: [Int], from: Int64, fold: Bool) -> Int {
    views.append(View(base: base, foldedUpTo: from, horizon: from, fold: fold))
    return views.count - 1
  }

  /// The truth up to `horizon` for every key the filter keeps: what a complete view holds.
  package func truthBase(before horizon: Int64) -> [Int] {
    (0..<keys).map { $0 < keepBelow ? log.truth(key: $0, before: horizon) : 0 }
  }

  // MARK: Writes from stream jobs

  func emit(view: Int, window: Int64, counts: [(key: Int32, count: Int32)], task: Int, fire: Bool, from host: HostID) {
    var parts = Array(repeating: [(key: Int32, count: Int32)](), count: hosts.count)
    for entry in counts { parts[Int(entry.key) % hosts.count].append(entry) }
    let targets = parts.indices.filter { !parts[$0].isEmpty }
    let sendTo = targets.isEmpty ? [task % hosts.count] : targets
    let emission = nextEmission
    nextEmission += 1
    emissionsLeft[emission] = sendTo.count
    for h in sendTo {
      let id = nextWrite
      nextWrite += 1
      writes[id] = Write(
        view: view, window: window, counts: parts[h], task: task, fire: fire, host: h, from: host, emission: emission)
      platform.message(from: host, to: HostID(hosts[h]), observer: self, tag: id << 1)
    }
  }

  func apply(_ w: Write) {
    entriesWritten += w.counts.count
    var v = views[w.view]
    if v.fold && w.window < v.foldedUpTo {
      for entry in w.counts { v.base[Int(entry.key)] += Int(entry.count) }
    } else if !w.counts.isEmpty {
      var counts = v.windows[w.window] ?? Array(repeating: 0, count: keys)
      for entry in w.counts { counts[Int(entry.key)] += entry.count }
      v.windows[w.window] = counts
    }
    emissionsLeft[w.emission]! -= 1
    if emissionsLeft[w.emission] == 0 {
      emissionsLeft[w.emission] = nil
      if w.fire && w.window >= v.horizon { v.fired[w.window, default: []].insert(w.task) }
    }
    // The horizon moves over every window all tasks have fired (windows start a slide apart;
    // one is complete once the window starting at the horizon has fired everywhere).
    let needed = tasksPerView[w.view]
    while let fired = v.fired[v.horizon], fired.count == needed {
      v.fired[v.horizon] = nil
      v.horizon += slide
    }
    if v.fold {
      while v.foldedUpTo + windowSize + lateness <= v.horizon {
        if let counts = v.windows.removeValue(forKey: v.foldedUpTo) {
          for k in 0..<keys where counts[k] != 0 { v.base[k] += Int(counts[k]) }
        }
        v.foldedUpTo += slide
      }
    }
    views[w.view] = v
  }

  /// A batch view replaces the last: counts up to `cutoff`; the real-time windows before it go.
  package func loadBatchView(_ counts: [Int], cutoff: Int64) {
    batch = counts
    batchCutoff = cutoff
    for v in views.indices {
      for start in views[v].windows.keys.sorted() where start < cutoff { views[v].windows[start] = nil }
    }
  }

  // MARK: Queries

  package func handle(_ event: Event, in simulator: Simulator) {
    if event.kind == 1 {
      // A write sent again after its host could not be reached.
      guard let w = writes[event.payload] else { return }
      platform.message(from: w.from, to: HostID(hosts[w.host]), observer: self, tag: event.payload << 1)
      return
    }
    simulator.schedule(after: SimTime(seconds: random.exponential(mean: 1 / p.queryRate)), to: me)
    let key = keyTable.map { random.discrete($0) } ?? random.uniformInt(keys)
    let client = clients[random.uniformInt(clients.count)]
    let lookups: Int
    if case .lambda(true) = reads { lookups = 2 } else { lookups = 1 }
    let id = nextQuery
    nextQuery += 1
    queries[id] = Query(key: key, host: client, start: simulator.now, lookups: lookups)
    for _ in 0..<lookups {
      platform.message(
        from: HostID(client), to: HostID(hosts[key % hosts.count]), observer: self, tag: id << 1 | 1)
    }
  }

  package func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    if tag & 1 == 0 {
      guard let w = writes[tag >> 1] else { return }
      let service = p.writeService * Int64(max(1, w.counts.count))
      serviceSeconds += service.seconds
      pools[w.host].submit(service: service, tag: tag, observer: self)
    } else {
      guard let q = queries[tag >> 1] else { return }
      let service = p.queryService.sampleTime(random)
      serviceSeconds += service.seconds
      pools[q.key % hosts.count].submit(service: service, tag: tag, observer: self)
    }
  }

  /// A write that cannot reach the store is sent again a second later; a query fails.
  package func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    failed(tag: tag)
  }

  func failed(tag: Int64) {
    if tag & 1 == 0 {
      guard writes[tag >> 1] != nil else { return }
      simulator.schedule(after: .seconds(1), to: me, kind: 1, payload: tag >> 1)
    } else if queries.removeValue(forKey: tag >> 1) != nil {
      failedQueries += 1
    }
  }

  package func requestDropped(tag: Int64, reason: FailureReason, in simulator: Simulator) {
    failed(tag: tag)
  }

  package func requestServed(tag: Int64, waited: SimTime, in simulator: Simulator) {
    if tag & 1 == 0 {
      if let w = writes.removeValue(forKey: tag >> 1) { apply(w) }
      return
    }
    let id = tag >> 1
    guard var q = queries[id] else { return }
    q.lookups -= 1
    queries[id] = q
    guard q.lookups == 0 else { return }
    queries[id] = nil
    answer(q)
  }

  /// The merged answer, its horizon, and how far it is from the truth.
  func answer(_ q: Query) {
    let now = simulator.now
    guard now >= measureFrom else { return }
    let k = q.key
    var value = 0
    var horizon: Int64
    switch reads {
    case .lambda(let speed):
      value = batch[k]
      horizon = batchCutoff
      if speed, views[current].horizon > batchCutoff {
        horizon = views[current].horizon
        for (start, counts) in views[current].windows where start >= batchCutoff && start < horizon {
          value += Int(counts[k])
        }
      }
    case .stream:
      let v = views[current]
      horizon = v.horizon
      value = v.base[k]
      for (start, counts) in v.windows where start < horizon { value += Int(counts[k]) }
    }
    let truth = k < keepBelow ? log.truth(key: k, before: horizon) : 0
    let happened = k < keepBelow ? log.happened(key: k) : 0
    answered += 1
    if value == truth { exact += 1 }
    error.add(Double(abs(value - truth)) / Double(max(1, truth)))
    errorNow.add(Double(abs(value - happened)) / Double(max(1, happened)))
    freshness.record(max(.zero, now - SimTime(nanoseconds: horizon)))
    let back = platform.latency(from: HostID(hosts[k % hosts.count]), to: HostID(q.host))
    latency.record(now + back - q.start)
  }
}
