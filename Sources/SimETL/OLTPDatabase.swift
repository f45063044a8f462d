import SimKernel
import SimPlatform

/// The OLTP database: a primary that takes transactions and read replicas that apply its
/// writes, each on its host's cores and first disk (InnoDB's mechanisms, MySQL's defaults).
///
/// A transaction takes a connection (one beyond `connections` is refused), runs its CPU on one
/// core of the primary (processor sharing over the host's cores with everything else on it,
/// the extraction included), reads the pages it touches that miss the buffer pool (each a
/// `page_size` read), and, if it writes, commits: its redo is flushed with every commit waiting
/// at that moment (group commit) before it returns (`flush_log_at_trx_commit: 1`), or written to
/// the OS and flushed once a second (2). A database host's disk serves `io_depth` requests at
/// once, FIFO, each its positioning time (the platform's `disk_latency`) and its bytes at the
/// disk's bandwidth: a spinning disk's head is what a scan and the transactions' page reads
/// contend for. A committed write reaches each replica after the network latency, where one of
/// `replica_parallel_workers` repeats its work (CPU, misses, a group-committed flush); the lag
/// is from the primary's commit to the replica's.
final class OLTPDatabase: EventHandler, ActivityObserver {
  enum Kind: Int32 {
    case arrival = 0
    case flushTick = 1
    case applyArrives = 2  // payload: apply slot
  }

  enum Purpose: Int64 {
    case cpu = 1  // id: transaction slot
    case pageRead = 2  // id: transaction slot
    case flush = 3  // id: database host (0 primary, 1... replicas)
    case disk = 4  // id: the request's owner tag (extraction reads)
    case applyCPU = 5  // id: apply slot
    case applyRead = 6  // id: apply slot
    case backgroundFlush = 7  // id: database host (flush_log_at_trx_commit: 2)
  }

  /// A disk request waiting for its host's disk.
  struct Request {
    var bytes: Double
    var write: Bool
    var tag: Int64
  }

  /// One database host's disk queue and redo log.
  struct Node {
    var host: HostID
    var queue = RingBuffer<Request>()
    var inFlight = 0
    /// Commits waiting for the next flush and those the flush in progress covers.
    var waiting: [Int32] = []
    var flushing: [Int32] = []
    var isFlushing = false
    /// Redo written to the OS and not yet flushed (flush_log_at_trx_commit: 2).
    var unflushed = 0.0
    // A replica's appliers.
    var busyWorkers = 0
    var applyQueue = RingBuffer<Int32>()
  }

  struct Transaction {
    var start: SimTime
    var misses = 0
    var write = false
    var counted = false
    var duringExtraction = false
    /// For an apply: the replica and the primary's commit time.
    var node = 0
  }

  let p: ETLParameters
  unowned let platform: Platform
  unowned let simulator: Simulator
  var me = EntityID(0)
  let warmup: SimTime
  let arrivalStream: RandomStream
  let cpuStream: RandomStream
  let missStream: RandomStream
  var nodes: [Node]
  var transactions: [Transaction] = []
  var free: [Int32] = []
  var applies: [Transaction] = []
  var freeApplies: [Int32] = []
  var active = 0
  /// Redo bytes a write transaction commits: its inserted rows.
  let redoBytes: Double
  /// Rows of the extracted table on each node (the primary's at commit, a replica's at apply),
  /// and rows the primary has written to its binlog.
  var rows: [Double]
  /// Whether an extraction is reading from each node, and who hears of its reads.
  var extracting = false
  var onRead: ((Int64) -> Void)?
  // Statistics, after the warm-up.
  var latency = LatencyHistogram()
  var latencyExtracting = LatencyHistogram()
  var latencyQuiet = LatencyHistogram()
  var intervalLatency = LatencyHistogram()
  var lag = LatencyHistogram()
  var intervalLag = LatencyHistogram()
  var offered = 0
  var committed = 0
  var rejected = 0
  var failed = 0
  var applyFailed = 0
  var pageReads = 0
  var flushes = 0

  init(parameters: ETLParameters, rowBytes: Double, platform: Platform, simulator: Simulator, context: RunContext) {
    p = parameters
    self.platform = platform
    self.simulator = simulator
    warmup = context.warmup
    arrivalStream = context.streams.stream("etl.oltp.arrivals")
    cpuStream = context.streams.stream("etl.oltp.cpu")
    missStream = context.streams.stream("etl.oltp.misses")
    nodes = [Node(host: parameters.primary)] + (0..<parameters.replicas).map { Node(host: parameters.replica($0)) }
    redoBytes = Double(parameters.oltp.insertedRows) * rowBytes
    rows = Array(repeating: parameters.oltp.tableRows, count: nodes.count)
    me = simulator.register(self)
    platform.assignRole("oltp_primary", hosts: [parameters.primary])
    if parameters.replicas > 0 {
      platform.assignRole("oltp_replica", hosts: (0..<parameters.replicas).map(parameters.replica))
    }
    scheduleArrival()
    if parameters.oltp.flushAtCommit == 2 {
      simulator.schedule(after: .seconds(1), to: me, kind: Kind.flushTick.rawValue)
    }
  }

  func tag(_ purpose: Purpose, _ id: Int64) -> Int64 { purpose.rawValue << 56 | id }

  func scheduleArrival() {
    simulator.schedule(
      after: SimTime(seconds: arrivalStream.exponential(mean: 1 / p.oltp.rate)), to: me, kind: Kind.arrival.rawValue)
  }

  func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .arrival:
      scheduleArrival()
      arrive()
    case .flushTick:
      simulator.schedule(after: .seconds(1), to: me, kind: Kind.flushTick.rawValue)
      for n in nodes.indices where nodes[n].unflushed > 0 {
        let bytes = nodes[n].unflushed
        nodes[n].unflushed = 0
        submit(on: n, Request(bytes: bytes, write: true, tag: tag(.backgroundFlush, Int64(n))))
      }
    case .applyArrives: applyArrives(Int32(event.payload))
    case nil: preconditionFailure("unknown OLTP event")
    }
  }

  // MARK: Transactions

  func arrive() {
    let now = simulator.now
    let counted = now >= warmup
    if counted { offered += 1 }
    guard active < p.oltp.connections, platform.isUp(p.primary) else {
      if counted { rejected += 1 }
      return
    }
    active += 1
    let t = Transaction(
      start: now, write: arrivalStream.uniform() < p.oltp.writeFraction, counted: counted,
      duringExtraction: extracting)
    let slot = transactions.store(t, reusing: &free)
    platform.compute(
      work: max(0, p.oltp.cpu.sample(cpuStream)), host: p.primary, observer: self, tag: tag(.cpu, Int64(slot)))
  }

  /// Misses among the pages a transaction touches: a Bernoulli trial per page.
  func drawMisses() -> Int {
    var misses = 0
    let miss = 1 - p.oltp.hitRatio
    if miss > 0 { for _ in 0..<p.oltp.pages where missStream.uniform() < miss { misses += 1 } }
    return misses
  }

  /// The transaction's next page read, or its commit.
  func proceed(_ slot: Int32) {
    if transactions[Int(slot)].misses > 0 {
      transactions[Int(slot)].misses -= 1
      if transactions[Int(slot)].counted { pageReads += 1 }
      submit(on: 0, Request(bytes: p.oltp.pageSize, write: false, tag: tag(.pageRead, Int64(slot))))
    } else if transactions[Int(slot)].write {
      commit(slot, on: 0)
    } else {
      end(slot, ok: true)
    }
  }

  func commit(_ slot: Int32, on n: Int) {
    if p.oltp.flushAtCommit == 2 {
      nodes[n].unflushed += redoBytes
      committedOn(n, slot)
      return
    }
    nodes[n].waiting.append(slot)
    if !nodes[n].isFlushing { startFlush(n) }
  }

  /// Group commit: one redo write for every commit waiting.
  func startFlush(_ n: Int) {
    nodes[n].isFlushing = true
    let waiting = nodes[n].waiting
    nodes[n].waiting = nodes[n].flushing
    nodes[n].waiting.removeAll(keepingCapacity: true)
    nodes[n].flushing = waiting
    if simulator.now >= warmup { flushes += 1 }
    submit(
      on: n,
      Request(bytes: max(512, Double(nodes[n].flushing.count) * redoBytes), write: true, tag: tag(.flush, Int64(n))))
  }

  func flushed(_ n: Int) {
    let done = nodes[n].flushing
    nodes[n].flushing.removeAll(keepingCapacity: true)
    nodes[n].isFlushing = false
    for slot in done { committedOn(n, slot) }
    if !nodes[n].waiting.isEmpty { startFlush(n) }
  }

  func committedOn(_ n: Int, _ slot: Int32) {
    if n == 0 {
      rows[0] += Double(p.oltp.insertedRows)
      end(slot, ok: true)
    } else {
      applied(slot)
    }
  }

  func end(_ slot: Int32, ok: Bool) {
    let t = transactions[Int(slot)]
    active -= 1
    free.append(slot)
    if t.counted {
      if ok {
        committed += 1
        let seconds = simulator.now - t.start
        latency.record(seconds)
        intervalLatency.record(seconds)
        if t.duringExtraction { latencyExtracting.record(seconds) } else { latencyQuiet.record(seconds) }
      } else {
        failed += 1
      }
    }
    if ok && t.write {
      for r in 1..<nodes.count { ship(to: r, committedAt: simulator.now) }
    }
  }

  // MARK: Replicas

  func ship(to replica: Int, committedAt time: SimTime) {
    let a = Transaction(start: time, write: true, node: replica)
    let slot = applies.store(a, reusing: &freeApplies)
    simulator.schedule(
      after: platform.latency(from: p.primary, to: nodes[replica].host), to: me, kind: Kind.applyArrives.rawValue,
      payload: Int64(slot))
  }

  func applyArrives(_ slot: Int32) {
    let n = applies[Int(slot)].node
    if nodes[n].busyWorkers < p.oltp.replicaWorkers {
      startApply(slot)
    } else {
      nodes[n].applyQueue.append(slot)
    }
  }

  /// A replica's worker repeats the write: its CPU, its misses, its commit.
  func startApply(_ slot: Int32) {
    let n = applies[Int(slot)].node
    nodes[n].busyWorkers += 1
    platform.compute(
      work: max(0, p.oltp.cpu.sample(cpuStream)), host: nodes[n].host, observer: self,
      tag: tag(.applyCPU, Int64(slot)))
  }

  func proceedApply(_ slot: Int32) {
    let n = applies[Int(slot)].node
    if applies[Int(slot)].misses > 0 {
      applies[Int(slot)].misses -= 1
      submit(on: n, Request(bytes: p.oltp.pageSize, write: false, tag: tag(.applyRead, Int64(slot))))
    } else {
      commit(slot, on: n)
    }
  }

  func applied(_ slot: Int32) {
    let a = applies[Int(slot)]
    endApply(slot)
    rows[a.node] += Double(p.oltp.insertedRows)
    if a.start >= warmup {
      lag.record(simulator.now - a.start)
      intervalLag.record(simulator.now - a.start)
    }
  }

  func endApply(_ slot: Int32) {
    let n = applies[Int(slot)].node
    freeApplies.append(slot)
    nodes[n].busyWorkers -= 1
    if let next = nodes[n].applyQueue.popFirst() { startApply(next) }
  }

  // MARK: Disks

  /// A disk request on node `n`'s first disk: served at once if fewer than io_depth are, else queued.
  func submit(on n: Int, _ request: Request) {
    if nodes[n].inFlight < p.oltp.ioDepth {
      issue(on: n, request)
    } else {
      nodes[n].queue.append(request)
    }
  }

  func issue(on n: Int, _ request: Request) {
    nodes[n].inFlight += 1
    platform.diskIO(bytes: request.bytes, write: request.write, host: nodes[n].host, observer: self, tag: request.tag)
  }

  /// The extraction's read of `bytes` from node `n` (0 primary, 1 the first replica); `owner`
  /// comes back through `onRead`.
  func extractionRead(bytes: Double, from n: Int, owner: Int64) {
    submit(on: n, Request(bytes: bytes, write: false, tag: tag(.disk, Int64(n) << 40 | owner)))
  }

  /// Which node a finished disk request was on.
  func node(of tag: Int64) -> Int? {
    let id = tag & 0x00FF_FFFF_FFFF_FFFF
    switch Purpose(rawValue: tag >> 56) {
    case .pageRead: return 0
    case .flush, .backgroundFlush: return Int(id)
    case .disk: return Int(id >> 40)
    case .applyRead: return applies[Int(id)].node
    default: return nil
    }
  }

  func diskDone(_ tag: Int64) {
    guard let n = node(of: tag) else { return }
    nodes[n].inFlight -= 1
    if let next = nodes[n].queue.popFirst() { issue(on: n, next) }
  }

  func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    let raw = tag & 0x00FF_FFFF_FFFF_FFFF
    let id = Int32(truncatingIfNeeded: raw)
    switch Purpose(rawValue: tag >> 56) {
    case .cpu:
      transactions[Int(id)].misses = drawMisses()
      proceed(id)
    case .pageRead:
      diskDone(tag)
      proceed(id)
    case .flush:
      diskDone(tag)
      flushed(Int(raw))
    case .backgroundFlush: diskDone(tag)
    case .disk:
      diskDone(tag)
      onRead?(raw & 0xFF_FFFF_FFFF)
    case .applyCPU:
      applies[Int(id)].misses = drawMisses()
      proceedApply(id)
    case .applyRead:
      diskDone(tag)
      proceedApply(id)
    case nil: preconditionFailure("unknown OLTP activity")
    }
  }

  /// The host (or its disk) died under it: a transaction fails; an apply is lost (the replica
  /// falls behind for good); the extraction hears of a read as done (its mapper retries it).
  func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    let raw = tag & 0x00FF_FFFF_FFFF_FFFF
    let id = Int32(truncatingIfNeeded: raw)
    switch Purpose(rawValue: tag >> 56) {
    case .cpu: end(id, ok: false)
    case .pageRead:
      diskDone(tag)
      end(id, ok: false)
    case .backgroundFlush: diskDone(tag)
    case .flush:
      diskDone(tag)
      do {
        let n = Int(raw)
        let lost = nodes[n].flushing
        nodes[n].flushing.removeAll(keepingCapacity: true)
        nodes[n].isFlushing = false
        for slot in lost {
          if n == 0 {
            end(slot, ok: false)
          } else {
            applyFailed += 1
            endApply(slot)
          }
        }
        if !nodes[n].waiting.isEmpty { startFlush(n) }
      }
    case .disk:
      diskDone(tag)
      onFailedRead?(raw & 0xFF_FFFF_FFFF)
    case .applyCPU, .applyRead:
      if Purpose(rawValue: tag >> 56) == .applyRead { diskDone(tag) }
      applyFailed += 1
      endApply(id)
    case nil: break
    }
  }

  var onFailedRead: ((Int64) -> Void)?
}
