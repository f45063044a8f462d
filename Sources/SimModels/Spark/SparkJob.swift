import Foundation
import SimKernel
import SimPlatform

/// An iterative job over a dataset in HDFS: each iteration is a stage of one task per partition
/// (an HDFS block) on the executors' cores, then a shuffle stage (every worker gathers its share
/// of the partitions' output). The Spark engine keeps its executors and, with a cache level,
/// keeps the parsed partitions in storage memory: a later iteration's task runs where its
/// partition is cached (process-local) and skips reading and parsing; partitions that do not
/// fit are recomputed from lineage (read from HDFS and parsed again) or, with MEMORY_AND_DISK,
/// read back from the local disk. As in Spark, a partition never evicts another of the same
/// dataset, so with too little memory a fixed fraction stays cached. The MapReduce engine runs
/// each iteration as a job: start-up, then every partition read and parsed from HDFS.
///
/// An executor's host that dies takes its cached partitions and the shuffle output of the
/// current iteration with it: those tasks run again (from lineage) and the lost partitions are
/// cached again where they are recomputed.
final class SparkJob: EventHandler, ActivityObserver, PlatformObserver {
  enum Kind: Int32 {
    case startIteration = 0
    case launch = 1  // payload: attempt
    case schedule = 2
    case speculate = 3
  }

  enum Source { case memory, disk, lineage }
  enum Phase { case launching, reading, computing, writing, done }

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
  var storageUsed: [Double]
  // The iteration under way.
  var iteration = 0
  var iterationStart = SimTime.zero
  var isPending: [Bool]
  var pendingCount = 0
  var pendingSince = SimTime.zero
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
  var bytesRead = 0.0
  var shuffleBytes = 0.0
  var recomputedLost = 0
  var recomputedUncached = 0
  var rerunShuffle = 0
  var series = TimeSeries()
  /// CPU work its tasks asked for: the job's cost.
  var cpuWork = 0.0
  /// Told when the job ends (true: done, false: failed) in place of stopping the run: a job that
  /// is one part of a larger model (a Lambda architecture's batch layer).
  var onEnd: ((Bool) -> Void)?

  init(parameters: SparkParameters, hdfs: HDFSCluster, platform: Platform, simulator: Simulator) {
    p = parameters
    self.hdfs = hdfs
    self.platform = platform
    self.simulator = simulator
    workers = (1...parameters.hdfs.datanodes).map { Int32($0) }
    partitions = hdfs.blocks.count
    cachedOn = Array(repeating: nil, count: partitions)
    inMemory = Array(repeating: false, count: partitions)
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

  func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .startIteration: startIteration()
    case .launch: launched(Int(event.payload))
    case .schedule: schedule()
    case .speculate: speculate()
    case nil: preconditionFailure("unknown spark event")
    }
  }

  func startIteration() {
    iteration += 1
    iterationStart = simulator.now
    doneCount = 0
    durations = []
    if p.speculation { simulator.schedule(after: .milliseconds(500), to: me, kind: Kind.speculate.rawValue) }
    for part in 0..<partitions {
      isPending[part] = true
      doneOn[part] = nil
    }
    pendingCount = partitions
    pendingSince = simulator.now
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
      // The MapReduce engine starts a new job for every iteration.
      simulator.schedule(
        after: p.engine == .mapreduce ? p.jobStartup : .zero, to: me, kind: Kind.startIteration.rawValue)
    }
  }

  func fail() {
    failedJob = true
    if let onEnd { onEnd(false) } else { simulator.stop() }
  }

  // MARK: Scheduling

  /// Free cores take pending partitions, best place first: where the partition is cached
  /// (memory, then disk), then a node with an HDFS replica; once the oldest pending task has
  /// waited `locality_wait`, a node in a replica's rack; after twice that, anywhere.
  func schedule() {
    guard finished == nil, !failedJob, pendingCount > 0 else { return }
    let waited = simulator.now - pendingSince
    var progress = true
    while progress, pendingCount > 0 {
      progress = false
      for host in workers where freeCores[Int(host)] > 0 && platform.isUp(HostID(host)) {
        guard let (part, level) = pick(for: host, waited: waited) else { continue }
        isPending[part] = false
        pendingCount -= 1
        locality[level] += 1
        launch(part, on: host)
        progress = true
        if pendingCount == 0 { break }
      }
    }
    if pendingCount > 0 {
      let next = waited < p.localityWait ? p.localityWait : p.localityWait + p.localityWait
      if waited < next { simulator.schedule(at: pendingSince + next, to: me, kind: Kind.schedule.rawValue) }
    }
  }

  func pick(for host: Int32, waited: SimTime) -> (Int, Int)? {
    var nodeLocal: Int?
    var rackLocal: Int?
    var any: Int?
    let rack = platform.rack(of: HostID(host))
    for part in 0..<partitions where isPending[part] {
      if cachedOn[part] == host { return (part, 0) }
      if any == nil { any = part }
      // A partition cached elsewhere waits for its executor, until anywhere will do.
      guard cachedOn[part] == nil else { continue }
      let replicas = replicaHosts(part)
      if nodeLocal == nil, replicas.contains(host) { nodeLocal = part }
      if rackLocal == nil, replicas.contains(where: { platform.rack(of: HostID($0)) == rack }) { rackLocal = part }
    }
    if let part = nodeLocal { return (part, 1) }
    if let part = rackLocal, waited >= p.localityWait { return (part, 2) }
    if let part = any, waited >= p.localityWait + p.localityWait { return (part, 3) }
    return nil
  }

  func launch(_ part: Int, on host: Int32) {
    freeCores[Int(host)] -= 1
    attempts.append(Attempt(part: part, host: host, started: simulator.now))
    running[part].append(attempts.count - 1)
    simulator.schedule(after: p.taskLaunch, to: me, kind: Kind.launch.rawValue, payload: Int64(attempts.count - 1))
  }

  func launched(_ a: Int) {
    let part = attempts[a].part
    let host = attempts[a].host
    guard attempts[a].live, platform.isUp(HostID(host)) else { return attemptFailed(a) }
    if iteration > 1 { lookups += 1 }
    if cachedOn[part] == host, p.engine == .spark {
      if iteration > 1 { hits += 1 }
      if inMemory[part] {
        attempts[a].source = .memory
        return compute(a)
      }
      attempts[a].source = .disk
      attempts[a].phase = .reading
      attempts[a].activity = platform.diskIO(
        bytes: size(part), write: false, host: HostID(host), observer: self, tag: Int64(a))
      return
    }
    // From lineage: read the block from HDFS and parse it.
    if iteration > 1, p.engine == .spark {
      if cachedOn[part] == nil, lostPartitions.contains(part) { recomputedLost += 1 } else { recomputedUncached += 1 }
      lostPartitions.remove(part)
    }
    attempts[a].source = .lineage
    attempts[a].phase = .reading
    let replicas = replicaHosts(part).filter { platform.isUp(HostID($0)) }
    guard !replicas.isEmpty else { return attemptFailed(a) }
    if replicas.contains(host) {
      attempts[a].activity = platform.diskIO(
        bytes: size(part), write: false, host: HostID(host), observer: self, tag: Int64(a))
    } else {
      let rack = platform.rack(of: HostID(host))
      let source = replicas.first { platform.rack(of: HostID($0)) == rack } ?? replicas[0]
      attempts[a].activity = platform.pipeline(
        bytes: size(part), hosts: [HostID(source), HostID(host)], readDisk: true, writeDisks: false, observer: self,
        tag: Int64(a))
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
      tag: Int64(a))
  }

  /// A parsed partition is kept where it was computed, if the executor's storage memory has
  /// room (it never evicts a partition of the same dataset); otherwise MEMORY_AND_DISK writes
  /// it to the local disk and MEMORY_ONLY drops it.
  func cachePartition(_ part: Int, on host: Int32) {
    guard p.engine == .spark, p.cache != .none, cachedOn[part] == nil else { return }
    let bytes = size(part) * p.memoryExpansion
    if storageUsed[Int(host)] + bytes <= p.storageMemory {
      storageUsed[Int(host)] += bytes
      cachedOn[part] = host
      inMemory[part] = true
    } else if p.cache == .memoryAndDisk {
      cachedOn[part] = host
      inMemory[part] = false
      platform.diskIO(bytes: size(part), write: true, host: HostID(host), observer: self, tag: Int64.min)
    }
  }

  // MARK: Activities

  func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    if tag == Int64.min { return }  // a partition written to disk by the cache
    if tag < 0 {
      gathers.removeValue(forKey: -tag)
      if gathers.isEmpty, shuffling { endIteration() }
      return
    }
    let a = Int(tag)
    guard attempts[a].live else { return }
    switch attempts[a].phase {
    case .reading:
      if attempts[a].source == .lineage { bytesRead += size(attempts[a].part) }
      compute(a)
    case .computing:
      cachePartition(attempts[a].part, on: attempts[a].host)
      let out = size(attempts[a].part) * p.costs.shuffleRatio
      attempts[a].phase = .writing
      attempts[a].activity = platform.diskIO(
        bytes: out, write: true, host: HostID(attempts[a].host), observer: self, tag: tag)
    case .writing:
      let part = attempts[a].part
      attempts[a].phase = .done
      attempts[a].live = false
      freeCores[Int(attempts[a].host)] += 1
      running[part].removeAll { $0 == a }
      // The first copy to finish wins; the other is killed.
      if attempts[a].speculativeCopy, doneOn[part] == nil { speculativeWon += 1 }
      for other in running[part] {
        if let activity = attempts[other].activity { platform.cancel(activity) }
        attempts[other].live = false
        freeCores[Int(attempts[other].host)] += 1
      }
      running[part] = []
      guard doneOn[part] == nil else { return schedule() }
      durations.append((simulator.now - attempts[a].started).seconds)
      doneOn[part] = attempts[a].host
      doneCount += 1
      if doneCount == partitions { startShuffle() } else { schedule() }
    case .launching, .done: break
    }
  }

  func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
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
    attemptFailed(Int(tag))
  }

  func attemptFailed(_ a: Int) {
    guard attempts[a].live else { return }
    attempts[a].live = false
    let part = attempts[a].part
    if platform.isUp(HostID(attempts[a].host)) { freeCores[Int(attempts[a].host)] += 1 }
    running[part].removeAll { $0 == a }
    guard running[part].isEmpty, doneOn[part] == nil else { return }  // its copy carries on
    failures[part] += 1
    if failures[part] >= p.maxFailures { return fail() }
    isPending[part] = true
    pendingCount += 1
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

  func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator) {
    guard finished == nil, !failedJob else { return }
    guard up else {
      freeCores[Int(host.index)] = 0
      storageUsed[Int(host.index)] = 0
      for part in 0..<partitions where cachedOn[part] == host.index {
        cachedOn[part] = nil
        lostPartitions.insert(part)
      }
      // Its shuffle output for this iteration is gone: those tasks run again.
      if !shuffling {
        for part in 0..<partitions where doneOn[part] == host.index {
          doneOn[part] = nil
          doneCount -= 1
          isPending[part] = true
          pendingCount += 1
          rerunShuffle += 1
        }
      }
      for a in attempts.indices where attempts[a].live && attempts[a].host == host.index { attemptFailed(a) }
      simulator.schedule(after: .zero, to: me, kind: Kind.schedule.rawValue)
      return
    }
    freeCores[Int(host.index)] = p.executorCores
    simulator.schedule(after: .zero, to: me, kind: Kind.schedule.rawValue)
  }
}
