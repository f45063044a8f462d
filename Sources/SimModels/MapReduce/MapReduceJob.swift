import Foundation
import SimKernel
import SimPlatform

/// One MapReduce job on the HDFS model's cluster.
///
/// Maps, one per input block, run in map slots with delay scheduling (a free slot takes a
/// node-local map, or after `locality_wait` a rack-local one, after twice that any): read the
/// split (the local disk, or the closest replica over the network), compute, and write their
/// output to the local disk (spilled and merged again if it exceeds `io_sort_mb`). Reduces start
/// once `slowstart` of the maps are done and fetch their share of every map output as it
/// appears: all that is new in one aggregated fetch (the reducer's link and its rack's
/// downlink); then merge (on disk if beyond `reduce_memory`), compute, and write the output to
/// HDFS through a pipeline. A task whose host dies is tried again elsewhere (up to
/// `max_attempts`); a map output lost with its host before every reduce has fetched it is made
/// again; with `speculative`, a task running 1.5x longer than the mean of the finished tasks of its
/// kind gets a backup on another host, and the first to finish wins.
final class MapReduceJob: EventHandler, ActivityObserver, PlatformObserver {
  enum Kind: Int32 {
    case start = 0
    case launch = 1  // payload: attempt
    case schedule = 2
    case speculate = 3
    case fetchWake = 4  // payload: reduce
  }

  enum Phase { case launching, reading, computing, writing, fetching, merging, reducing, outputting, done, failed }

  struct Attempt {
    var task: Int  // map index, or maps + reduce index
    var host: Int32
    var phase = Phase.launching
    var activity: ActivityID?
    var start: SimTime
    /// When its own work began: launch for a map, the end of the shuffle for a reduce (all
    /// reduces wait for the maps alike, so only what comes after tells a straggler).
    var workStart: SimTime
    var live = true
  }

  struct Task {
    var isMap: Bool
    var bytes = 0.0  // map: its split; reduce: what it has fetched
    var done = false
    var failures = 0
    var attempts: [Int] = []  // live attempts
    var waitingSince = SimTime.zero
  }

  let p: MapReduceParameters
  unowned let platform: Platform
  unowned let simulator: Simulator
  unowned let hdfs: HDFSCluster
  var me = EntityID(0)
  let random: RandomStream
  let workers: [Int32]
  var slow: Set<Int32> = []
  // Tasks and attempts.
  var tasks: [Task] = []
  let maps: Int
  var attempts: [Attempt] = []
  var mapFree: [Int]
  var reduceFree: [Int]
  /// Pending maps: a flag each, a FIFO (oldest first) and, per host and per rack, the maps with
  /// a replica there; the lists are walked lazily past maps no longer pending.
  var isPending: [Bool] = []
  var pendingCount = 0
  var fifo: [Int] = []
  var fifoHead = 0
  var localMaps: [[Int]]
  var localHead: [Int]
  var rackMaps: [[Int]]
  var rackHead: [Int]
  var pendingReduces: [Int] = []
  /// Map outputs in completion order: (map, host, bytes, still there).
  var outputs: [(map: Int, host: Int32, bytes: Double, valid: Bool)] = []
  /// Each running reduce attempt's shuffle, by attempt.
  var shuffles: [Int: Shuffle] = [:]
  var mapsDone = 0
  var reducesDone = 0
  var reducesStarted = false
  var finished: SimTime?
  var failedJob = false
  var started = SimTime.zero
  var mapPhaseEnd: SimTime?
  // Statistics.
  var locality = [0, 0, 0]
  var bytesRead = 0.0
  var bytesSpilled = 0.0
  var shuffleWritten = 0.0
  var shuffleRead = 0.0
  var bytesWritten = 0.0
  var rerunFailed = 0
  var rerunLostOutput = 0
  var backups = 0
  var backupsWon = 0
  /// CPU work its tasks asked for (retries and backups too): the job's cost.
  var cpuWork = 0.0
  /// Told when the job ends (true: done, false: failed) in place of stopping the run: a job that
  /// is one part of a larger model (a Lambda architecture's batch layer).
  var onEnd: ((Bool) -> Void)?
  var mapDurations = RunningStatistics()
  var reduceDurations = RunningStatistics()

  init(
    parameters: MapReduceParameters, hdfs: HDFSCluster, platform: Platform, simulator: Simulator, context: RunContext
  ) {
    p = parameters
    self.hdfs = hdfs
    self.platform = platform
    self.simulator = simulator
    random = context.streams.stream("mapreduce.scheduler")
    workers = (1...parameters.hdfs.datanodes).map { Int32($0) }
    slow = Set(workers.prefix(Int((parameters.slowHosts * Double(workers.count)).rounded())))
    maps = hdfs.blocks.count
    for block in hdfs.blocks { tasks.append(Task(isMap: true, bytes: block.size)) }
    for _ in 0..<parameters.reduces { tasks.append(Task(isMap: false)) }
    mapFree = Array(repeating: parameters.mapSlots, count: platform.hostCount)
    reduceFree = Array(repeating: parameters.reduceSlots, count: platform.hostCount)
    localMaps = Array(repeating: [], count: platform.hostCount)
    localHead = Array(repeating: 0, count: platform.hostCount)
    rackMaps = Array(repeating: [], count: max(1, parameters.hdfs.platform.racks))
    rackHead = Array(repeating: 0, count: rackMaps.count)
    isPending = Array(repeating: false, count: hdfs.blocks.count)
    me = simulator.register(self)
    platform.addObserver(self)
    simulator.schedule(after: parameters.jobStartup, to: me, kind: Kind.start.rawValue)
  }

  func host(ofReplica dn: Int32) -> Int32 { hdfs.host(dn).index }
  func factor(_ host: Int32) -> Double { slow.contains(host) ? p.slowFactor : 1 }

  // MARK: Events

  func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .start:
      started = simulator.now
      for m in 0..<maps { makePending(m) }
      schedule()
      if p.speculative { simulator.schedule(after: .seconds(1), to: me, kind: Kind.speculate.rawValue) }
    case .launch: launched(Int(event.payload))
    case .schedule: schedule()
    case .fetchWake:
      let a = Int(event.payload)
      guard shuffles[a] != nil else { return }
      shuffles[a]!.wakeScheduled = false
      fetch(a)
    case .speculate:
      speculate()
      if finished == nil && !failedJob {
        simulator.schedule(after: .seconds(1), to: me, kind: Kind.speculate.rawValue)
      }
    case nil: preconditionFailure("unknown mapreduce event")
    }
  }

  // MARK: Scheduling

  /// Fills free slots: maps with delay scheduling, then reduces once slowstart is reached.
  func schedule() {
    guard finished == nil, !failedJob else { return }
    let now = simulator.now
    var nextCheck: SimTime?
    if pendingCount > 0 {
      for host in workers where mapFree[Int(host)] > 0 && platform.isUp(HostID(host)) {
        while mapFree[Int(host)] > 0, pendingCount > 0 {
          guard let (m, level) = pickMap(for: host, now: now) else {
            let oldest = tasks[fifo[fifoHead]].waitingSince
            let due = oldest + p.localityWait
            nextCheck = min(nextCheck ?? due, due > now ? due : oldest + p.localityWait + p.localityWait)
            break
          }
          isPending[m] = false
          pendingCount -= 1
          if now >= started { locality[level] += 1 }
          launch(task: m, on: host)
        }
      }
    }
    if !reducesStarted, Double(mapsDone) >= p.slowstart * Double(maps) {
      reducesStarted = true
      pendingReduces = Array(maps..<tasks.count)
    }
    if reducesStarted {
      // Spread over the hosts: one reduce per host with a free slot, round after round.
      var launchedAny = true
      while !pendingReduces.isEmpty, launchedAny {
        launchedAny = false
        for host in workers where reduceFree[Int(host)] > 0 && platform.isUp(HostID(host)) {
          guard !pendingReduces.isEmpty else { break }
          launch(task: pendingReduces.removeFirst(), on: host)
          launchedAny = true
        }
      }
    }
    if let due = nextCheck, due > now {
      simulator.schedule(at: due, to: me, kind: Kind.schedule.rawValue)
    }
  }

  /// A pending map for a free slot on `host`: node-local, or rack-local once the oldest pending
  /// map has waited `locality_wait`, or any after twice that. (index in pending, level 0/1/2)
  func pickMap(for host: Int32, now: SimTime) -> (Int, Int)? {
    let h = Int(host)
    while localHead[h] < localMaps[h].count, !isPending[localMaps[h][localHead[h]]] { localHead[h] += 1 }
    if localHead[h] < localMaps[h].count { return (localMaps[h][localHead[h]], 0) }
    while fifoHead < fifo.count, !isPending[fifo[fifoHead]] { fifoHead += 1 }
    guard fifoHead < fifo.count else { return nil }
    let waited = now - tasks[fifo[fifoHead]].waitingSince
    let rack = platform.rack(of: HostID(host))
    if waited >= p.localityWait {
      while rackHead[rack] < rackMaps[rack].count, !isPending[rackMaps[rack][rackHead[rack]]] { rackHead[rack] += 1 }
      if rackHead[rack] < rackMaps[rack].count { return (rackMaps[rack][rackHead[rack]], 1) }
    }
    if waited >= p.localityWait + p.localityWait { return (fifo[fifoHead], 2) }
    return nil
  }

  /// A map joins the pending lists (at the start, or to run again).
  func makePending(_ m: Int) {
    isPending[m] = true
    pendingCount += 1
    tasks[m].waitingSince = simulator.now
    fifo.append(m)
    var racksSeen: [Int] = []
    for dn in hdfs.blocks[m].replicas {
      let host = Int(host(ofReplica: dn))
      localMaps[host].append(m)
      let rack = platform.rack(of: HostID(Int32(host)))
      if !racksSeen.contains(rack) {
        racksSeen.append(rack)
        rackMaps[rack].append(m)
      }
    }
  }

  func launch(task t: Int, on host: Int32) {
    if tasks[t].isMap { mapFree[Int(host)] -= 1 } else { reduceFree[Int(host)] -= 1 }
    attempts.append(Attempt(task: t, host: host, start: simulator.now, workStart: simulator.now))
    let a = attempts.count - 1
    tasks[t].attempts.append(a)
    simulator.schedule(after: p.taskLaunch, to: me, kind: Kind.launch.rawValue, payload: Int64(a))
  }

  func launched(_ a: Int) {
    guard attempts[a].live else { return }
    let t = attempts[a].task
    let host = attempts[a].host
    guard platform.isUp(HostID(host)) else { return attemptFailed(a) }
    if tasks[t].isMap {
      attempts[a].phase = .reading
      let replicas = hdfs.blocks[t].replicas.map(host(ofReplica:))
      let bytes = tasks[t].bytes
      if replicas.contains(host) {
        attempts[a].activity = platform.diskIO(
          bytes: bytes, write: false, host: HostID(host), observer: self, tag: Int64(a))
      } else {
        let rack = platform.rack(of: HostID(host))
        let near = replicas.filter { platform.rack(of: HostID($0)) == rack && platform.isUp(HostID($0)) }
        let up = replicas.filter { platform.isUp(HostID($0)) }
        guard let source = near.first ?? up.first else { return attemptFailed(a) }
        attempts[a].activity = platform.pipeline(
          bytes: bytes, hosts: [HostID(source), HostID(host)], readDisk: true, writeDisks: false, observer: self,
          tag: Int64(a))
      }
    } else {
      attempts[a].phase = .fetching
      shuffles[a] = Shuffle(maps: maps)
      fetch(a)
    }
  }

  // MARK: Activities

  func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    let a = Int(tag)
    guard attempts[a].live else { return }
    let t = attempts[a].task
    let host = HostID(attempts[a].host)
    switch attempts[a].phase {
    case .reading:
      bytesRead += tasks[t].bytes
      attempts[a].phase = .computing
      cpuWork += tasks[t].bytes * p.costs.mapCost * factor(host.index)
      attempts[a].activity = platform.compute(
        work: tasks[t].bytes * p.costs.mapCost * factor(host.index), host: host, observer: self, tag: tag)
    case .computing:
      // Sort and spill the output; beyond the sort buffer the spills are merged (read and
      // written again).
      let out = tasks[t].bytes * p.costs.mapOutputRatio * p.costs.combinerRatio
      let spilled = out <= p.sortBuffer ? out : 3 * out
      bytesSpilled += spilled
      attempts[a].phase = .writing
      attempts[a].activity = platform.diskIO(
        bytes: spilled * factor(host.index), write: true, host: host, observer: self, tag: tag)
    case .writing: mapDone(a)
    case .fetching:
      fetchDone(a)
    case .merging:
      attempts[a].phase = .reducing
      cpuWork += input(a) * p.costs.reduceCost * factor(host.index)
      attempts[a].activity = platform.compute(
        work: input(a) * p.costs.reduceCost * factor(host.index), host: host, observer: self, tag: tag)
    case .reducing:
      attempts[a].phase = .outputting
      let out = input(a) * p.costs.reduceOutputRatio
      let targets = hdfs.place(replicas: p.outputReplication, existing: [], writer: host.index)
      guard !targets.isEmpty else { return attemptFailed(a) }
      attempts[a].activity = platform.pipeline(
        bytes: out, hosts: [host] + targets.map { HostID($0 + 1) }, readDisk: false, writeDisks: true, observer: self,
        tag: tag)
    case .outputting:
      bytesWritten += input(a) * p.costs.reduceOutputRatio
      taskDone(a)
      reducesDone += 1
      if reducesDone == p.reduces {
        finished = simulator.now
        if let onEnd { onEnd(true) } else { simulator.stop() }
      }
    case .launching, .done, .failed: break
    }
  }

  func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    let a = Int(tag)
    guard attempts[a].live else { return }
    attemptFailed(a)
  }

  func mapDone(_ a: Int) {
    let t = attempts[a].task
    let out = tasks[t].bytes * p.costs.mapOutputRatio * p.costs.combinerRatio
    outputs.append((t, attempts[a].host, out, true))
    shuffleWritten += out
    taskDone(a)
    mapsDone += 1
    if mapsDone == maps { mapPhaseEnd = simulator.now }
    for a in shuffles.keys.sorted() where attempts[a].phase == .fetching { fetch(a) }
    schedule()
  }

  /// The attempt finished its task: its rivals are killed, its slot freed.
  func taskDone(_ a: Int) {
    let t = attempts[a].task
    tasks[t].done = true
    attempts[a].phase = .done
    let duration = (simulator.now - attempts[a].workStart).seconds
    if tasks[t].isMap { mapDurations.add(duration) } else { reduceDurations.add(duration) }
    if tasks[t].attempts.count > 1, tasks[t].attempts.first != a { backupsWon += 1 }
    for other in tasks[t].attempts where other != a { kill(other) }
    tasks[t].attempts = []
    release(a)
  }

  func release(_ a: Int) {
    attempts[a].live = false
    shuffles.removeValue(forKey: a)
    let host = Int(attempts[a].host)
    if tasks[attempts[a].task].isMap { mapFree[host] += 1 } else { reduceFree[host] += 1 }
    simulator.schedule(after: .zero, to: me, kind: Kind.schedule.rawValue)
  }

  func kill(_ a: Int) {
    guard attempts[a].live else { return }
    if let activity = attempts[a].activity { platform.cancel(activity) }
    attempts[a].phase = .failed
    release(a)
  }

  /// An attempt failed (its host died, its source vanished): the task goes back to pending,
  /// unless it has failed `max_attempts` times (then the job fails) or a rival still runs.
  func attemptFailed(_ a: Int) {
    guard attempts[a].live else { return }
    let t = attempts[a].task
    attempts[a].phase = .failed
    attempts[a].live = false
    shuffles.removeValue(forKey: a)
    if platform.isUp(HostID(attempts[a].host)) {
      if tasks[t].isMap { mapFree[Int(attempts[a].host)] += 1 } else { reduceFree[Int(attempts[a].host)] += 1 }
    }
    tasks[t].attempts.removeAll { $0 == a }
    guard !tasks[t].done, tasks[t].attempts.isEmpty else { return }
    tasks[t].failures += 1
    rerunFailed += 1
    if tasks[t].failures >= p.maxAttempts {
      failedJob = true
      if let onEnd { onEnd(false) } else { simulator.stop() }
      return
    }
    requeue(t)
  }

  func requeue(_ t: Int) {
    tasks[t].done = false
    if tasks[t].isMap {
      makePending(t)
    } else {
      pendingReduces.append(t)
    }
    simulator.schedule(after: .zero, to: me, kind: Kind.schedule.rawValue)
  }

  // MARK: Shuffle

  /// A reduce attempt's shuffle: how far along `outputs` it has looked, which maps' outputs it
  /// holds (a bit per map, so a map run again after its output was lost is not fetched twice),
  /// what it has fetched, and its fetch under way.
  struct Shuffle {
    var looked = 0
    var holds: BitSet
    var bytes = 0.0
    var lastFetch = SimTime(nanoseconds: -1_000_000_000_000)
    var wakeScheduled = false
    var inFlight: (upTo: Int, bytes: Double, maps: [Int])?
    init(maps: Int) { holds = BitSet(count: maps) }
    func has(_ map: Int) -> Bool { holds.contains(map) }
  }

  /// The reduce attempt fetches its share of every valid map output it lacks, in one transfer,
  /// at most every `shuffle_poll_interval`; with all maps done and nothing left, it merges.
  func fetch(_ a: Int) {
    guard let shuffle = shuffles[a], shuffle.inFlight == nil else { return }
    let now = simulator.now
    if now < shuffle.lastFetch + p.shufflePoll, mapsDone < maps {
      if !shuffle.wakeScheduled {
        shuffles[a]!.wakeScheduled = true
        simulator.schedule(
          at: shuffle.lastFetch + p.shufflePoll, to: me, kind: Kind.fetchWake.rawValue, payload: Int64(a))
      }
      return
    }
    var bytes = 0.0
    var taken: [Int] = []
    for k in shuffle.looked..<outputs.count where outputs[k].valid && !shuffle.has(outputs[k].map) {
      bytes += outputs[k].bytes / Double(p.reduces)
      taken.append(outputs[k].map)
    }
    if taken.isEmpty {
      shuffles[a]!.looked = outputs.count
      if mapsDone == maps { mergePhase(a) }
      return  // woken by the next map output
    }
    shuffles[a]!.inFlight = (outputs.count, bytes, taken)
    shuffles[a]!.lastFetch = now
    attempts[a].activity = platform.gather(bytes: bytes, to: HostID(attempts[a].host), observer: self, tag: Int64(a))
  }

  func fetchDone(_ a: Int) {
    guard let got = shuffles[a]?.inFlight else { return }
    shuffles[a]!.inFlight = nil
    shuffles[a]!.looked = got.upTo
    for map in got.maps { shuffles[a]!.holds.insert(map) }
    shuffles[a]!.bytes += got.bytes
    shuffleRead += got.bytes
    fetch(a)
  }

  /// The bytes a task works on: a map's split, a reduce attempt's shuffled input.
  func input(_ a: Int) -> Double {
    tasks[attempts[a].task].isMap ? tasks[attempts[a].task].bytes : shuffles[a]?.bytes ?? 0
  }

  func mergePhase(_ a: Int) {
    attempts[a].phase = .merging
    attempts[a].workStart = simulator.now
    let bytes = input(a)
    // Beyond its memory a reduce merges on disk: written once and read back.
    let disk = bytes > p.reduceMemory ? 2 * bytes : 0
    bytesSpilled += disk
    attempts[a].activity = platform.diskIO(
      bytes: disk * factor(attempts[a].host), write: true, host: HostID(attempts[a].host), observer: self,
      tag: Int64(a))
  }

  // MARK: Failures and speculation

  func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator) {
    guard finished == nil, !failedJob else { return }
    guard up else {
      // Its attempts die with it (those without an activity under way too).
      for a in attempts.indices where attempts[a].live && attempts[a].host == host.index {
        attemptFailed(a)
      }
      // Map outputs on it that some reduce has not fetched are made again.
      for k in outputs.indices where outputs[k].host == host.index && outputs[k].valid {
        outputs[k].valid = false
        let m = outputs[k].map
        let needed = (maps..<tasks.count).contains { t in
          !tasks[t].done && !tasks[t].attempts.contains { shuffles[$0]?.has(m) == true }
        }
        if needed {
          tasks[m].done = false
          mapsDone -= 1
          mapPhaseEnd = nil
          rerunLostOutput += 1
          requeue(m)
        }
      }
      mapFree[Int(host.index)] = 0
      reduceFree[Int(host.index)] = 0
      return
    }
    mapFree[Int(host.index)] = p.mapSlots
    reduceFree[Int(host.index)] = p.reduceSlots
    for a in attempts.indices where attempts[a].live && attempts[a].host == host.index {
      if tasks[attempts[a].task].isMap { mapFree[Int(host.index)] -= 1 } else { reduceFree[Int(host.index)] -= 1 }
    }
    simulator.schedule(after: .zero, to: me, kind: Kind.schedule.rawValue)
  }

  /// A task whose own work (a map's, or a reduce's after its shuffle) has run 1.5x longer than
  /// the mean of the finished tasks of its kind (at least 5 of them) gets one backup attempt on
  /// another host with a free slot; a reduce's backup fetches its input afresh.
  func speculate() {
    guard p.speculative else { return }
    let now = simulator.now
    for t in tasks.indices where !tasks[t].done && tasks[t].attempts.count == 1 {
      let stats = tasks[t].isMap ? mapDurations : reduceDurations
      guard stats.count >= 5 else { continue }
      let a = tasks[t].attempts[0]
      guard attempts[a].phase != .fetching, attempts[a].phase != .launching,
        (now - attempts[a].workStart).seconds > 1.5 * stats.mean
      else { continue }
      let free = workers.filter {
        $0 != attempts[a].host && platform.isUp(HostID($0))
          && (tasks[t].isMap ? mapFree[Int($0)] : reduceFree[Int($0)]) > 0
      }
      guard !free.isEmpty else { continue }
      backups += 1
      launch(task: t, on: free[random.uniformInt(free.count)])
    }
  }
}
