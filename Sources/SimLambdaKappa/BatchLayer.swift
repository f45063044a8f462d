import SimHDFS
import SimKernel
import SimMapReduce
import SimModel
import SimPlatform
import SimSpark
import SimStream

/// Lambda's batch layer: the master dataset in HDFS, fed by a loader from the log, and a
/// MapReduce job (or a one-pass Spark application) every `period` that recomputes the batch
/// view from all of it.
///
/// The loader (Camus, a Kafka Connect HDFS sink) reads every partition's new records each
/// `loader_interval` and writes them as a file (pipelines to placed DataNodes); once written,
/// they are in the master dataset. A run starts at each period (or at once when the last ran
/// over), takes the master dataset as it is, and runs the MapReduce (or Spark) model's job over
/// all its blocks; its view counts every event in it with event time before the cutoff: the last
/// window boundary before the loader's last read less the speed layer's allowance for late
/// events (`max_out_of_orderness` + `allowed_lateness`). Events later than that are missed
/// until the next run, as the speed layer drops them. A finished view is bulk loaded into the store and swapped in.
final class BatchLayer: EventHandler, ActivityObserver {
  enum Kind: Int32 {
    case run = 0
    case load = 1
    case retryBlock = 2  // payload: block
    case retryView = 3  // payload: store host
  }

  enum Purpose: Int64 {
    case block = 1
    case view = 2
  }

  let p: LambdaKappaParameters
  let hdfs: HDFSCluster
  unowned let log: EventLog
  unowned let store: ServingStore
  unowned let platform: Platform
  unowned let simulator: Simulator
  let context: RunContext
  var me = EntityID(0)
  let keepBelow: Int
  let windowSize: Int64
  // The loader.
  var positions: [Int]
  /// Events in the master dataset by bucket of event time and key (flat, like the log's truth).
  var stored: [Int32] = []
  var loaded: Int64 = 0
  var loading: (readAt: Int64, counts: [Int: Int32], blocks: Int)?
  var blocks: [Int64: (size: Double, targets: [Int32], volumes: [UInt8])] = [:]
  var nextBlock: Int64 = 0
  var loaderBytes = 0.0
  // Runs.
  var job: (any BatchJob)?
  /// The last run's job once it has ended: retired when the next one ends (not from inside its
  /// own callback), so the layer holds at most one job that is over.
  var lastJob: (any BatchJob)?
  var run = 0
  var runStart = SimTime.zero
  var due = false
  var view: (counts: [Int], cutoff: Int64)?
  var viewParts = 0
  var runSeconds = RunningStatistics()
  var runsFailed = 0
  var viewsLoaded = 0
  var inputBytes = RunningStatistics()
  var cpuWork = 0.0
  var bytesRead = 0.0

  init(
    parameters: LambdaKappaParameters, log: EventLog, store: ServingStore, platform: Platform, simulator: Simulator,
    context: RunContext
  ) {
    p = parameters
    self.log = log
    self.store = store
    self.platform = platform
    self.simulator = simulator
    self.context = context
    hdfs = HDFSCluster(parameters: parameters.batch.hdfs, platform: platform, simulator: simulator, context: context)
    keepBelow = Int((parameters.stream.job.keepKeys * Double(log.events.keys)).rounded())
    windowSize = parameters.stream.job.windowSize.nanoseconds
    positions = log.partitions.map(\.history)
    me = simulator.register(self)
    log.floors.append { [unowned self] part in self.positions[part] }
    simulator.schedule(after: parameters.loaderInterval, to: me, kind: Kind.load.rawValue)
    simulator.schedule(after: parameters.batchPeriod, to: me, kind: Kind.run.rawValue)
  }

  func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .load:
      simulator.schedule(after: p.loaderInterval, to: me, kind: Kind.load.rawValue)
      if loading == nil { loadNew() }
    case .run:
      simulator.schedule(after: p.batchPeriod, to: me, kind: Kind.run.rawValue)
      if job == nil { startRun() } else { due = true }
    case .retryBlock:
      if let block = blocks[event.payload] { writeBlock(id: event.payload, size: block.size) }
    case .retryView: loadView(on: Int(event.payload))
    case nil: preconditionFailure("unknown batch layer event")
    }
  }

  // MARK: The loader

  /// Every partition's new records into one file in HDFS.
  func loadNew() {
    let now = simulator.now.nanoseconds
    var counts: [Int: Int32] = [:]
    var records = 0
    for part in log.partitions.indices {
      let partition = log.partitions[part]
      for i in (positions[part] - partition.firstStored)..<partition.eventTimes.count {
        let slot = Int(partition.eventTimes[i] / log.bucket) * log.events.keys + Int(partition.keys[i])
        counts[slot, default: 0] += 1
      }
      records += partition.end - positions[part]
      positions[part] = partition.end
    }
    guard records > 0 else {
      loaded = now
      return
    }
    var left = Double(records) * log.events.size
    loaderBytes += left
    var count = 0
    while left > 0 {
      let size = min(left, p.batch.hdfs.blockSize)
      left -= size
      count += 1
      writeBlock(id: nextBlock, size: size)
      nextBlock += 1
    }
    loading = (now, counts, count)
  }

  /// A block through a pipeline from a broker (the loader runs there) to its DataNodes.
  func writeBlock(id: Int64, size: Double) {
    let writer = log.hosts.brokers[Int(id) % log.hosts.brokers.count]
    let targets = hdfs.place(replicas: p.batch.hdfs.replication, existing: [], writer: writer)
    // Each DataNode's next volume (placement only picks DataNodes with one left).
    let volumes = targets.map { hdfs.newVolume(on: $0) ?? 0 }
    blocks[id] = (size, targets, volumes)
    guard !targets.isEmpty else {
      simulator.schedule(after: .seconds(1), to: me, kind: Kind.retryBlock.rawValue, payload: id)
      return
    }
    platform.pipeline(
      bytes: size, hosts: [HostID(writer)] + targets.map { hdfs.host($0) }, readDisk: false, writeDisks: true,
      disks: [0] + volumes.map { Int($0) }, observer: self, tag: Purpose.block.rawValue << 56 | id)
  }

  func blockWritten(_ id: Int64) {
    guard let block = blocks.removeValue(forKey: id), var batch = loading else { return }
    hdfs.addBlock(size: block.size, replicas: block.targets, volumes: block.volumes)
    batch.blocks -= 1
    loading = batch
    guard batch.blocks == 0 else { return }
    for (slot, n) in batch.counts.sorted(by: { $0.key < $1.key }) {
      while stored.count <= slot { stored.append(contentsOf: repeatElement(0, count: log.events.keys)) }
      stored[slot] += n
    }
    loaded = batch.readAt
    loading = nil
  }

  // MARK: Runs

  func startRun() {
    due = false
    guard !hdfs.blocks.isEmpty else { return }
    run += 1
    runStart = simulator.now
    // The view this run will publish: the master dataset as it is now, up to the cutoff.
    // Windows the speed layer would call complete: the loader's last read less the watermark's
    // allowance for late events (those later still are missed until the next run).
    let allowance = p.stream.job.maxOutOfOrderness.nanoseconds + p.stream.job.allowedLateness.nanoseconds
    let cutoff = max(0, (loaded - allowance) / windowSize * windowSize)
    var counts = store.truthBase(before: 0)
    let buckets = min(Int(cutoff / log.bucket), stored.count / log.events.keys)
    for b in 0..<buckets {
      for k in 0..<keepBelow { counts[k] += Int(stored[b * log.events.keys + k]) }
    }
    view = (counts, cutoff)
    inputBytes.add(hdfs.blocks.reduce(0) { $0 + $1.size })
    let job: any BatchJob
    switch p.batchEngine {
    case .mapreduce:
      job = MapReduceJob(parameters: p.batch, hdfs: hdfs, platform: platform, simulator: simulator, context: context)
    case .spark:
      job = SparkJob(
        parameters: p.spark, hdfs: hdfs, platform: platform, simulator: simulator, streams: context.streams)
    }
    job.onEnd = { [unowned self] ok in self.ended(ok) }
    self.job = job
  }

  func ended(_ ok: Bool) {
    guard let job else { return }
    self.job = nil
    lastJob?.retire()
    lastJob = job
    runSeconds.add((simulator.now - runStart).seconds)
    cpuWork += job.cpuWork
    bytesRead += job.bytesRead
    if ok && !p.failRuns.contains(run) {
      // Bulk load: the view's file from HDFS to every store host, then the swap.
      viewParts = store.hosts.count
      for i in store.hosts.indices { loadView(on: i) }
    } else {
      runsFailed += 1
      view = nil
    }
    if due { startRun() }
  }

  /// The view's share of a store host (16 bytes a key), from a live DataNode.
  func loadView(on i: Int) {
    let source = (0..<Int32(p.batch.hdfs.datanodes)).map { hdfs.host($0) }.first { platform.isUp($0) } ?? hdfs.host(0)
    platform.transfer(
      bytes: Double(log.events.keys) * 16 / Double(store.hosts.count), from: source, to: HostID(store.hosts[i]),
      observer: self, tag: Purpose.view.rawValue << 56 | Int64(i))
  }

  func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    switch Purpose(rawValue: tag >> 56) {
    case .block: blockWritten(tag & 0xFF_FFFF_FFFF_FFFF)
    case .view:
      viewParts -= 1
      if viewParts == 0, let view {
        store.loadBatchView(view.counts, cutoff: view.cutoff)
        viewsLoaded += 1
        self.view = nil
      }
    case nil: preconditionFailure("unknown batch layer activity")
    }
  }

  /// A host on the way is down: the block (placed again) or the view load is tried again a
  /// second later.
  func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    switch Purpose(rawValue: tag >> 56) {
    case .block:
      simulator.schedule(
        after: .seconds(1), to: me, kind: Kind.retryBlock.rawValue, payload: tag & 0xFF_FFFF_FFFF_FFFF)
    case .view:
      simulator.schedule(
        after: .seconds(1), to: me, kind: Kind.retryView.rawValue, payload: tag & 0xFF_FFFF_FFFF_FFFF)
    case nil: break
    }
  }
}
