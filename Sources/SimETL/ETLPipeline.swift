import SimHDFS
import SimKernel
import SimMapReduce
import SimModel
import SimPlatform
import SimSpark

/// The ETL runs: extraction from the OLTP, staging in HDFS, the transform job, the load.
///
/// A run starts on its schedule (or when the run before ends, if that ran over). Its snapshot
/// is the source's table as it is then: the rows it adds to the store are those the source has
/// committed since the last run's snapshot (a full extraction reads every row to find them; an
/// incremental one reads only them, by an index on their timestamp; CDC reads them from the
/// binlog every `cdc_interval`). `mappers` split the rows read by key range; each mapper, a map
/// task on a DataNode, reads a `chunk` at a time from the source's disk (queued with the
/// transactions' page reads), spends `cpu_per_byte` of the source's CPU on it, and streams it
/// to HDFS through a write pipeline (the source, its DataNode, the block's other replicas)
/// while it reads the next chunk. Staged, the blocks are the input of the MapReduce (or Spark)
/// model's job; its output is loaded into the warehouse: every DataNode sends its share to every
/// warehouse node, which encodes it into columns (`load_cpu_per_byte`) and writes the encoded
/// bytes; then the rows are queryable and the staging area is emptied. Into a lake, staged files
/// are the load (schema-on-read: no transform). Without staging, mappers write straight to the
/// warehouse nodes, which then transform and encode (ELT). CDC micro-batches skip the batch job:
/// the DataNode transforms its batch as it forwards it.
final class ETLPipeline: EventHandler, ActivityObserver {
  enum Kind: Int32 {
    case due = 0
    case cdcTick = 1
    case retryMapper = 2  // payload: mapper
    case transformed = 3  // payload: 1 done, 0 failed
  }

  enum Purpose: Int64 {
    case send = 1  // id: mapper
    case compute = 2  // id: mapper
    case part = 3  // id: load part << 2 | step
  }

  enum Stage { case idle, extracting, transforming, loading }

  struct Mapper {
    var left = 0.0
    var reading = false
    var ready = 0.0
    var sending = 0.0
    /// The HDFS block being written: its DataNodes, volumes and bytes so far.
    var targets: [Int32] = []
    var volumes: [UInt8] = []
    var blockBytes = 0.0
    var dataNode: Int32 = 0
    var done: Bool { left <= 0 && !reading && ready == 0 && sending == 0 }
  }

  let p: ETLParameters
  unowned let platform: Platform
  unowned let simulator: Simulator
  unowned let db: OLTPDatabase
  unowned let analytics: AnalyticsEngine
  let context: RunContext
  let hdfs: HDFSCluster
  var me = EntityID(0)
  let warmup: SimTime
  let sourceNode: Int
  let rowBytes: Double
  // The run in progress.
  var stage = Stage.idle
  var due = false
  var dueAt = SimTime.zero
  var scheduled = SimTime.zero
  var stageStart = SimTime.zero
  var snapshot = SimTime.zero
  var snapshotRows = 0.0
  var newRows = 0.0
  var mappers: [Mapper] = []
  var extractedThisRun = 0.0
  var parts = 0
  var partBytes = 0.0
  var job: (any BatchJob)?
  /// Rows of the source's table the store holds (the last run's snapshot).
  var watermark: Double
  // Freshness: the store holds the source as of `asOf`.
  var asOf: SimTime
  var ageArea = 0.0
  var ageFrom: SimTime
  var ageMax = 0.0
  // Statistics (runs that start after the warm-up).
  var runs = 0
  var runsFailed = 0
  var runsRefused = 0
  var runsLate = 0
  var windowMissed = 0
  var durations = RunningStatistics()
  var extractSeconds = RunningStatistics()
  var transformSeconds = RunningStatistics()
  var loadSeconds = RunningStatistics()
  var extractedBytes = 0.0
  var stagedBytes = 0.0
  var stagedMax = 0.0
  /// Bytes in the staging HDFS (the lake: all it holds), one copy.
  var inHDFS = 0.0
  /// Rows in the store (its initial fact rows and every load).
  var storeRows: Double
  var loadedRows = 0.0
  var loadedBytes = 0.0

  init(
    parameters: ETLParameters, db: OLTPDatabase, analytics: AnalyticsEngine, platform: Platform,
    simulator: Simulator, context: RunContext
  ) {
    p = parameters
    self.db = db
    self.analytics = analytics
    self.platform = platform
    self.simulator = simulator
    self.context = context
    warmup = context.warmup
    rowBytes = parameters.analytics.rowBytes
    sourceNode = parameters.extraction.source == .replica ? 1 : 0
    hdfs = HDFSCluster(parameters: parameters.hdfs, platform: platform, simulator: simulator, context: context)
    watermark = parameters.oltp.tableRows
    storeRows = parameters.analytics.factRows
    // The run starts in the cycle: the store holds what the last run before it extracted.
    let first: SimTime
    switch (parameters.extraction.method, parameters.schedule) {
    case (.cdc, _):
      first = parameters.extraction.cdcInterval
      asOf = .zero
    case (_, .nightly):
      first = parameters.windowStart
      asOf = SimTime(nanoseconds: parameters.windowStart.nanoseconds - 86_400_000_000_000)
    case (_, .periodic):
      first = parameters.period
      asOf = .zero
    }
    ageFrom = warmup
    mappers = Array(
      repeating: Mapper(), count: parameters.extraction.method == .cdc ? 1 : parameters.extraction.mappers)
    me = simulator.register(self)
    db.onRead = { [unowned self] owner in self.chunkRead(Int(owner)) }
    db.onFailedRead = { [unowned self] owner in self.readFailed(Int(owner)) }
    simulator.schedule(
      after: first, to: me, kind: parameters.extraction.method == .cdc ? Kind.cdcTick.rawValue : Kind.due.rawValue)
  }

  var period: SimTime {
    p.extraction.method == .cdc ? p.extraction.cdcInterval : p.schedule == .nightly ? .seconds(86_400) : p.period
  }

  func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .due, .cdcTick:
      simulator.schedule(after: period, to: me, kind: event.kind)
      if stage == .idle {
        start(scheduledAt: simulator.now)
      } else if p.extraction.method != .cdc, !due {
        // max_active_runs 1 (Airflow's default): the next run waits for this one.
        due = true
        dueAt = simulator.now
      }
    case .retryMapper:
      if event.payload < 0 {
        let retry = retryParts
        retryParts.removeAll()
        for (part, s) in retry { step(part: part, s) }
      } else {
        send(Int(event.payload))
        readNext(Int(event.payload))
      }
    case .transformed: transformed(event.payload == 1)
    case nil: preconditionFailure("unknown ETL event")
    }
  }

  // MARK: Extraction

  func start(scheduledAt time: SimTime) {
    due = false
    scheduled = time
    let now = simulator.now
    if time < now && time >= warmup { runsLate += 1 }
    stage = .extracting
    stageStart = now
    snapshot = now
    snapshotRows = db.rows[p.extraction.method == .cdc ? 0 : sourceNode]
    newRows = max(0, snapshotRows - watermark)
    let readRows: Double
    switch p.extraction.method {
    case .full: readRows = snapshotRows
    case .incremental, .cdc: readRows = newRows
    }
    extractedThisRun = readRows * rowBytes
    guard extractedThisRun > 0 else {
      finishRun()
      return
    }
    if p.extraction.staging {
      // A full extraction into the lake replaces the last snapshot's files (INSERT OVERWRITE).
      let replaces = p.analytics.store == .lake && p.extraction.method == .full
      // The staging HDFS is finite: a run whose rows do not fit its DataNodes' disks (or would
      // make more than a million blocks, the model's bound on the NameNode's objects) fails at
      // once, as an import does when the DataNodes run out of space; the rows wait for the next.
      let blocks = (extractedThisRun / p.hdfs.blockSize).rounded(.up) + Double(mappers.count)
      let held = replaces ? (bytes: 0.0, blocks: 0.0) : (bytes: inHDFS, blocks: Double(hdfs.blocks.count))
      guard held.bytes + extractedThisRun <= p.stagingCapacity,
        held.blocks + blocks <= Double(ETLParameters.maxStagedBlocks)
      else {
        if time >= warmup {
          runsFailed += 1
          runsRefused += 1
        }
        endRun(loaded: false)
        return
      }
      if replaces { emptyStaging() }
    }
    db.extracting = p.extraction.method != .cdc
    let share = extractedThisRun / Double(mappers.count)
    for k in mappers.indices {
      mappers[k] = Mapper(left: share, dataNode: Int32(k % p.datanodes))
      readNext(k)
    }
  }

  var sourceHost: HostID { p.extraction.method == .cdc ? p.primary : p.sourceHost }

  func readNext(_ k: Int) {
    guard mappers[k].left > 0, !mappers[k].reading, mappers[k].ready == 0 else { return }
    mappers[k].reading = true
    // CDC reads the binlog just written, from the page cache: no disk request, the dump
    // thread's CPU only.
    guard p.extraction.method != .cdc else {
      chunkRead(k)
      return
    }
    db.extractionRead(
      bytes: min(mappers[k].left, p.extraction.chunk), from: p.extraction.method == .cdc ? 0 : sourceNode,
      owner: Int64(k))
  }

  /// A chunk is off the disk: the source's CPU turns it into rows to send.
  func chunkRead(_ k: Int) {
    let bytes = min(mappers[k].left, p.extraction.chunk)
    mappers[k].left -= bytes
    mappers[k].ready = bytes
    platform.compute(
      work: bytes * p.extraction.cpuPerByte, host: sourceHost, observer: self,
      tag: Purpose.compute.rawValue << 56 | Int64(k))
  }

  func readFailed(_ k: Int) {
    mappers[k].reading = false
    simulator.schedule(after: .seconds(1), to: me, kind: Kind.retryMapper.rawValue, payload: Int64(k))
  }

  /// Rows ready: sent as soon as the send before is done; the next chunk is read meanwhile.
  func rowsReady(_ k: Int) {
    mappers[k].reading = false
    send(k)
  }

  func send(_ k: Int) {
    guard mappers[k].sending == 0, mappers[k].ready > 0 else { return }
    let bytes = mappers[k].ready
    if p.extraction.staging {
      if mappers[k].targets.isEmpty {
        let writer = hdfs.host(mappers[k].dataNode).index
        let targets = hdfs.place(replicas: p.hdfs.replication, existing: [], writer: writer)
        guard !targets.isEmpty else {
          simulator.schedule(after: .seconds(1), to: me, kind: Kind.retryMapper.rawValue, payload: Int64(k))
          return
        }
        mappers[k].targets = targets
        mappers[k].volumes = targets.map { hdfs.newVolume(on: $0) ?? 0 }
      }
      mappers[k].ready = 0
      mappers[k].sending = bytes
      platform.pipeline(
        bytes: bytes, hosts: [sourceHost] + mappers[k].targets.map { hdfs.host($0) }, readDisk: false,
        writeDisks: true, disks: [0] + mappers[k].volumes.map { Int($0) }, observer: self,
        tag: Purpose.send.rawValue << 56 | Int64(k))
    } else {
      mappers[k].ready = 0
      mappers[k].sending = bytes
      let warehouse = p.warehouseHosts[k % p.warehouseNodes]
      platform.pipeline(
        bytes: bytes, hosts: [sourceHost, warehouse], readDisk: false, writeDisks: true, observer: self,
        tag: Purpose.send.rawValue << 56 | Int64(k))
    }
    readNext(k)
  }

  func sent(_ k: Int) {
    let bytes = mappers[k].sending
    mappers[k].sending = 0
    extractedBytes += bytes
    if p.extraction.staging {
      mappers[k].blockBytes += bytes
      if mappers[k].blockBytes >= p.hdfs.blockSize || (mappers[k].left <= 0 && mappers[k].ready == 0) {
        closeBlock(k)
      }
    }
    send(k)
    readNext(k)
    if mappers.allSatisfy(\.done) { extracted() }
  }

  func closeBlock(_ k: Int) {
    guard mappers[k].blockBytes > 0 else { return }
    hdfs.addBlock(size: mappers[k].blockBytes, replicas: mappers[k].targets, volumes: mappers[k].volumes)
    stagedBytes += mappers[k].blockBytes
    inHDFS += mappers[k].blockBytes
    stagedMax = max(stagedMax, inHDFS)
    mappers[k].blockBytes = 0
    mappers[k].targets = []
    mappers[k].volumes = []
  }

  func extracted() {
    db.extracting = false
    if scheduled >= warmup { extractSeconds.add((simulator.now - stageStart).seconds) }
    stageStart = simulator.now
    if !p.extraction.staging {
      // ELT: the warehouse transforms and encodes what landed on it.
      load(bytes: extractedThisRun, fromDataNodes: false)
    } else if p.analytics.store == .lake {
      finishRun()
    } else if p.extraction.method == .cdc {
      load(bytes: extractedThisRun * p.outputRatio, fromDataNodes: true)
    } else {
      stage = .transforming
      let job: any BatchJob
      switch p.engine {
      case .mapreduce:
        job = MapReduceJob(
          parameters: p.mapReduce, hdfs: hdfs, platform: platform, simulator: simulator, context: context)
      case .spark:
        job = SparkJob(
          parameters: p.spark, hdfs: hdfs, platform: platform, simulator: simulator, streams: context.streams)
      }
      job.onEnd = { [unowned self] ok in self.transformEnded(ok) }
      self.job = job
    }
  }

  /// The job's end, heard from inside it: handled at the same instant from the pipeline's own
  /// event, where the job can be retired (its tasks still running, after a failure, end unheard
  /// rather than read the staging files the pipeline deletes).
  func transformEnded(_ ok: Bool) {
    simulator.schedule(after: .zero, to: me, kind: Kind.transformed.rawValue, payload: ok ? 1 : 0)
  }

  func transformed(_ ok: Bool) {
    guard let ended = job else { return }  // a job that reported its end twice
    ended.retire()
    job = nil
    if scheduled >= warmup { transformSeconds.add((simulator.now - stageStart).seconds) }
    stageStart = simulator.now
    guard ok else {
      if scheduled >= warmup { runsFailed += 1 }
      emptyStaging()
      endRun(loaded: false)
      return
    }
    load(bytes: extractedThisRun * p.outputRatio, fromDataNodes: true)
  }

  // MARK: Load

  /// Every DataNode's share to every warehouse node (or, ELT, what each warehouse node holds):
  /// sent, encoded (and, ELT or CDC, transformed first), written.
  func load(bytes: Double, fromDataNodes: Bool) {
    stage = .loading
    let senders = fromDataNodes ? p.datanodes : 1
    parts = senders * p.warehouseNodes
    partBytes = bytes / Double(parts)
    for i in 0..<parts { step(part: i, 0) }
  }

  /// Step 0: the CDC batch's transform on its DataNode, 1: the send, 2: the encoding (ELT: and
  /// the transform) on the warehouse node, 3: the write of the encoded bytes.
  func step(part i: Int, _ step: Int) {
    let warehouse = p.warehouseHosts[i % p.warehouseNodes]
    let tag = Purpose.part.rawValue << 56 | Int64(i) << 2 | Int64(step)
    switch step {
    case 0:
      if p.extraction.method == .cdc && p.extraction.staging {
        computeOnCores(work: partBytes * p.transformCost, host: dataNode(ofPart: i), tag: tag)
      } else {
        self.step(part: i, 1)
      }
    case 1:
      if p.extraction.staging {
        platform.pipeline(
          bytes: partBytes, hosts: [dataNode(ofPart: i), warehouse], readDisk: true, writeDisks: false, observer: self,
          tag: tag)
      } else {
        self.step(part: i, 2)
      }
    case 2:
      let cost = p.loadCost + (p.extraction.staging ? 0 : p.transformCost)
      computeOnCores(work: partBytes * cost, host: warehouse, tag: tag)
    default:
      // The store's encoded bytes per raw byte (its columns, compressed).
      let encoded = partBytes * analytics.storedBytes / max(1, storeRows * rowBytes)
      platform.diskIO(bytes: encoded, write: true, host: warehouse, observer: self, tag: tag)
    }
  }

  /// A load part's DataNode, or the next live one (the output has replicas there).
  func dataNode(ofPart i: Int) -> HostID {
    let nominal = i / p.warehouseNodes % p.datanodes
    for k in 0..<p.datanodes where platform.isUp(p.datanodeHosts[(nominal + k) % p.datanodes]) {
      return p.datanodeHosts[(nominal + k) % p.datanodes]
    }
    return p.datanodeHosts[nominal]
  }

  /// Work spread over a host's cores (one activity per core); the tag's completion counts once
  /// all have ended.
  var coreParts: [Int64: Int] = [:]
  func computeOnCores(work: Double, host: HostID, tag: Int64) {
    coreParts[tag] = platform.computeOnAllCores(work: work, host: host, observer: self, tag: tag).count
  }

  func partDone(_ tag: Int64) {
    if let left = coreParts[tag] {
      guard left <= 1 else {
        coreParts[tag] = left - 1
        return
      }
      coreParts.removeValue(forKey: tag)
    }
    let i = Int((tag & 0x00FF_FFFF_FFFF_FFFF) >> 2)
    let s = Int(tag & 3)
    if s < 3 {
      step(part: i, s + 1)
      return
    }
    parts -= 1
    if parts == 0 {
      if scheduled >= warmup {
        loadSeconds.add((simulator.now - stageStart).seconds)
        loadedBytes += extractedThisRun * p.outputRatio
      }
      if p.extraction.staging { emptyStaging() }
      finishRun()
    }
  }

  // MARK: The end of a run

  func emptyStaging() {
    hdfs.deleteAll()
    inHDFS = 0
  }

  func finishRun() {
    analytics.loaded(rows: newRows)
    storeRows += newRows
    if scheduled >= warmup { loadedRows += newRows }
    watermark = snapshotRows
    accrueAge(to: simulator.now)
    asOf = snapshot
    endRun(loaded: true)
  }

  func endRun(loaded: Bool) {
    stage = .idle
    db.extracting = false
    if scheduled >= warmup {
      runs += 1
      let seconds = (simulator.now - scheduled).seconds
      durations.add(seconds)
      if seconds > p.window.seconds { windowMissed += 1 }
    }
    if due { start(scheduledAt: dueAt) }
  }

  /// The store's age, now - asOf, integrated from `ageFrom` (after the warm-up) to `t`.
  func accrueAge(to t: SimTime) {
    let from = max(ageFrom, warmup)
    guard t > from else { return }
    let a = (from - asOf).seconds
    let b = (t - asOf).seconds
    ageArea += (b * b - a * a) / 2
    ageMax = max(ageMax, b)
    ageFrom = t
  }

  func age(at t: SimTime) -> Double { (t - asOf).seconds }

  // MARK: Activities

  func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    let id = Int(tag & 0x00FF_FFFF_FFFF_FFFF)
    switch Purpose(rawValue: tag >> 56) {
    case .compute: rowsReady(id)
    case .send: sent(id)
    case .part: partDone(tag)
    case nil: preconditionFailure("unknown ETL activity")
    }
  }

  /// A host on the way is down: the step is tried again a second later (a send with new
  /// DataNodes).
  func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    let id = Int(tag & 0x00FF_FFFF_FFFF_FFFF)
    switch Purpose(rawValue: tag >> 56) {
    case .compute:
      // The source died with the rows: read the chunk again.
      mappers[id].left += mappers[id].ready
      mappers[id].ready = 0
      mappers[id].reading = false
      simulator.schedule(after: .seconds(1), to: me, kind: Kind.retryMapper.rawValue, payload: Int64(id))
    case .send:
      mappers[id].ready += mappers[id].sending
      mappers[id].sending = 0
      mappers[id].targets = []
      mappers[id].volumes = []
      simulator.schedule(after: .seconds(1), to: me, kind: Kind.retryMapper.rawValue, payload: Int64(id))
    case .part:
      let s = Int(tag & 3)
      if s == 0 || s == 2 {
        // A computation over the cores: retried once, when the first of them fails.
        guard coreParts.removeValue(forKey: tag) != nil else { return }
      }
      let i = Int((tag & 0x00FF_FFFF_FFFF_FFFF) >> 2)
      retryParts.append((i, s))
      simulator.schedule(after: .seconds(1), to: me, kind: Kind.retryMapper.rawValue, payload: -1)
    case nil: break
    }
  }

  var retryParts: [(part: Int, step: Int)] = []
}
