import SimKernel
import SimPlatform

/// Where a stream job's window results go: the serving store's view, or a test's recorder.
protocol StreamSink: AnyObject {
  /// Results of one window task for one window: its counts per key (`fire`: the window's
  /// on-time firing, after which the task sends only late updates for it).
  func emit(view: Int, window: Int64, counts: [(key: Int32, count: Int32)], task: Int, fire: Bool, from host: HostID)
}

/// A Flink-style stream job: `parallelism` source tasks (each chained with the map/filter) read
/// the log's partitions; a keyed exchange sends each record to the window task that owns its
/// key; window tasks count events per key in event-time windows and send the results to a sink.
///
/// A source polls up to `max_poll_records` from one of its partitions (the brokers' page cache
/// or, for older records, their disks, then the network to its worker), computes, and sends
/// each window task its share over a FIFO channel, then polls again. A window task whose queue
/// holds `buffer_records` stops every source (backpressure). Watermarks: a source's is the
/// smallest over its partitions of the largest event time seen less `max_out_of_orderness`,
/// sent with its records; a window task's is the smallest over its sources. A window fires when
/// the watermark passes its end; an event for a window already fired updates it (a late
/// firing) until the watermark passes its end plus `allowed_lateness`, and is dropped after.
///
/// Checkpoints are aligned: the sources stop, the channels and queues drain, the positions and
/// window states are copied, the sources go on, and each window task writes its state to HDFS
/// (a pipeline to three DataNodes); the checkpoint completes when every write has. An
/// exactly-once sink holds results in a transaction committed when the checkpoint completes
/// (Flink's two-phase commit sink); an at-least-once sink sends them at once. When a worker
/// dies the job fails (at once if an activity touches it, else after `failure_detection`),
/// restarts after `restart_delay` + `redeploy` on the live workers, reads its state back, and
/// replays from the checkpoint's positions: results sent since that checkpoint are sent again
/// (duplicates) under at-least-once, and never were under exactly-once.
package final class StreamJob: EventHandler, ActivityObserver, PlatformObserver {
  enum Kind: Int32 {
    case poll = 0  // payload: source
    case checkpoint = 1
    case detect = 2
    case restart = 3
    case start = 4
  }

  enum Purpose: Int64 {
    case fetch = 1
    case compute, send, window, snapshot, restore
  }

  package enum Status { case waiting, running, failed, restoring, stopped }

  /// Where a job starts reading: the end of the history (a job that has been running all along)
  /// or the start of the log (reprocessing).
  package enum StartPosition { case live, earliest }

  struct Source {
    var host = Int32(0)
    var partitions: [Int] = []
    var positions: [Int] = []
    var maxTimes: [Int64] = []
    var active: [Bool] = []
    var next = 0
    var busy = false
    var blocked = false
    var batch = RecordBatch()
    var partition = 0
    var activity: ActivityID?
    var watermark = Int64.min
  }

  struct Delivery {
    var records: RecordBatch
    var watermark: Int64
    var source: Int
  }

  struct Channel {
    var queue = RingBuffer<Delivery>()
    var activity: ActivityID?
  }

  struct WindowTask {
    var host = Int32(0)
    var queue = RingBuffer<Delivery>()
    var queued = 0
    var activity: ActivityID?
    var watermarks: [Int64] = []
    var watermark = Int64.min
    var windows = WindowState()
    var entries = 0
    var fireFrom = Int64(0)
  }

  /// A window task's windows: their starts, ascending, and for each one its count per key the
  /// task owns, by the key's rank among them (ascending keys; 0: the key is not in the window).
  /// Dense, so counting a record is an index, not two hash lookups; a window's array has one
  /// count per key of the task, as the truth keeps one per key and slide.
  struct WindowState {
    var starts: [Int64] = []
    var counts: [[Int32]] = []

    /// The position of the window starting at `start`, or where it would go.
    func position(of start: Int64) -> (index: Int, found: Bool) {
      // Records mostly fall in the newest window: look there first.
      if let last = starts.last {
        if last == start { return (starts.count - 1, true) }
        if last < start { return (starts.count, false) }
      }
      var lo = 0
      var hi = starts.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if starts[mid] < start { lo = mid + 1 } else { hi = mid }
      }
      return (lo, lo < starts.count && starts[lo] == start)
    }

    /// The window starting at `start`, added (empty, `width` keys) if it is not there.
    mutating func index(of start: Int64, width: Int) -> Int {
      let (i, found) = position(of: start)
      if !found {
        starts.insert(start, at: i)
        counts.insert(Array(repeating: 0, count: width), at: i)
      }
      return i
    }
  }

  /// What a checkpoint copies: positions, watermarks, window states.
  struct Snapshot {
    var positions: [[Int]]
    var maxTimes: [[Int64]]
    var windows: [WindowState]
    var entries: [Int]
    var fireFrom: [Int64]
    var taskWatermarks: [[Int64]]
  }

  let p: StreamJobParameters
  let name: String
  package let view: Int
  unowned let log: EventLog
  unowned let platform: Platform
  unowned let simulator: Simulator
  weak var sink: StreamSink?
  let workers: [Int32]
  let storage: [Int32]
  let keepBelow: Int32
  /// Each key's window task (`owner`), its rank among that task's keys, and each task's keys in
  /// ascending order.
  let ownerOfKey: [Int32]
  let rankOfKey: [Int32]
  let keysOfTask: [[Int32]]
  var me = EntityID(0)
  package var status = Status.waiting
  var epoch: Int64 = 0
  var sources: [Source] = []
  var channels: [Channel] = []
  var tasks: [WindowTask] = []
  let parallelism: Int
  var started = SimTime.zero
  /// Windows that end after this fire with a latency worth recording (not history).
  let liveFrom: Int64
  // Checkpoints.
  var aligning = false
  var alignStart = SimTime.zero
  var checkpointStart = SimTime.zero
  var snapshotWrites = 0
  var snapshotActivities: [ActivityID] = []
  var pendingSnapshot: Snapshot?
  var completed: Snapshot
  var checkpointEpoch = 0
  /// Exactly-once: results waiting for their checkpoint, by checkpoint; at-least-once: events
  /// in results sent since each checkpoint's snapshot.
  var transaction: [(checkpoint: Int, window: Int64, counts: [(key: Int32, count: Int32)], task: Int, fire: Bool)] =
    []
  var sentSince: [(checkpoint: Int, events: Int)] = []
  // Failure and recovery.
  var failedAt: SimTime?
  var catchUp: [[Int]]?
  var lagAtFailure = 0
  var restores = 0
  var restoreActivities: [ActivityID] = []
  // Statistics.
  package var recordsIn = 0
  var recordsProcessed = 0
  package var bytesFetched = 0.0
  var bytesFromDisk = 0.0
  var lateUpdates = 0
  var lateDropped = 0
  var duplicates = 0
  var discardedUncommitted = 0
  package var unrecoverable = 0
  var fetchRetries = 0
  package var cpuWork = 0.0
  var recordLatency = LatencyHistogram()
  var windowLatency = LatencyHistogram()
  var checkpointTimes = RunningStatistics()
  var alignmentTimes = RunningStatistics()
  var checkpointsFailed = 0
  var failures = 0
  var recoveryTimes: [Double] = []
  var downtime = RunningStatistics()
  var stateBytes = TimeWeightedAverage()
  var stateBytesMax = 0.0
  var blockedSources = TimeWeightedAverage()
  var caughtUpAt: SimTime?

  init(
    parameters: StreamJobParameters, name: String, view: Int, parallelism: Int, workers: [Int32], storage: [Int32],
    log: EventLog, keys: Int, start: StartPosition, startAt: SimTime, platform: Platform, simulator: Simulator
  ) {
    p = parameters
    self.name = name
    self.view = view
    self.parallelism = parallelism
    self.workers = workers
    self.storage = storage
    self.log = log
    self.platform = platform
    self.simulator = simulator
    keepBelow = Int32((parameters.keepKeys * Double(keys)).rounded())
    let owners = (0..<keys).map { Int32(StreamJob.owner(Int32($0), parallelism: parallelism)) }
    var ranks = Array(repeating: Int32(0), count: keys)
    var taskKeys: [[Int32]] = Array(repeating: [], count: parallelism)
    for k in 0..<keys {
      ranks[k] = Int32(taskKeys[Int(owners[k])].count)
      taskKeys[Int(owners[k])].append(Int32(k))
    }
    ownerOfKey = owners
    rankOfKey = ranks
    keysOfTask = taskKeys
    let hasKeys = (0..<log.partitions.count).map { part in log.partitionOfKey.contains(Int32(part)) }
    sources = (0..<parallelism).map { _ in Source() }
    for part in 0..<log.partitions.count {
      let s = part % parallelism
      sources[s].partitions.append(part)
      sources[s].positions.append(0)
      sources[s].maxTimes.append(Int64.min / 2)
      sources[s].active.append(hasKeys[part])
    }
    channels = Array(repeating: Channel(), count: parallelism * parallelism)
    tasks = (0..<parallelism).map { _ in WindowTask() }
    liveFrom = startAt.nanoseconds
    completed = Snapshot(
      positions: [], maxTimes: [], windows: [], entries: [], fireFrom: [], taskWatermarks: [])
    me = simulator.register(self)
    platform.addObserver(self)
    log.floors.append { [unowned self] part in self.floor(part) }
    simulator.schedule(at: startAt, to: me, kind: Kind.start.rawValue, payload: start == .live ? 0 : 1)
  }

  /// The lowest offset of the partition the job may read again: its position (less a fetch in
  /// flight, which a failed fetch reads again) and the positions of the checkpoints it may
  /// restart from; none once stopped. Before it starts its positions are 0: it holds the log.
  func floor(_ part: Int) -> Int {
    guard status != .stopped else { return Int.max }
    let s = part % parallelism
    guard let k = sources[s].partitions.firstIndex(of: part) else { return Int.max }
    var floor = sources[s].positions[k]
    if sources[s].busy && sources[s].partition == k { floor -= sources[s].batch.count }
    if !completed.positions.isEmpty { floor = min(floor, completed.positions[s][k]) }
    if let pending = pendingSnapshot { floor = min(floor, pending.positions[s][k]) }
    return floor
  }

  func tag(_ purpose: Purpose, _ index: Int) -> Int64 {
    purpose.rawValue << 56 | (epoch & 0xFF_FFFF) << 32 | Int64(index)
  }

  // MARK: Start, placement

  /// The window start of the first window ending after `time`.
  func firstWindow(endingAfter time: Int64) -> Int64 {
    let slide = p.windowSlide.nanoseconds
    let size = p.windowSize.nanoseconds
    return floorDiv(time - size, slide) * slide + slide
  }

  @inline(__always) func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

  func begin(earliest: Bool) {
    started = simulator.now
    for s in sources.indices {
      for (k, part) in sources[s].partitions.enumerated() {
        sources[s].positions[k] = earliest ? log.logStart(part, at: simulator.now) : log.partitions[part].history
        // What retention has deleted is beyond any replay.
        if earliest { unrecoverable += sources[s].positions[k] }
      }
    }
    let from = earliest ? log.historyStart : 0
    let first = firstWindow(endingAfter: from)
    for t in tasks.indices {
      tasks[t].fireFrom = first
      tasks[t].watermarks = Array(repeating: Int64.min, count: parallelism)
    }
    completed = snapshot()
    place()
    status = .running
    if let interval = p.checkpointInterval {
      simulator.schedule(after: interval, to: me, kind: Kind.checkpoint.rawValue)
    }
    for s in sources.indices { poll(s) }
  }

  /// Tasks on the live workers, round robin (a source and the window task of one index share a
  /// slot, as Flink's slot sharing does).
  func place() {
    let live = workers.filter { platform.isUp(HostID($0)) }
    let pool = live.isEmpty ? workers : live
    for i in 0..<parallelism {
      sources[i].host = pool[i % pool.count]
      tasks[i].host = pool[i % pool.count]
    }
  }

  func snapshot() -> Snapshot {
    Snapshot(
      positions: sources.map(\.positions), maxTimes: sources.map(\.maxTimes), windows: tasks.map(\.windows),
      entries: tasks.map(\.entries), fireFrom: tasks.map(\.fireFrom), taskWatermarks: tasks.map(\.watermarks))
  }

  // MARK: Events

  package func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .start: begin(earliest: event.payload == 1)
    case .poll:
      let s = Int(event.payload)
      if status == .running, !sources[s].busy { poll(s) }
    case .checkpoint:
      guard status != .stopped, let interval = p.checkpointInterval else { return }
      simulator.schedule(after: interval, to: me, kind: Kind.checkpoint.rawValue)
      if status == .running, !aligning, pendingSnapshot == nil {
        aligning = true
        alignStart = simulator.now
        checkpointStart = simulator.now
        checkIfDrained()
      }
    case .detect: if status == .running, event.payload == epoch { fail() }
    case .restart: if event.payload == epoch { restart() }
    case nil: preconditionFailure("unknown stream job event")
    }
  }

  // MARK: Sources

  func poll(_ s: Int) {
    guard status == .running, !aligning, !sources[s].busy else { return }
    if tasks.contains(where: { $0.queued >= p.bufferRecords }) {
      if !sources[s].blocked {
        sources[s].blocked = true
        blockedSources.add(1, at: simulator.now)
      }
      return
    }
    if sources[s].blocked {
      sources[s].blocked = false
      blockedSources.add(-1, at: simulator.now)
    }
    let count = sources[s].partitions.count
    guard count > 0 else { return }
    for step in 0..<count {
      let k = (sources[s].next + step) % count
      let part = sources[s].partitions[k]
      let start = log.logStart(part, at: simulator.now)
      if sources[s].positions[k] < start {
        unrecoverable += start - sources[s].positions[k]
        sources[s].positions[k] = start
      }
      guard sources[s].positions[k] < log.partitions[part].end else { continue }
      let batch = log.read(part, from: sources[s].positions[k], maxRecords: p.maxPollRecords, at: simulator.now)
      sources[s].positions[k] += batch.count
      sources[s].next = (k + 1) % count
      sources[s].busy = true
      sources[s].batch = batch
      sources[s].partition = k
      bytesFetched += batch.bytes
      if batch.fromDisk { bytesFromDisk += batch.bytes }
      sources[s].activity = platform.pipeline(
        bytes: batch.bytes, hosts: [HostID(log.leader(part)), HostID(sources[s].host)], readDisk: batch.fromDisk,
        writeDisks: false, observer: self, tag: tag(.fetch, s))
      return
    }
    checkCaughtUp()
  }

  /// New records in a partition wake its idle source.
  func appended(_ part: Int) {
    let s = part % parallelism
    guard status == .running, !sources[s].busy, !sources[s].blocked else { return }
    simulator.schedule(after: .zero, to: me, kind: Kind.poll.rawValue, payload: Int64(s))
  }

  func fetched(_ s: Int) {
    let work = Double(sources[s].batch.count) * (p.sourceCost + p.mapCost)
    cpuWork += work
    sources[s].activity = platform.compute(
      work: work, host: HostID(sources[s].host), observer: self, tag: tag(.compute, s))
  }

  /// The source's records, filtered, go to their window tasks with its new watermark.
  func computed(_ s: Int) {
    let batch = sources[s].batch
    sources[s].batch = RecordBatch()
    sources[s].busy = false
    sources[s].activity = nil
    let k = sources[s].partition
    recordsIn += batch.count
    var parts = Array(repeating: RecordBatch(), count: parallelism)
    if let chunkStart = batch.chunkStart {
      sources[s].maxTimes[k] = max(sources[s].maxTimes[k], chunkStart + log.bucket - 1)
      for entry in batch.chunk where entry.key < keepBelow {
        let t = owner(entry.key)
        parts[t].chunkStart = chunkStart
        parts[t].chunk.append(entry)
        parts[t].count += Int(entry.count)
      }
    } else {
      // Counted first, so each task's share is allocated once.
      var maxTime = sources[s].maxTimes[k]
      var sizes = Array(repeating: 0, count: parallelism)
      for i in 0..<batch.count {
        maxTime = max(maxTime, batch.eventTimes[i])
        let key = batch.keys[i]
        if key < keepBelow { sizes[Int(ownerOfKey[Int(key)])] += 1 }
      }
      sources[s].maxTimes[k] = maxTime
      for t in 0..<parallelism where sizes[t] > 0 {
        parts[t].eventTimes.reserveCapacity(sizes[t])
        parts[t].keys.reserveCapacity(sizes[t])
        parts[t].appendTimes.reserveCapacity(sizes[t])
        parts[t].count = sizes[t]
      }
      for i in 0..<batch.count {
        let key = batch.keys[i]
        guard key < keepBelow else { continue }
        let t = Int(ownerOfKey[Int(key)])
        parts[t].eventTimes.append(batch.eventTimes[i])
        parts[t].keys.append(key)
        parts[t].appendTimes.append(batch.appendTimes[i])
      }
    }
    var lowest = Int64.max
    for (j, time) in sources[s].maxTimes.enumerated() where sources[s].active[j] { lowest = min(lowest, time) }
    if lowest != Int64.max { sources[s].watermark = lowest - p.maxOutOfOrderness.nanoseconds }
    for t in 0..<parallelism {
      parts[t].bytes = Double(parts[t].count) * log.events.size
      tasks[t].queued += parts[t].count
      channels[s * parallelism + t].queue.append(
        Delivery(records: parts[t], watermark: sources[s].watermark, source: s))
      sendNext(s * parallelism + t)
    }
    checkCaughtUp()
    if aligning { checkIfDrained() } else { poll(s) }
  }

  func owner(_ key: Int32) -> Int { Int(ownerOfKey[Int(key)]) }

  static func owner(_ key: Int32, parallelism: Int) -> Int {
    Int(StableHash.splitMix64(UInt64(key) &+ 0x5EED) % UInt64(parallelism))
  }

  // MARK: Channels

  /// The channel's next delivery: records over the network (FIFO, one at a time), or a
  /// watermark alone (at once).
  func sendNext(_ c: Int) {
    while channels[c].activity == nil, let delivery = channels[c].queue.first {
      let (s, t) = (c / parallelism, c % parallelism)
      if delivery.records.count == 0 || sources[s].host == tasks[t].host {
        deliver(c)
      } else {
        channels[c].activity = platform.transfer(
          bytes: delivery.records.bytes, from: HostID(sources[s].host), to: HostID(tasks[t].host), observer: self,
          tag: tag(.send, c))
      }
    }
  }

  func deliver(_ c: Int) {
    let delivery = channels[c].queue.popFirst()!
    let t = c % parallelism
    tasks[t].queue.append(delivery)
    if tasks[t].activity == nil { process(t) }
  }

  // MARK: Window tasks

  func process(_ t: Int) {
    while tasks[t].activity == nil, let delivery = tasks[t].queue.first {
      if delivery.records.count > 0 {
        let work = Double(delivery.records.count) * p.windowCost
        cpuWork += work
        tasks[t].activity = platform.compute(
          work: work, host: HostID(tasks[t].host), observer: self, tag: tag(.window, t))
      } else {
        apply(t)
      }
    }
    if aligning { checkIfDrained() }
  }

  /// The head delivery's records into the task's windows, then its watermark.
  func apply(_ t: Int) {
    let delivery = tasks[t].queue.popFirst()!
    let records = delivery.records
    let now = simulator.now.nanoseconds
    var late: [Int64: [Int32: Int32]] = [:]
    if let chunkStart = records.chunkStart {
      for entry in records.chunk { add(t, time: chunkStart, key: entry.key, count: entry.count, late: &late) }
    } else {
      // The records of one append share its time, and so their latency: one update a run.
      var i = 0
      while i < records.count {
        let appendTime = records.appendTimes[i]
        var j = i
        repeat {
          add(t, time: records.eventTimes[j], key: records.keys[j], count: 1, late: &late)
          j += 1
        } while j < records.count && records.appendTimes[j] == appendTime
        recordLatency.record(SimTime(nanoseconds: now - appendTime), count: j - i)
        i = j
      }
    }
    recordsProcessed += records.count
    for window in late.keys.sorted() {
      let counts = late[window]!.sorted { $0.key < $1.key }.map { (key: $0.key, count: $0.value) }
      send(window: window, counts: counts, task: t, fire: false)
    }
    tasks[t].queued -= records.count
    tasks[t].watermarks[delivery.source] = max(tasks[t].watermarks[delivery.source], delivery.watermark)
    var lowest = Int64.max
    for s in 0..<parallelism where !sources[s].partitions.isEmpty {
      lowest = min(lowest, tasks[t].watermarks[s])
    }
    if lowest != Int64.max, lowest > tasks[t].watermark {
      tasks[t].watermark = lowest
      fire(t)
    }
    if tasks[t].queued < p.bufferRecords {
      for s in sources.indices where sources[s].blocked {
        simulator.schedule(after: .zero, to: me, kind: Kind.poll.rawValue, payload: Int64(s))
      }
    }
  }

  /// Counts an event (or a chunk's `count` events) at `time` into each of its windows: on
  /// time, late (the window has fired: an update), or too late (dropped).
  func add(_ t: Int, time: Int64, key: Int32, count: Int32, late: inout [Int64: [Int32: Int32]]) {
    let slide = p.windowSlide.nanoseconds
    let size = p.windowSize.nanoseconds
    let watermark = tasks[t].watermark
    var start = floorDiv(time, slide) * slide
    var dropped = false
    while start > time - size {
      let end = start + size
      if end - 1 + p.allowedLateness.nanoseconds <= watermark {
        dropped = true
      } else {
        let w = tasks[t].windows.index(of: start, width: keysOfTask[t].count)
        let rank = Int(rankOfKey[Int(key)])
        let old = tasks[t].windows.counts[w][rank]
        if old == 0 { tasks[t].entries += 1 }
        tasks[t].windows.counts[w][rank] = old + count
        if start < tasks[t].fireFrom {
          late[start, default: [:]][key, default: 0] += count
          lateUpdates += Int(count)
        }
      }
      start -= slide
    }
    if dropped { lateDropped += Int(count) }
  }

  /// Fires every window the watermark has passed, and drops the state of those past their
  /// allowed lateness.
  func fire(_ t: Int) {
    let slide = p.windowSlide.nanoseconds
    let size = p.windowSize.nanoseconds
    let watermark = tasks[t].watermark
    while tasks[t].fireFrom + size - 1 <= watermark {
      let start = tasks[t].fireFrom
      var counts: [(key: Int32, count: Int32)] = []
      let (w, found) = tasks[t].windows.position(of: start)
      if found {
        for (rank, count) in tasks[t].windows.counts[w].enumerated() where count > 0 {
          counts.append((keysOfTask[t][rank], count))
        }
      }
      send(window: start, counts: counts, task: t, fire: true)
      if start + size > liveFrom {
        windowLatency.record(simulator.now - SimTime(nanoseconds: start + size))
      }
      tasks[t].fireFrom += slide
    }
    let lateness = p.allowedLateness.nanoseconds
    var passed = 0
    while passed < tasks[t].windows.starts.count, tasks[t].windows.starts[passed] + size - 1 + lateness <= watermark {
      tasks[t].entries -= tasks[t].windows.counts[passed].reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
      passed += 1
    }
    if passed > 0 {
      tasks[t].windows.starts.removeFirst(passed)
      tasks[t].windows.counts.removeFirst(passed)
    }
    noteState()
  }

  func noteState() {
    let bytes = Double(tasks.reduce(0) { $0 + $1.entries }) * p.stateEntrySize
    stateBytes.update(bytes, at: simulator.now)
    stateBytesMax = max(stateBytesMax, bytes)
  }

  // MARK: Sink

  func send(window: Int64, counts: [(key: Int32, count: Int32)], task: Int, fire: Bool) {
    switch p.guarantee {
    case .exactlyOnce:
      transaction.append((checkpointEpoch + 1, window, counts, task, fire))
    case .atLeastOnce:
      let events = counts.reduce(0) { $0 + Int($1.count) }
      if events > 0 { sentSince.append((checkpointEpoch + 1, events)) }
      sink?.emit(view: view, window: window, counts: counts, task: task, fire: fire, from: HostID(tasks[task].host))
    }
  }

  // MARK: Checkpoints

  /// Aligned: once nothing is in flight, the snapshot is taken and the sources go on.
  func checkIfDrained() {
    guard aligning, status == .running else { return }
    guard sources.allSatisfy({ !$0.busy }), channels.allSatisfy({ $0.activity == nil && $0.queue.isEmpty }),
      tasks.allSatisfy({ $0.activity == nil && $0.queue.isEmpty })
    else { return }
    aligning = false
    alignmentTimes.add((simulator.now - alignStart).seconds)
    checkpointEpoch += 1
    pendingSnapshot = snapshot()
    snapshotWrites = parallelism
    snapshotActivities = []
    for t in 0..<parallelism {
      let bytes = max(1024, Double(tasks[t].entries) * p.stateEntrySize)
      var path = [HostID(tasks[t].host)]
      let live = storage.filter { platform.isUp(HostID($0)) && $0 != tasks[t].host }
      for r in 0..<min(3, live.count) { path.append(HostID(live[(t + r) % live.count])) }
      snapshotActivities.append(
        platform.pipeline(
          bytes: bytes, hosts: path, readDisk: false, writeDisks: path.count > 1, observer: self, tag: tag(.snapshot, t)
        )
      )
    }
    for s in sources.indices { poll(s) }
  }

  func snapshotWritten() {
    snapshotWrites -= 1
    guard snapshotWrites == 0, let done = pendingSnapshot else { return }
    completed = done
    pendingSnapshot = nil
    checkpointTimes.add((simulator.now - checkpointStart).seconds)
    // Commit: the transaction of this checkpoint's results reaches the store.
    var k = 0
    while k < transaction.count, transaction[k].checkpoint <= checkpointEpoch {
      let r = transaction[k]
      sink?.emit(
        view: view, window: r.window, counts: r.counts, task: r.task, fire: r.fire, from: HostID(tasks[r.task].host))
      k += 1
    }
    transaction.removeFirst(k)
    sentSince.removeAll { $0.checkpoint <= checkpointEpoch }
  }

  // MARK: Failure and recovery

  package func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator) {
    guard !up, status == .running || status == .restoring else { return }
    if tasks.contains(where: { $0.host == host.index }) || sources.contains(where: { $0.host == host.index }) {
      simulator.schedule(after: p.failureDetection, to: me, kind: Kind.detect.rawValue, payload: epoch)
    }
    if pendingSnapshot != nil, storage.contains(host.index) { abortCheckpoint() }
  }

  package func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    guard (tag >> 32) & 0xFF_FFFF == epoch & 0xFF_FFFF else { return }
    let index = Int(tag & 0xFFFF_FFFF)
    switch Purpose(rawValue: tag >> 56) {
    case .fetch: fetched(index)
    case .compute: computed(index)
    case .send:
      channels[index].activity = nil
      deliver(index)
      sendNext(index)
    case .window:
      tasks[index].activity = nil
      apply(index)
      process(index)
    case .snapshot: snapshotWritten()
    case .restore: restored()
    case nil: preconditionFailure("unknown stream job activity")
    }
  }

  package func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    guard (tag >> 32) & 0xFF_FFFF == epoch & 0xFF_FFFF else { return }
    let index = Int(tag & 0xFFFF_FFFF)
    switch Purpose(rawValue: tag >> 56) {
    case .fetch where platform.isUp(HostID(sources[index].host)):
      // The partition's leader is gone (or cut off): the consumer backs off (retry.backoff.ms,
      // 100 ms) and fetches again from the leader the metadata then names.
      let k = sources[index].partition
      sources[index].positions[k] -= sources[index].batch.count
      bytesFetched -= sources[index].batch.bytes
      if sources[index].batch.fromDisk { bytesFromDisk -= sources[index].batch.bytes }
      sources[index].batch = RecordBatch()
      sources[index].busy = false
      sources[index].activity = nil
      fetchRetries += 1
      simulator.schedule(after: .milliseconds(100), to: me, kind: Kind.poll.rawValue, payload: Int64(index))
      if aligning { checkIfDrained() }
    case .snapshot: abortCheckpoint()
    case .restore:
      // The state's DataNode or the worker is gone: try again.
      restoreActivities.forEach(platform.cancel)
      simulator.schedule(after: p.restartDelay, to: me, kind: Kind.restart.rawValue, payload: epoch)
    default: fail()
    }
  }

  func abortCheckpoint() {
    guard pendingSnapshot != nil else { return }
    snapshotActivities.forEach(platform.cancel)
    pendingSnapshot = nil
    checkpointsFailed += 1
  }

  /// The job fails: everything in flight is dropped, and what was sent since the last
  /// completed checkpoint will be sent again (at-least-once) or was never committed.
  func fail() {
    guard status == .running || status == .restoring else { return }
    failures += 1
    if failedAt == nil {
      failedAt = simulator.now
      catchUp = sources.map { s in s.partitions.map { log.partitions[$0].end } }
      lagAtFailure = lag
    }
    cancelAll()
    duplicates += sentSince.reduce(0) { $0 + $1.events }
    sentSince.removeAll()
    discardedUncommitted += transaction.reduce(0) { $0 + $1.counts.reduce(0) { $0 + Int($1.count) } }
    transaction.removeAll()
    status = .failed
    epoch += 1
    simulator.schedule(after: p.restartDelay + p.redeploy, to: me, kind: Kind.restart.rawValue, payload: epoch)
  }

  func cancelAll() {
    for s in sources.indices {
      if let a = sources[s].activity { platform.cancel(a) }
      if sources[s].blocked { blockedSources.add(-1, at: simulator.now) }
      sources[s].activity = nil
      sources[s].busy = false
      sources[s].blocked = false
    }
    for c in channels.indices {
      if let a = channels[c].activity { platform.cancel(a) }
      channels[c] = Channel()
    }
    for t in tasks.indices {
      if let a = tasks[t].activity { platform.cancel(a) }
      tasks[t].activity = nil
      tasks[t].queue = RingBuffer()
      tasks[t].queued = 0
    }
    snapshotActivities.forEach(platform.cancel)
    if pendingSnapshot != nil {
      pendingSnapshot = nil
      checkpointsFailed += 1
    }
    restoreActivities.forEach(platform.cancel)
    aligning = false
  }

  /// Redeployed on the live workers, each window task reads its state back from HDFS.
  func restart() {
    guard status == .failed || status == .restoring else { return }
    guard workers.contains(where: { platform.isUp(HostID($0)) }) else {
      simulator.schedule(after: p.restartDelay, to: me, kind: Kind.restart.rawValue, payload: epoch)
      return
    }
    place()
    status = .restoring
    let state = completed
    for s in sources.indices {
      sources[s].positions = state.positions[s]
      sources[s].maxTimes = state.maxTimes[s]
      sources[s].watermark = Int64.min
    }
    for t in tasks.indices {
      tasks[t].windows = state.windows[t]
      tasks[t].entries = state.entries[t]
      tasks[t].fireFrom = state.fireFrom[t]
      tasks[t].watermarks = state.taskWatermarks[t]
      tasks[t].watermark =
        state.taskWatermarks[t].enumerated().filter { !sources[$0.offset].partitions.isEmpty }
        .map(\.element).min() ?? Int64.min
    }
    noteState()
    restores = parallelism
    restoreActivities = []
    for t in 0..<parallelism {
      let bytes = max(1024, Double(tasks[t].entries) * p.stateEntrySize)
      let live = storage.filter { platform.isUp(HostID($0)) && $0 != tasks[t].host }
      let from = live.isEmpty ? tasks[t].host : live[t % live.count]
      restoreActivities.append(
        platform.transfer(
          bytes: bytes, from: HostID(from), to: HostID(tasks[t].host), observer: self, tag: tag(.restore, t)))
    }
  }

  func restored() {
    restores -= 1
    guard restores == 0, status == .restoring else { return }
    status = .running
    for s in sources.indices { poll(s) }
  }

  /// Recovery ends when the sources are past where the log ended at the failure and have read
  /// the backlog since: the lag is back to what it was (give or take a poll a partition).
  func checkCaughtUp() {
    guard let target = catchUp, let at = failedAt else { return }
    for s in sources.indices {
      for k in sources[s].positions.indices where sources[s].positions[k] < target[s][k] { return }
    }
    guard lag <= lagAtFailure + log.partitions.count * p.maxPollRecords else { return }
    recoveryTimes.append((simulator.now - at).seconds)
    failedAt = nil
    catchUp = nil
  }

  /// Stops the job for good (a Kappa switch-over retires the old version).
  package func stop() {
    cancelAll()
    status = .stopped
    epoch += 1
  }

  // MARK: Progress

  /// Records in the log not yet read, over all partitions.
  package var lag: Int {
    var sum = 0
    for s in sources {
      for (k, part) in s.partitions.enumerated() { sum += max(0, log.partitions[part].end - s.positions[k]) }
    }
    return sum
  }
}
