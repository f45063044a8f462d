import Foundation
import SimHDFS
import SimKernel
import SimModel
import SimPlatform

/// An iterative job over a dataset in HDFS: each iteration is a stage of one task per partition
/// (an HDFS block) on the executors' cores, then a shuffle stage (every worker gathers its share
/// of the partitions' output). The Spark engine keeps its executors and, with a cache level,
/// keeps the parsed partitions in storage memory: a later iteration's task runs where its
/// partition is cached (process-local) and skips reading and parsing; a task placed elsewhere
/// fetches the cached block from the executor holding it (BlockManager's remote get); only
/// partitions with no cached copy (never fit, or lost with their executor) are recomputed from
/// lineage (read from HDFS and parsed again). With MEMORY_AND_DISK the partitions that do not
/// fit in memory are written to the executor's local dirs, by the tasks that computed them, and
/// read back from there. As in Spark, a partition never evicts another of the same dataset, so
/// with too little memory a fixed fraction stays cached. The MapReduce engine runs each
/// iteration as a job: start-up, then every partition read and parsed from HDFS.
///
/// Tasks are placed by delay scheduling as Spark's TaskSetManager does it: pending tasks are
/// listed by executor (a cached partition), host and rack (the cache's host, or the HDFS
/// replicas' hosts) and in one list of all; an iteration's stage allows PROCESS_LOCAL launches
/// first, and moves to NODE_LOCAL, RACK_LOCAL and ANY when no task has launched at the allowed
/// level for that level's wait (`locality_wait_process`, `_node`, `_rack`), or when no task is
/// left to run at it; a launch resets the timer and brings the level back to the launched
/// task's. Every list is consumed from its end, skipping tasks that have launched, so a launch
/// costs O(1) amortised however many partitions there are.
///
/// An executor's host that dies takes its cached partitions and the shuffle output of the
/// current iteration with it: those tasks run again (from lineage) and the lost partitions are
/// cached again where they are recomputed.
package final class SparkJob: EventHandler, ActivityObserver, PlatformObserver {
  enum Kind: Int32 {
    case startIteration = 0
    case launch = 1  // payload: attempt
    case schedule = 2
    case speculate = 3
  }

  enum Source { case memory, disk, remote, lineage }
  /// Locality levels, as Spark's TaskLocality orders them; also the index into `locality`.
  static let processLocal = 0
  static let nodeLocal = 1
  static let rackLocal = 2
  static let anyLevel = 3
  /// `caching`: a partition that does not fit in storage memory written to a local dir
  /// (MEMORY_AND_DISK), by the task that computed it.
  enum Phase { case launching, reading, computing, caching, writing, done }

  struct Attempt {
    var part: Int
    var host: Int32
    var source = Source.lineage
    var phase = Phase.launching
    var activity: ActivityID?
    var live = true
    var started = SimTime.zero
    var speculativeCopy = false
  }

  let p: SparkParameters
  unowned let platform: Platform
  unowned let simulator: Simulator
  unowned let hdfs: HDFSCluster
  var me = EntityID(0)
  let workers: [Int32]
  let partitions: Int
  // Cache: where each partition is kept, in memory or on disk, and each executor's memory use.
  var cachedOn: [Int32?]
  var inMemory: [Bool]
  /// The local dir (disk) of a partition cached on disk (MEMORY_AND_DISK).
  var cacheDisk: [Int]
  var storageUsed: [Double]
  /// `spark.local.dir` over each host's disks: shuffle files and MEMORY_AND_DISK spills.
  var localDirs: LocalDirs
  // The iteration under way.
  var iteration = 0
  var iterationStart = SimTime.zero
  var isPending: [Bool]
  var pendingCount = 0
  // Delay scheduling (TaskSetManager): pending tasks by executor, host and rack, and all of them;
  // each partition's best level when it was listed, and how many pending tasks have a
  // process-local (cached on a live executor) or a node-local (a live host) preference.
  var forExecutor: [[Int]]
  var forHost: [[Int]]
  var forRack: [[Int]]
  var allPending: [Int] = []
  var preference: [Int8]
  var pendingProcessLocal = 0
  var pendingNodeLocal = 0
  /// The stage's valid levels, the current one's index, and when its wait last restarted.
  var levels: [Int] = []
  var levelIndex = 0
  var lastReset = SimTime.zero
  var timerAt: SimTime?
  /// Whether no offer has been declined for locality since the wait last restarted
  /// (TaskSchedulerImpl.noRejectsSinceLastReset; unused with `legacyLocalityReset`).
  var noDeclinesSinceReset = true
  /// The order of a revive's offers (TaskSchedulerImpl.shuffleOffers).
  let offerOrder: RandomStream
  /// When the iteration was submitted: with engine mapreduce, its job's start-up is its time.
  var submitted = SimTime.zero
  var doneOn: [Int32?]
  var doneCount = 0
  var freeCores: [Int]
  var attempts: [Attempt] = []
  /// Live attempts of each partition in this iteration (two when one is a speculative copy).
  var running: [[Int]]
  var durations: [Double] = []
  let slow: Set<Int32>
  var speculative = 0
  var speculativeWon = 0
  var failures: [Int]
  var gathers: [Int64: Double] = [:]  // gather id -> bytes
  var nextGather: Int64 = 0
  var shuffling = false
  var finished: SimTime?
  var failedJob = false
  // Statistics.
  var iterationTimes: [Double] = []
  var locality = [0, 0, 0, 0]  // process-local, node-local, rack-local, any
  var hits = 0
  var lookups = 0
  package var bytesRead = 0.0
  var shuffleBytes = 0.0
  var recomputedLost = 0
  var recomputedUncached = 0
  var remoteReads = 0
  var rerunShuffle = 0
  var series = TimeSeries()
  /// CPU work its tasks asked for: the job's cost.
  package var cpuWork = 0.0
  /// Told when the job ends (true: done, false: failed) in place of stopping the run: a job that
  /// is one part of a larger model (a Lambda architecture's batch layer).
  package var onEnd: ((Bool) -> Void)?

  package init(
    parameters: SparkParameters, hdfs: HDFSCluster, platform: Platform, simulator: Simulator, streams: RandomStreams
  ) {
    p = parameters
    offerOrder = streams.stream("spark.offers")
    self.hdfs = hdfs
    self.platform = platform
    self.simulator = simulator
    workers = (1...parameters.hdfs.datanodes).map { Int32($0) }
    platform.assignRole("executor", hosts: workers.map(HostID.init))
    partitions = hdfs.blocks.count
    cachedOn = Array(repeating: nil, count: partitions)
    inMemory = Array(repeating: false, count: partitions)
    cacheDisk = Array(repeating: 0, count: partitions)
    localDirs = LocalDirs(hosts: platform.hostCount)
    forExecutor = Array(repeating: [], count: platform.hostCount)
    forHost = Array(repeating: [], count: platform.hostCount)
    forRack = Array(
      repeating: [], count: (0..<platform.hostCount).map { platform.rack(of: HostID(Int32($0))) }.max()! + 1)
    preference = Array(repeating: Int8(SparkJob.anyLevel), count: partitions)
    storageUsed = Array(repeating: 0, count: platform.hostCount)
    isPending = Array(repeating: false, count: partitions)
    doneOn = Array(repeating: nil, count: partitions)
    failures = Array(repeating: 0, count: partitions)
    running = Array(repeating: [], count: partitions)
    slow = Set(workers.prefix(Int((parameters.slowHosts * Double(workers.count)).rounded())))
    freeCores = Array(repeating: parameters.executorCores, count: platform.hostCount)
    me = simulator.register(self)
    platform.addObserver(self)
    simulator.schedule(after: parameters.jobStartup, to: me, kind: Kind.startIteration.rawValue)
  }

  func size(_ part: Int) -> Double { hdfs.blocks[part].size }
  func replicaHosts(_ part: Int) -> [Int32] { hdfs.blocks[part].replicas.map { hdfs.host($0).index } }

  // MARK: Iterations

  package func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .startIteration: startIteration()
    case .launch: launched(event.payload)
    case .schedule:
      if event.payload == 1 { timerAt = nil }
      schedule()
    case .speculate: speculate()
    case nil: preconditionFailure("unknown spark event")
    }
  }

  /// An attempt's tag (its activities' and its launch event's): the iteration in the high half,
  /// so that nothing from an earlier iteration reaches an attempt of this one once `attempts`
  /// is emptied for the next stage.
  func tag(_ a: Int) -> Int64 { Int64(iteration) << 32 | Int64(a) }

  /// The attempt a tag names, if it is of this iteration.
  func attempt(_ tag: Int64) -> Int? {
    guard tag >> 32 == Int64(iteration) else { return nil }
    let a = Int(tag & 0xFFFF_FFFF)
    return a < attempts.count ? a : nil
  }

  func startIteration() {
    iteration += 1
    // Spark's stage starts once the application is up; a MapReduce job's time includes its
    // start-up (job setup, submission), which the user waits for in every iteration.
    iterationStart = p.engine == .mapreduce ? submitted : simulator.now
    doneCount = 0
    durations = []
    attempts.removeAll(keepingCapacity: true)
    if p.speculation { simulator.schedule(after: .milliseconds(500), to: me, kind: Kind.speculate.rawValue) }
    // A new stage: a new TaskSetManager, its lists filled so that each is taken in partition order.
    for host in forExecutor.indices {
      forExecutor[host].removeAll(keepingCapacity: true)
      forHost[host].removeAll(keepingCapacity: true)
    }
    for rack in forRack.indices { forRack[rack].removeAll(keepingCapacity: true) }
    allPending.removeAll(keepingCapacity: true)
    (pendingCount, pendingProcessLocal, pendingNodeLocal) = (0, 0, 0)
    noDeclinesSinceReset = true
    for part in (0..<partitions).reversed() {
      doneOn[part] = nil
      addPending(part)
    }
    computeLevels(keeping: nil)
    schedule()
  }

  /// The iteration's tasks are done: the shuffle stage, each worker gathering its share.
  func startShuffle() {
    shuffling = true
    let total = (0..<partitions).reduce(0.0) { $0 + size($1) } * p.costs.shuffleRatio
    let live = workers.filter { platform.isUp(HostID($0)) }
    guard !live.isEmpty else { return fail() }
    shuffleBytes += total
    for host in live {
      nextGather += 1
      gathers[nextGather] = total / Double(live.count)
      platform.gather(bytes: total / Double(live.count), to: HostID(host), observer: self, tag: -nextGather)
    }
  }

  func endIteration() {
    shuffling = false
    let seconds = (simulator.now - iterationStart).seconds
    iterationTimes.append(seconds)
    series.append(time: simulator.now, metric: "spark.iteration_seconds", value: seconds)
    if iteration == p.iterations {
      finished = simulator.now
      if let onEnd { onEnd(true) } else { simulator.stop() }
    } else {
      // The MapReduce engine submits a new job for every iteration.
      submitted = simulator.now
      simulator.schedule(
        after: p.engine == .mapreduce ? p.jobStartup : .zero, to: me, kind: Kind.startIteration.rawValue)
    }
  }

  func fail() {
    failedJob = true
    if let onEnd { onEnd(false) } else { simulator.stop() }
  }

  // MARK: Delay scheduling

  /// Lists a pending task where it prefers to run (TaskSetManager.addPendingTask): a partition
  /// cached on a live executor under that executor, its host and its rack (Spark prefers the
  /// cache's location over the input's); any other under the hosts and racks of its live HDFS
  /// replicas; every one in the list of all.
  func addPending(_ part: Int) {
    isPending[part] = true
    pendingCount += 1
    var best = SparkJob.anyLevel
    if let host = cachedOn[part], platform.isUp(HostID(host)) {
      forExecutor[Int(host)].append(part)
      forHost[Int(host)].append(part)
      forRack[platform.rack(of: HostID(host))].append(part)
      best = SparkJob.processLocal
    } else {
      var racks: [Int] = []
      for host in replicaHosts(part) where platform.isUp(HostID(host)) {
        forHost[Int(host)].append(part)
        let rack = platform.rack(of: HostID(host))
        if !racks.contains(rack) {
          racks.append(rack)
          forRack[rack].append(part)
        }
        best = SparkJob.nodeLocal
      }
    }
    allPending.append(part)
    preference[part] = Int8(best)
    count(part, 1)
  }

  /// Adds `sign` to the counts of pending tasks at the levels the partition was listed for.
  func count(_ part: Int, _ sign: Int) {
    if preference[part] == SparkJob.processLocal { pendingProcessLocal += sign }
    if preference[part] <= SparkJob.nodeLocal { pendingNodeLocal += sign }
  }

  /// The next pending task of a list, dropping the launched ones it passes.
  func pop(_ list: inout [Int]) -> Int? {
    while let part = list.popLast() {
      if isPending[part] { return part }
    }
    return nil
  }

  /// Whether some pending task could still launch at `level` (TaskSetManager.moreTasksToRunIn).
  func moreTasks(at level: Int) -> Bool {
    level == SparkJob.processLocal ? pendingProcessLocal > 0 : pendingNodeLocal > 0
  }

  /// The stage's valid levels (computeValidLocalityLevels): PROCESS_LOCAL while a pending task
  /// prefers a live executor, NODE_LOCAL and RACK_LOCAL while one prefers a live host, ANY
  /// always. `keeping`: the level to stay at when they are recomputed (an executor lost or added).
  func computeLevels(keeping level: Int?) {
    levels = []
    if pendingProcessLocal > 0 { levels.append(SparkJob.processLocal) }
    if pendingNodeLocal > 0 { levels += [SparkJob.nodeLocal, SparkJob.rackLocal] }
    levels.append(SparkJob.anyLevel)
    if let level { levelIndex = index(of: level) } else { (levelIndex, lastReset) = (0, simulator.now) }
  }

  /// The index of the first valid level at least as local as allowing `level` (getLocalityIndex).
  func index(of level: Int) -> Int { levels.firstIndex { $0 >= level } ?? levels.count - 1 }

  func wait(_ level: Int) -> SimTime {
    switch level {
    case SparkJob.processLocal: p.localityWaitProcess
    case SparkJob.nodeLocal: p.localityWaitNode
    case SparkJob.rackLocal: p.localityWaitRack
    default: .zero
    }
  }

  /// The most distant level a task may launch at now (getAllowedLocalityLevel): a level with no
  /// task left to run at it is skipped at once; one whose wait has passed since the last reset
  /// gives way to the next, the timer moving on by that wait.
  func allowedLevel() -> Int {
    let now = simulator.now
    while levelIndex < levels.count - 1 {
      let level = levels[levelIndex]
      if !moreTasks(at: level) {
        lastReset = now
        levelIndex += 1
      } else if now - lastReset >= wait(level) {
        lastReset = lastReset + wait(level)
        levelIndex += 1
      } else {
        return level
      }
    }
    return levels[levelIndex]
  }

  /// One offer of one free core of `host` at `maxLevel` (TaskSetManager.resourceOffer): the
  /// best task the allowed level permits, from the executor's list, then the host's, the rack's,
  /// all; the level it launched at, if any. With `legacyLocalityReset` a launch restarts the
  /// wait at the launched task's level; otherwise ``schedule(offering:)`` decides after the round.
  func offer(_ host: Int32, maxLevel: Int) -> Int? {
    let allowed = min(allowedLevel(), maxLevel)
    let found: (part: Int, level: Int)?
    if let part = pop(&forExecutor[Int(host)]) {
      found = (part, SparkJob.processLocal)
    } else if allowed >= SparkJob.nodeLocal, let part = pop(&forHost[Int(host)]) {
      found = (part, SparkJob.nodeLocal)
    } else if allowed >= SparkJob.rackLocal, let part = pop(&forRack[platform.rack(of: HostID(host))]) {
      found = (part, SparkJob.rackLocal)
    } else if allowed >= SparkJob.anyLevel, let part = pop(&allPending) {
      found = (part, SparkJob.anyLevel)
    } else {
      found = nil
    }
    guard let (part, level) = found else { return nil }
    isPending[part] = false
    pendingCount -= 1
    count(part, -1)
    locality[level] += 1
    if p.legacyLocalityReset {
      levelIndex = index(of: level)
      lastReset = simulator.now
    }
    launch(part, on: host)
    return level
  }

  /// Offers free cores to the pending tasks as TaskSchedulerImpl.resourceOffers does: the
  /// executors in a random order, then for each valid level in turn, rounds of one task per
  /// offered executor until a round launches nothing. `hosts`: the executors offered (a
  /// finished task offers its own; nil: all free ones, as a revive does). Without
  /// `legacyLocalityReset`, the wait restarts at the most local launched level after a round
  /// that launched and declined no executor (an executor with a free core left without a task
  /// while tasks are pending), if it was a revive or nothing was declined since the last
  /// restart; a declining round keeps the timer running. Then a timer for when the current
  /// level's wait runs out.
  func schedule(offering hosts: [Int32]? = nil) {
    guard finished == nil, !failedJob, pendingCount > 0 else { return }
    var offers = (hosts ?? workers).filter { freeCores[Int($0)] > 0 && platform.isUp(HostID($0)) }
    if offers.count > 1 {
      for k in stride(from: offers.count - 1, to: 0, by: -1) { offers.swapAt(k, offerOrder.uniformInt(k + 1)) }
    }
    let before = allowedLevel()
    var mostLocal: Int?
    var declined = false
    for maxLevel in levels {
      var launched = true
      while launched, pendingCount > 0 {
        launched = false
        for host in offers where freeCores[Int(host)] > 0 {
          if let level = offer(host, maxLevel: maxLevel) {
            launched = true
            mostLocal = min(mostLocal ?? level, level)
          } else if maxLevel == SparkJob.anyLevel {
            declined = true
          }
          if pendingCount == 0 { break }
        }
      }
    }
    if !p.legacyLocalityReset {
      if declined {
        noDeclinesSinceReset = false
      } else if let level = mostLocal, hosts == nil || noDeclinesSinceReset {
        levelIndex = index(of: level)
        lastReset = simulator.now
        noDeclinesSinceReset = true
      }
    }
    guard pendingCount > 0 else { return }
    let level = allowedLevel()
    // The last task of a level launched: the next level is allowed at once, and every free
    // core is offered to it (Spark's periodic revive would offer them within a second).
    if hosts != nil, level > before { return schedule() }
    guard levelIndex < levels.count - 1 else { return }
    let due = lastReset + wait(level)
    if due > simulator.now, timerAt != due {
      timerAt = due
      simulator.schedule(at: due, to: me, kind: Kind.schedule.rawValue, payload: 1)
    }
  }

  func launch(_ part: Int, on host: Int32) {
    freeCores[Int(host)] -= 1
    attempts.append(Attempt(part: part, host: host, started: simulator.now))
    running[part].append(attempts.count - 1)
    simulator.schedule(after: p.taskLaunch, to: me, kind: Kind.launch.rawValue, payload: tag(attempts.count - 1))
  }

  // MARK: Tasks

  func launched(_ tag: Int64) {
    guard let a = attempt(tag) else { return }
    let part = attempts[a].part
    let host = attempts[a].host
    guard attempts[a].live, platform.isUp(HostID(host)) else { return attemptFailed(a) }
    if iteration > 1 { lookups += 1 }
    if p.engine == .spark, let holder = cachedOn[part] {
      attempts[a].phase = .reading
      if holder == host {
        if iteration > 1 { hits += 1 }
        if inMemory[part] {
          attempts[a].source = .memory
          return compute(a)
        }
        attempts[a].source = .disk
        attempts[a].activity = platform.diskIO(
          bytes: size(part), write: false, host: HostID(host), disk: cacheDisk[part], observer: self,
          tag: self.tag(a))
        return
      }
      // Cached by another executor: its BlockManager sends the block (from memory, or read
      // from its local dir first); nothing read from HDFS, nothing parsed.
      remoteReads += 1
      attempts[a].source = .remote
      attempts[a].activity =
        inMemory[part]
        ? platform.transfer(
          bytes: size(part), from: HostID(holder), to: HostID(host), observer: self, tag: self.tag(a))
        : platform.pipeline(
          bytes: size(part), hosts: [HostID(holder), HostID(host)], readDisk: true, writeDisks: false,
          disks: [cacheDisk[part], 0], observer: self, tag: self.tag(a))
      return
    }
    // From lineage: read the block from HDFS and parse it. Only a partition with no cached copy
    // gets here: it never fit (or nothing is cached), or its executor was lost.
    if p.engine == .spark, iteration > 1 {
      if lostPartitions.contains(part) { recomputedLost += 1 } else { recomputedUncached += 1 }
    }
    lostPartitions.remove(part)
    attempts[a].source = .lineage
    attempts[a].phase = .reading
    let block = Int32(part)
    let replicas = hdfs.blocks[part].replicas.filter {
      platform.isUp(hdfs.host($0)) && !platform.isDiskFailed(hdfs.host($0), disk: hdfs.disk(block, on: $0))
    }
    guard !replicas.isEmpty else { return attemptFailed(a) }
    if let local = replicas.first(where: { hdfs.host($0).index == host }) {
      attempts[a].activity = platform.diskIO(
        bytes: size(part), write: false, host: HostID(host), disk: hdfs.disk(block, on: local), observer: self,
        tag: self.tag(a))
    } else {
      // The closest replica, as the HDFS client sorts them (same rack before others); among
      // equally close ones the client shuffles, here a choice that turns with the partition
      // and the iteration, so that no DataNode's disk serves every remote read.
      let rack = platform.rack(of: HostID(host))
      let near = replicas.filter { platform.rack(of: hdfs.host($0)) == rack }
      let candidates = near.isEmpty ? replicas : near
      let source = candidates[(part + iteration) % candidates.count]
      attempts[a].activity = platform.pipeline(
        bytes: size(part), hosts: [hdfs.host(source), HostID(host)], readDisk: true, writeDisks: false,
        disks: [hdfs.disk(block, on: source), 0], observer: self, tag: self.tag(a))
    }
  }

  var lostPartitions = Set<Int>()

  func compute(_ a: Int) {
    let part = attempts[a].part
    attempts[a].phase = .computing
    let parse = attempts[a].source == .lineage ? p.costs.parseCost : 0
    let factor = slow.contains(attempts[a].host) ? p.slowFactor : 1
    cpuWork += size(part) * (parse + p.costs.iterationCost) * factor
    attempts[a].activity = platform.compute(
      work: size(part) * (parse + p.costs.iterationCost) * factor, host: HostID(attempts[a].host), observer: self,
      tag: tag(a))
  }

  /// A parsed partition is kept where it was computed, if the executor's storage memory has
  /// room (it never evicts a partition of the same dataset); otherwise MEMORY_AND_DISK writes
  /// it to the executor's next local dir (the disk returned, which the task writes before it
  /// goes on) and MEMORY_ONLY drops it. A block fetched from another executor is not cached
  /// again.
  func cachePartition(_ part: Int, on host: Int32) -> Int? {
    guard p.engine == .spark, p.cache != .none, cachedOn[part] == nil else { return nil }
    let bytes = size(part) * p.memoryExpansion
    if storageUsed[Int(host)] + bytes <= p.storageMemory {
      storageUsed[Int(host)] += bytes
      cachedOn[part] = host
      inMemory[part] = true
    } else if p.cache == .memoryAndDisk, let disk = localDirs.choose(on: HostID(host), platform: platform) {
      cachedOn[part] = host
      inMemory[part] = false
      cacheDisk[part] = disk
      return disk
    }
    return nil
  }

  /// An attempt that ends before its partition is on disk leaves it uncached.
  func dropUnwritten(_ a: Int) {
    let part = attempts[a].part
    guard attempts[a].phase == .caching, cachedOn[part] == attempts[a].host, !inMemory[part] else { return }
    cachedOn[part] = nil
  }

  /// The task's shuffle file goes to the executor's next local dir.
  func writeShuffle(_ a: Int) {
    let host = attempts[a].host
    guard let disk = localDirs.choose(on: HostID(host), platform: platform) else { return attemptFailed(a) }
    let out = size(attempts[a].part) * p.costs.shuffleRatio
    attempts[a].phase = .writing
    attempts[a].activity = platform.diskIO(
      bytes: out, write: true, host: HostID(host), disk: disk, observer: self, tag: tag(a))
  }

  // MARK: Activities

  package func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    if tag < 0 {
      gathers.removeValue(forKey: -tag)
      if gathers.isEmpty, shuffling { endIteration() }
      return
    }
    guard let a = attempt(tag), attempts[a].live else { return }
    switch attempts[a].phase {
    case .reading:
      if attempts[a].source == .lineage { bytesRead += size(attempts[a].part) }
      compute(a)
    case .computing:
      let host = attempts[a].host
      if attempts[a].source != .remote, let disk = cachePartition(attempts[a].part, on: host) {
        // As BlockManager's doPutIterator, the task stores the block on disk before it goes on.
        attempts[a].phase = .caching
        attempts[a].activity = platform.diskIO(
          bytes: size(attempts[a].part), write: true, host: HostID(host), disk: disk, observer: self, tag: tag)
        return
      }
      writeShuffle(a)
    case .caching: writeShuffle(a)
    case .writing:
      let part = attempts[a].part
      attempts[a].phase = .done
      attempts[a].live = false
      freeCores[Int(attempts[a].host)] += 1
      var freed = [attempts[a].host]
      running[part].removeAll { $0 == a }
      // The first copy to finish wins; the other is killed.
      if attempts[a].speculativeCopy, doneOn[part] == nil { speculativeWon += 1 }
      for other in running[part] {
        if let activity = attempts[other].activity { platform.cancel(activity) }
        dropUnwritten(other)
        attempts[other].live = false
        freeCores[Int(attempts[other].host)] += 1
        freed.append(attempts[other].host)
      }
      running[part] = []
      guard doneOn[part] == nil else { return schedule(offering: freed) }
      durations.append((simulator.now - attempts[a].started).seconds)
      doneOn[part] = attempts[a].host
      doneCount += 1
      if doneCount == partitions { startShuffle() } else { schedule(offering: freed) }
    case .launching, .done: break
    }
  }

  package func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    if tag == Int64.min { return }
    if tag < 0 {
      // A worker died while gathering: another takes its share.
      let bytes = gathers.removeValue(forKey: -tag) ?? 0
      guard let host = workers.first(where: { platform.isUp(HostID($0)) }) else { return fail() }
      nextGather += 1
      gathers[nextGather] = bytes
      platform.gather(bytes: bytes, to: HostID(host), observer: self, tag: -nextGather)
      return
    }
    if let a = attempt(tag) { attemptFailed(a) }
  }

  func attemptFailed(_ a: Int) {
    guard attempts[a].live else { return }
    dropUnwritten(a)
    attempts[a].live = false
    let part = attempts[a].part
    if platform.isUp(HostID(attempts[a].host)) { freeCores[Int(attempts[a].host)] += 1 }
    running[part].removeAll { $0 == a }
    guard running[part].isEmpty, doneOn[part] == nil else { return }  // its copy carries on
    failures[part] += 1
    if failures[part] >= p.maxFailures { return fail() }
    addPending(part)
    simulator.schedule(after: .zero, to: me, kind: Kind.schedule.rawValue)
  }

  // MARK: Speculation

  /// Once `speculation_quantile` of the stage's tasks are done, a task running longer than
  /// `speculation_multiplier` x their median gets one copy on another executor with a free core.
  func speculate() {
    guard finished == nil, !failedJob, !shuffling, doneCount < partitions else { return }
    simulator.schedule(after: .milliseconds(500), to: me, kind: Kind.speculate.rawValue)
    guard Double(doneCount) >= p.speculationQuantile * Double(partitions), !durations.isEmpty else { return }
    let median = durations.sorted()[durations.count / 2]
    for part in 0..<partitions where doneOn[part] == nil && running[part].count == 1 {
      let a = running[part][0]
      guard (simulator.now - attempts[a].started).seconds > p.speculationMultiplier * median else { continue }
      guard
        let host = workers.first(where: {
          $0 != attempts[a].host && freeCores[Int($0)] > 0 && platform.isUp(HostID($0))
        })
      else { continue }
      speculative += 1
      launch(part, on: host)
      attempts[attempts.count - 1].speculativeCopy = true
    }
  }

  // MARK: Executor loss

  /// Lists every pending task again under its preferences now (an executor lost or back:
  /// cached copies gone, replicas down or up), then the valid levels, keeping the current one
  /// (TaskSetManager.recomputeLocality). Stale entries are skipped when reached.
  func relistPending() {
    let level = levels.isEmpty ? nil : levels[levelIndex]
    for part in 0..<partitions where isPending[part] {
      count(part, -1)
      pendingCount -= 1
      addPending(part)
    }
    computeLevels(keeping: level)
  }

  package func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator) {
    guard finished == nil, !failedJob else { return }
    guard up else {
      freeCores[Int(host.index)] = 0
      storageUsed[Int(host.index)] = 0
      forExecutor[Int(host.index)].removeAll()
      forHost[Int(host.index)].removeAll()
      for part in 0..<partitions where cachedOn[part] == host.index {
        cachedOn[part] = nil
        lostPartitions.insert(part)
      }
      for a in attempts.indices where attempts[a].live && attempts[a].host == host.index { attemptFailed(a) }
      // Its shuffle output for this iteration is gone: those tasks run again.
      if !shuffling {
        for part in 0..<partitions where doneOn[part] == host.index {
          doneOn[part] = nil
          doneCount -= 1
          addPending(part)
          rerunShuffle += 1
        }
      }
      relistPending()
      simulator.schedule(after: .zero, to: me, kind: Kind.schedule.rawValue)
      return
    }
    freeCores[Int(host.index)] = p.executorCores
    relistPending()
    simulator.schedule(after: .zero, to: me, kind: Kind.schedule.rawValue)
  }

  /// A failed disk takes the partitions cached on it (MEMORY_AND_DISK): recomputed from lineage.
  package func diskFailed(_ host: HostID, disk: Int, in simulator: Simulator) {
    for part in 0..<partitions where cachedOn[part] == host.index && !inMemory[part] && cacheDisk[part] == disk {
      cachedOn[part] = nil
      lostPartitions.insert(part)
    }
  }
}

extension SparkJob: BatchJob {
  package func retire() {
    simulator.retire(me)
    platform.removeObserver(self)
    platform.fluid.release(self)
  }
}
