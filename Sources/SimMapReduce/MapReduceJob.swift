import Foundation
import SimHDFS
import SimKernel
import SimModel
import SimPlatform

/// One MapReduce job on the HDFS model's cluster.
///
/// Maps, one per input block, run in map slots with delay scheduling (a free slot takes a
/// node-local map, or a rack-local one once the job has waited `locality_wait` since its last
/// launch, any after twice that): read the split from the disk holding the replica (the local one,
/// or the closest replica over the network), compute, and write their output to a local directory
/// (the host's disks in turn, as Hadoop's LocalDirAllocator; spilled and merged again if it exceeds
/// `io_sort_mb`). Reduces start once `slowstart` of the maps are done and fetch their share of
/// every map output as it appears: all that is new in one aggregated fetch (the reducer's link and
/// its rack's downlink), while each map host's shuffle service reads what was asked of it from the
/// disk holding it and sends it up its link and rack uplink (one read at a time per disk, for every
/// reduce's requests at once); then merge (on disk if beyond `reduce_memory`), compute, and write
/// the output to HDFS through a pipeline. A task whose host dies or whose worker process is killed
/// is tried again elsewhere; a map output lost with its worker before every reduce has fetched it
/// is made again; with `speculative`, Hadoop's DefaultSpeculator launches backups once no task of a
/// kind waits for a slot, for the task whose estimated end (from its progress rate) is furthest
/// beyond what a new attempt would need; the first attempt to finish wins.
package final class MapReduceJob: EventHandler, ActivityObserver, PlatformObserver {
  enum Kind: Int32 {
    case start = 0
    case launch = 1  // payload: attempt
    case schedule = 2
    case speculate = 3
    case fetchWake = 4  // payload: reduce
    case workerKill = 5  // payload: index in worker_kills
    case workerRestart = 6  // payload: host
    case serve = 7  // payload: server
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
    /// The local directory (disk) of a map's output or a reduce's merge.
    var disk = 0
    /// The host a map reads its split from (its own, or the replica's across the network).
    var source: Int32 = 0
    /// The DataNodes a reduce writes its output to.
    var outputHosts: [HostID] = []
  }

  struct Task {
    var isMap: Bool
    var bytes = 0.0  // map: its split; reduce: what it has fetched
    var done = false
    var failures = 0
    var attempts: [Int] = []  // live attempts
  }

  /// A map output served by its host's shuffle service: (map, host, its disk, bytes, still
  /// there), and its stamp in the host's page cache.
  struct Output {
    var map: Int
    var host: Int32
    var disk: Int
    var bytes: Double
    var valid: Bool
    var stamp: Double
  }

  /// A disk's shuffle service: the bytes reduces have asked of it and it has sent so far (one
  /// read under way at a time, all that was asked before it started: what its disk must read,
  /// and what the page cache still holds, side by side), and the fetches waiting for it, each
  /// with the total asked when it asked (served in order).
  struct Server {
    var requested = 0.0
    var served = 0.0
    var target = 0.0
    /// Of those, the bytes no longer in the page cache: read from the disk.
    var requestedFromDisk = 0.0
    var servedFromDisk = 0.0
    var targetFromDisk = 0.0
    /// The reads under way (the disk's and the page cache's), and how many have still to end.
    var activities: [ActivityID] = []
    var pending = 0
    var waiters: [(offset: Double, attempt: Int, serial: Int)] = []
    var head = 0
    /// A read is due at the current instant (requests made at one instant share one read).
    var scheduled = false
  }

  let p: MapReduceParameters
  unowned let platform: Platform
  unowned let simulator: Simulator
  unowned let hdfs: HDFSCluster
  var me = EntityID(0)
  let random: RandomStream
  let killRandom: RandomStream
  let workers: [Int32]
  var slow: Set<Int32> = []
  /// Whether each host's worker process (NodeManager, TaskTracker) runs.
  var workerUp: [Bool]
  /// Round robin over each host's disks: the local directories (spills, merges) and, for the
  /// output, the DataNodes' volumes.
  var localDirs: LocalDirs
  var outputVolumes: LocalDirs
  let disksPerHost: Int
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
  /// Maps to run again (a failed attempt, a lost output): taken before the others, wherever a
  /// slot is free, as Hadoop's RMContainerAllocator asks for them at PRIORITY_FAST_FAIL_MAP.
  var rerunMaps: [Int] = []
  var rerunHead = 0
  /// Delay scheduling: the locality level of the job's last map launch, and since when it has
  /// waited since then (from the first free slot that declined it).
  var lastMapLevel = 0
  var skippedSince: SimTime?
  /// Map outputs in completion order, and each map's valid one (an index, or -1).
  var outputs: [Output] = []
  var outputOf: [Int]
  /// Whether a map's output has been counted as written (a re-execution's is rewritten).
  var outputCounted: [Bool]
  var servers: [Server]
  /// Each host's page cache (map outputs are read back from it while they are still there).
  var pageCache: PageCache
  /// Each running reduce attempt's shuffle, by attempt.
  var shuffles: [Int: Shuffle] = [:]
  var fetchSerial = 0
  var mapsDone = 0
  var reducesDone = 0
  var reducesStarted = false
  var finished: SimTime?
  var failedJob = false
  var started = SimTime.zero
  var mapPhaseEnd: SimTime?
  // Statistics.
  var locality = [0, 0, 0]
  package var bytesRead = 0.0
  var bytesSpilled = 0.0
  var shuffleWritten = 0.0
  var outputRewritten = 0.0
  var shuffleFetched = 0.0
  var shuffleArrived = 0.0
  var shuffleRead = 0.0
  var shuffleWasted = 0.0
  var shuffleServed = 0.0
  var shuffleFromCache = 0.0
  var bytesWritten = 0.0
  var rerunFailed = 0
  var rerunLostOutput = 0
  var workersKilled = 0
  var backups = 0
  var backupsWon = 0
  /// CPU work its tasks asked for (retries and backups too): the job's cost.
  package var cpuWork = 0.0
  /// Told when the job ends (true: done, false: failed) in place of stopping the run: a job that
  /// is one part of a larger model (a Lambda architecture's batch layer).
  package var onEnd: ((Bool) -> Void)?
  var mapDurations = RunningStatistics()
  var reduceDurations = RunningStatistics()
  /// Task durations as Hadoop's speculator measures them: attempt start to end, by kind.
  var attemptDurations = [RunningStatistics(), RunningStatistics()]
  var sampler: TimeSeriesSampler?

  package init(
    parameters: MapReduceParameters, hdfs: HDFSCluster, platform: Platform, simulator: Simulator, context: RunContext
  ) {
    p = parameters
    self.hdfs = hdfs
    self.platform = platform
    self.simulator = simulator
    random = context.streams.stream("mapreduce.scheduler")
    killRandom = context.streams.stream("mapreduce.worker_kills")
    workers = (1...parameters.hdfs.datanodes).map { Int32($0) }
    platform.assignRole("mapreduce_worker", hosts: workers.map(HostID.init))
    slow = Set(workers.prefix(Int((parameters.slowHosts * Double(workers.count)).rounded())))
    maps = hdfs.blocks.count
    for block in hdfs.blocks { tasks.append(Task(isMap: true, bytes: block.size)) }
    for _ in 0..<parameters.reduces { tasks.append(Task(isMap: false)) }
    mapFree = Array(repeating: parameters.mapSlots, count: platform.hostCount)
    reduceFree = Array(repeating: parameters.reduceSlots, count: platform.hostCount)
    workerUp = Array(repeating: true, count: platform.hostCount)
    localDirs = LocalDirs(hosts: platform.hostCount)
    outputVolumes = LocalDirs(hosts: platform.hostCount)
    disksPerHost = (0..<platform.hostCount).map { platform.diskCount(of: HostID(Int32($0))) }.max() ?? 1
    servers = Array(repeating: Server(), count: platform.hostCount * disksPerHost)
    pageCache = PageCache(hosts: platform.hostCount, capacity: parameters.pageCache)
    localMaps = Array(repeating: [], count: platform.hostCount)
    localHead = Array(repeating: 0, count: platform.hostCount)
    rackMaps = Array(repeating: [], count: max(1, parameters.hdfs.platform.racks))
    rackHead = Array(repeating: 0, count: rackMaps.count)
    isPending = Array(repeating: false, count: hdfs.blocks.count)
    outputOf = Array(repeating: -1, count: hdfs.blocks.count)
    outputCounted = Array(repeating: false, count: hdfs.blocks.count)
    me = simulator.register(self)
    platform.addObserver(self)
    simulator.schedule(after: parameters.jobStartup, to: me, kind: Kind.start.rawValue)
    for (k, kill) in parameters.workerKills.enumerated() {
      simulator.schedule(after: kill.at, to: me, kind: Kind.workerKill.rawValue, payload: Int64(k))
    }
  }

  /// Samples the job's rates every `interval`: bytes per second read by maps, fetched by reduces
  /// and written to HDFS as output (once per byte, not per replica), over the interval before.
  func sample(every interval: SimTime) {
    let sampler = TimeSeriesSampler(interval: interval, simulator: simulator)
    var last = (read: 0.0, shuffled: 0.0, written: 0.0)
    let seconds = interval.seconds
    sampler.addProbe("mapreduce.input_rate") { [unowned self] in
      defer { last.read = bytesRead }
      return (bytesRead - last.read) / seconds
    }
    sampler.addProbe("mapreduce.shuffle_rate") { [unowned self] in
      defer { last.shuffled = shuffleArrived }
      return (shuffleArrived - last.shuffled) / seconds
    }
    sampler.addProbe("mapreduce.output_rate") { [unowned self] in
      defer { last.written = bytesWritten }
      return (bytesWritten - last.written) / seconds
    }
    self.sampler = sampler
  }

  func host(ofReplica dn: Int32) -> Int32 { hdfs.host(dn).index }
  func factor(_ host: Int32) -> Double { slow.contains(host) ? p.slowFactor : 1 }
  /// Whether a host can run tasks: up, with its worker process running.
  func available(_ host: Int32) -> Bool { workerUp[Int(host)] && platform.isUp(HostID(host)) }
  func server(_ host: Int32, _ disk: Int) -> Int { Int(host) * disksPerHost + disk }

  // MARK: Events

  package func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .start:
      started = simulator.now
      for m in 0..<maps { makePending(m) }
      schedule()
      if p.speculative {
        simulator.schedule(after: p.speculativeRetryAfterNoSpeculate, to: me, kind: Kind.speculate.rawValue)
      }
    case .launch: launched(Int(event.payload))
    case .schedule: schedule()
    case .fetchWake:
      let a = Int(event.payload)
      guard shuffles[a] != nil else { return }
      shuffles[a]!.wakeScheduled = false
      fetch(a)
    case .speculate:
      let launchedBackups = speculate()
      if finished == nil && !failedJob {
        simulator.schedule(
          after: launchedBackups > 0 ? p.speculativeRetryAfterSpeculate : p.speculativeRetryAfterNoSpeculate, to: me,
          kind: Kind.speculate.rawValue)
      }
    case .serve:
      let s = Int(event.payload)
      guard servers[s].scheduled else { return }
      servers[s].scheduled = false
      startServing(s)
    case .workerKill: killWorkers(p.workerKills[Int(event.payload)])
    case .workerRestart:
      let host = Int32(event.payload)
      guard !workerUp[Int(host)], finished == nil, !failedJob else { return }
      workerUp[Int(host)] = true
      restoreSlots(host)
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
      var skipped = false
      for host in workers where mapFree[Int(host)] > 0 && available(host) {
        while mapFree[Int(host)] > 0, pendingCount > 0 {
          guard let (m, level) = pickMap(for: host, now: now) else {
            skipped = true
            break
          }
          isPending[m] = false
          pendingCount -= 1
          if now >= started { locality[level] += 1 }
          lastMapLevel = level
          skippedSince = nil
          launch(task: m, on: host)
        }
      }
      // A slot declined in this pass waits on (its host is offered the job again at its next
      // heartbeat), even if a later host launched a map: the wait counts from now.
      if skipped, pendingCount > 0 {
        let since = skippedSince ?? now
        skippedSince = since
        let due = since + p.localityWait * (lastMapLevel == 0 && now - since >= p.localityWait ? 2 : 1)
        if lastMapLevel < 2 { nextCheck = due }
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
        for host in workers where reduceFree[Int(host)] > 0 && available(host) {
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
    while rerunHead < rerunMaps.count, !isPending[rerunMaps[rerunHead]] { rerunHead += 1 }
    if rerunHead < rerunMaps.count {
      let m = rerunMaps[rerunHead]
      let hosts = hdfs.blocks[m].replicas.map { self.host(ofReplica: $0) }
      let rack = platform.rack(of: HostID(host))
      let level = hosts.contains(host) ? 0 : hosts.contains { platform.rack(of: HostID($0)) == rack } ? 1 : 2
      return (m, level)
    }
    while localHead[h] < localMaps[h].count, !isPending[localMaps[h][localHead[h]]] { localHead[h] += 1 }
    if localHead[h] < localMaps[h].count { return (localMaps[h][localHead[h]], 0) }
    while fifoHead < fifo.count, !isPending[fifo[fifoHead]] { fifoHead += 1 }
    guard fifoHead < fifo.count else { return nil }
    let allowed = allowedLevel(now: now)
    let rack = platform.rack(of: HostID(host))
    if allowed >= 1 {
      while rackHead[rack] < rackMaps[rack].count, !isPending[rackMaps[rack][rackHead[rack]]] { rackHead[rack] += 1 }
      if rackHead[rack] < rackMaps[rack].count { return (rackMaps[rack][rackHead[rack]], 1) }
    }
    if allowed >= 2 { return (fifo[fifoHead], 2) }
    return nil
  }

  /// The furthest locality level (0 node, 1 rack, 2 any) the job may launch a map at, as the
  /// Fair Scheduler's delay scheduling decides it (Zaharia et al., EuroSys 2010): from the level
  /// of its last map launch and how long it has waited since a free slot first declined it
  /// (reset by every launch): after its last node-local one, rack-local after `locality_wait`,
  /// any after twice that; after a rack-local one, any after `locality_wait`.
  func allowedLevel(now: SimTime) -> Int {
    let waited = skippedSince.map { now - $0 } ?? .zero
    switch lastMapLevel {
    case 0: return waited >= p.localityWait + p.localityWait ? 2 : waited >= p.localityWait ? 1 : 0
    case 1: return waited >= p.localityWait ? 2 : 1
    default: return 2
    }
  }

  /// A map joins the pending lists (at the start, or to run again).
  func makePending(_ m: Int) {
    isPending[m] = true
    pendingCount += 1
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
    guard available(host) else { return attemptFailed(a, counted: false) }
    if tasks[t].isMap {
      attempts[a].phase = .reading
      let replicas = hdfs.blocks[t].replicas
      let bytes = tasks[t].bytes
      if let local = replicas.first(where: { self.host(ofReplica: $0) == host }) {
        // From the disk (dfs.datanode.data.dir) the replica is on.
        attempts[a].source = host
        attempts[a].activity = platform.diskIO(
          bytes: bytes, write: false, host: HostID(host), disk: hdfs.disk(Int32(t), on: local), observer: self,
          tag: Int64(a))
      } else {
        let rack = platform.rack(of: HostID(host))
        let up = replicas.filter { platform.isUp(HostID(self.host(ofReplica: $0))) }
        let near = up.filter { platform.rack(of: HostID(self.host(ofReplica: $0))) == rack }
        guard let source = near.first ?? up.first else { return attemptFailed(a) }
        attempts[a].source = self.host(ofReplica: source)
        attempts[a].activity = platform.pipeline(
          bytes: bytes, hosts: [HostID(self.host(ofReplica: source)), HostID(host)], readDisk: true,
          writeDisks: false, disks: [hdfs.disk(Int32(t), on: source), 0], observer: self, tag: Int64(a))
      }
    } else {
      attempts[a].phase = .fetching
      shuffles[a] = Shuffle(maps: maps)
      fetch(a)
    }
  }

  // MARK: Activities

  package func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    if tag < 0 { return served(Int(-1 - tag)) }
    let a = Int(tag)
    guard attempts[a].live else { return }
    let t = attempts[a].task
    let host = HostID(attempts[a].host)
    switch attempts[a].phase {
    case .reading:
      bytesRead += tasks[t].bytes
      pageCache.pass(tasks[t].bytes, host: HostID(attempts[a].source))
      attempts[a].phase = .computing
      cpuWork += tasks[t].bytes * p.costs.mapCost * factor(host.index)
      attempts[a].activity = platform.compute(
        work: tasks[t].bytes * p.costs.mapCost * factor(host.index), host: host, observer: self, tag: tag)
    case .computing:
      // Sort and spill the output to a local directory; beyond the sort buffer the spills are
      // merged (read and written again).
      let out = tasks[t].bytes * p.costs.mapOutputRatio * p.costs.combinerRatio
      let spilled = out <= p.sortBuffer ? out : 3 * out
      guard let disk = localDirs.choose(on: host, platform: platform) else { return attemptFailed(a) }
      bytesSpilled += spilled
      attempts[a].phase = .writing
      attempts[a].disk = disk
      attempts[a].activity = platform.diskIO(
        bytes: spilled * factor(host.index), write: true, host: host, disk: disk, observer: self, tag: tag)
    case .writing: mapDone(a)
    case .fetching:
      guard shuffles[a]?.inFlight != nil else { return }
      shuffles[a]!.inFlight!.gathered = true
      if shuffles[a]!.inFlight!.waiting == 0 { fetchDone(a) }
    case .merging:
      pageCache.pass(input(a) > p.reduceMemory ? 2 * input(a) : 0, host: host)
      attempts[a].phase = .reducing
      cpuWork += input(a) * p.costs.reduceCost * factor(host.index)
      attempts[a].activity = platform.compute(
        work: input(a) * p.costs.reduceCost * factor(host.index), host: host, observer: self, tag: tag)
    case .reducing:
      attempts[a].phase = .outputting
      let out = input(a) * p.costs.reduceOutputRatio
      let targets = hdfs.place(replicas: p.outputReplication, existing: [], writer: host.index)
      guard !targets.isEmpty else { return attemptFailed(a) }
      // Each replica on the next volume of its DataNode.
      var disks = [0]
      for dn in targets {
        guard let disk = outputVolumes.choose(on: hdfs.host(dn), platform: platform) else { return attemptFailed(a) }
        disks.append(disk)
      }
      attempts[a].outputHosts = targets.map { hdfs.host($0) }
      attempts[a].activity = platform.pipeline(
        bytes: out, hosts: [host] + attempts[a].outputHosts, readDisk: false, writeDisks: true, disks: disks,
        observer: self, tag: tag)
    case .outputting:
      bytesWritten += input(a) * p.costs.reduceOutputRatio
      for target in attempts[a].outputHosts { pageCache.pass(input(a) * p.costs.reduceOutputRatio, host: target) }
      taskDone(a)
      reducesDone += 1
      if reducesDone == p.reduces {
        finished = simulator.now
        if let onEnd { onEnd(true) } else { simulator.stop() }
      }
    case .launching, .done, .failed: break
    }
  }

  package func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    if tag < 0 {
      // A shuffle service's read failed (its disk or host is gone): its outputs are lost.
      let s = Int(-1 - tag)
      return outputsLost(host: Int32(s / disksPerHost), disk: s % disksPerHost)
    }
    let a = Int(tag)
    guard attempts[a].live else { return }
    attemptFailed(a, counted: reason != .hostDown)
  }

  func mapDone(_ a: Int) {
    let t = attempts[a].task
    let out = tasks[t].bytes * p.costs.mapOutputRatio * p.costs.combinerRatio
    // Its spills and merge passed through the page cache; the output file was written last.
    let spilled = out <= p.sortBuffer ? out : 3 * out
    let stamp = pageCache.pass(spilled, host: HostID(attempts[a].host))
    outputs.append(
      Output(map: t, host: attempts[a].host, disk: attempts[a].disk, bytes: out, valid: true, stamp: stamp))
    outputOf[t] = outputs.count - 1
    if outputCounted[t] {
      outputRewritten += out
    } else {
      outputCounted[t] = true
      shuffleWritten += out
    }
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
    attemptDurations[tasks[t].isMap ? 0 : 1].add((simulator.now - attempts[a].start).seconds)
    if tasks[t].attempts.count > 1, tasks[t].attempts.first != a { backupsWon += 1 }
    if !tasks[t].isMap, let shuffle = shuffles.removeValue(forKey: a) { shuffleRead += shuffle.bytes }
    for other in tasks[t].attempts where other != a { kill(other) }
    tasks[t].attempts = []
    release(a)
  }

  func release(_ a: Int) {
    attempts[a].live = false
    dropShuffle(a)
    let host = Int(attempts[a].host)
    if available(Int32(host)) {
      if tasks[attempts[a].task].isMap { mapFree[host] += 1 } else { reduceFree[host] += 1 }
    }
    simulator.schedule(after: .zero, to: me, kind: Kind.schedule.rawValue)
  }

  /// A reduce attempt that will not commit: what it fetched, and its fetch under way, are wasted.
  func dropShuffle(_ a: Int) {
    guard let shuffle = shuffles.removeValue(forKey: a) else { return }
    shuffleWasted += shuffle.bytes + (shuffle.inFlight?.bytes ?? 0)
  }

  func kill(_ a: Int) {
    guard attempts[a].live else { return }
    if let activity = attempts[a].activity { platform.cancel(activity) }
    attempts[a].phase = .failed
    release(a)
  }

  /// An attempt failed (its input vanished, a disk failed) or was lost (its host died, its worker
  /// was killed: `counted` false, as Hadoop counts those attempts killed, not failed): the task
  /// goes back to pending, unless a rival still runs, or it has failed `max_attempts` times (then
  /// the job fails).
  func attemptFailed(_ a: Int, counted: Bool = true) {
    guard attempts[a].live else { return }
    let t = attempts[a].task
    if let activity = attempts[a].activity { platform.cancel(activity) }
    attempts[a].phase = .failed
    attempts[a].live = false
    dropShuffle(a)
    if available(attempts[a].host) {
      if tasks[t].isMap { mapFree[Int(attempts[a].host)] += 1 } else { reduceFree[Int(attempts[a].host)] += 1 }
    }
    tasks[t].attempts.removeAll { $0 == a }
    guard !tasks[t].done, tasks[t].attempts.isEmpty else { return }
    if counted { tasks[t].failures += 1 }
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
    // Re-executed tasks go first (a reduce to the head of the queue).
    if tasks[t].isMap {
      makePending(t)
      rerunMaps.append(t)
    } else {
      pendingReduces.insert(t, at: 0)
    }
    simulator.schedule(after: .zero, to: me, kind: Kind.schedule.rawValue)
  }

  // MARK: Shuffle

  /// A reduce attempt's shuffle: how far along `outputs` it has looked, which maps' outputs it
  /// holds (a bit per map, so a map run again after its output was lost is not fetched twice),
  /// what it has fetched, and its fetch under way: its bytes and maps by server, whether its
  /// transfer (the receiver's side) is done and how many servers it still waits for.
  struct Shuffle {
    var looked = 0
    var holds: BitSet
    var held = 0
    var bytes = 0.0
    var lastFetch = SimTime(nanoseconds: -1_000_000_000_000)
    var wakeScheduled = false
    var inFlight: Fetch?
    init(maps: Int) { holds = BitSet(count: maps) }
    func has(_ map: Int) -> Bool { holds.contains(map) }
  }

  struct Fetch {
    var serial: Int
    var upTo: Int
    var bytes: Double
    var parts: [(server: Int, bytes: Double, maps: [Int])]
    var gathered = false
    var waiting = 0
  }

  /// The poll interval (of `shuffle_poll_interval`, counted from the job's start) `time` is in.
  func pollTick(_ time: SimTime) -> Int64 {
    (time.nanoseconds - started.nanoseconds) / p.shufflePoll.nanoseconds
  }

  /// The reduce attempt fetches its share of every valid map output it lacks, in one transfer,
  /// at most once in each `shuffle_poll_interval` of the job's clock (so the reduces that wait
  /// poll together, and each map host gets their requests at one instant), each source disk's
  /// share asked of its server; with all maps done and nothing left, it merges.
  func fetch(_ a: Int) {
    // Only a reduce attempt in its copy phase fetches: a wake-up scheduled while maps still ran
    // can fire after the attempt has moved on to its merge (all maps done in between), and must
    // not start the merge again.
    guard attempts[a].live, attempts[a].phase == .fetching, let shuffle = shuffles[a], shuffle.inFlight == nil
    else { return }
    let now = simulator.now
    let last = pollTick(shuffle.lastFetch)
    if pollTick(now) <= last, mapsDone < maps {
      if !shuffle.wakeScheduled {
        shuffles[a]!.wakeScheduled = true
        simulator.schedule(
          at: SimTime(nanoseconds: started.nanoseconds + (last + 1) * p.shufflePoll.nanoseconds), to: me,
          kind: Kind.fetchWake.rawValue, payload: Int64(a))
      }
      return
    }
    var bytes = 0.0
    var byServer: [Int: Int] = [:]
    var parts: [(server: Int, bytes: Double, maps: [Int])] = []
    var fromDisk: [Double] = []
    for k in shuffle.looked..<outputs.count where outputs[k].valid && !shuffle.has(outputs[k].map) {
      let share = outputs[k].bytes / Double(p.reduces)
      let cached = pageCache.cachedFraction(
        bytes: outputs[k].bytes, stamp: outputs[k].stamp, host: HostID(outputs[k].host))
      bytes += share
      let s = server(outputs[k].host, outputs[k].disk)
      if let i = byServer[s] {
        parts[i].bytes += share
        parts[i].maps.append(outputs[k].map)
        fromDisk[i] += share * (1 - cached)
      } else {
        byServer[s] = parts.count
        parts.append((s, share, [outputs[k].map]))
        fromDisk.append(share * (1 - cached))
      }
    }
    if parts.isEmpty {
      shuffles[a]!.looked = outputs.count
      if mapsDone == maps {
        if shuffle.held < maps { return rerunMissing(a) }
        mergePhase(a)
      }
      return  // woken by the next map output
    }
    fetchSerial += 1
    var waiting = 0
    for (i, part) in parts.enumerated() where part.bytes > 0 {
      servers[part.server].requested += part.bytes
      servers[part.server].requestedFromDisk += fromDisk[i]
      servers[part.server].waiters.append((servers[part.server].requested, a, fetchSerial))
      waiting += 1
      requestServing(part.server)
    }
    shuffles[a]!.inFlight = Fetch(
      serial: fetchSerial, upTo: outputs.count, bytes: bytes, parts: parts, waiting: waiting)
    shuffles[a]!.lastFetch = now
    shuffleFetched += bytes
    attempts[a].activity = platform.gather(bytes: bytes, to: HostID(attempts[a].host), observer: self, tag: Int64(a))
  }

  /// A server is asked for bytes: unless it is reading, it reads once every request of this
  /// instant is in.
  func requestServing(_ s: Int) {
    guard servers[s].pending == 0, !servers[s].scheduled else { return }
    servers[s].scheduled = true
    simulator.schedule(after: .zero, to: me, kind: Kind.serve.rawValue, payload: Int64(s))
  }

  /// A server sends all that was asked of it so far (if it is not sending already): what the
  /// page cache no longer holds read from its disk, the rest from memory, side by side.
  func startServing(_ s: Int) {
    guard servers[s].pending == 0, servers[s].requested > servers[s].served else { return }
    servers[s].target = servers[s].requested
    servers[s].targetFromDisk = servers[s].requestedFromDisk
    let host = HostID(Int32(s / disksPerHost))
    let fromDisk = servers[s].targetFromDisk - servers[s].servedFromDisk
    let fromMemory = servers[s].target - servers[s].served - fromDisk
    // Shares below a byte are rounding, not reads.
    for (bytes, disk) in [(fromDisk, Optional(s % disksPerHost)), (fromMemory, nil)] where bytes > 1e-3 {
      servers[s].pending += 1
      servers[s].activities.append(
        platform.serve(bytes: bytes, from: host, disk: disk, observer: self, tag: Int64(-1 - s)))
    }
    if servers[s].pending == 0 {
      servers[s].pending = 1
      served(s)
    }
  }

  func served(_ s: Int) {
    servers[s].pending -= 1
    guard servers[s].pending == 0 else { return }
    let fromDisk = servers[s].targetFromDisk - servers[s].servedFromDisk
    shuffleServed += servers[s].target - servers[s].served
    shuffleFromCache += servers[s].target - servers[s].served - fromDisk
    // What the disk read went through the page cache.
    pageCache.pass(fromDisk, host: HostID(Int32(s / disksPerHost)))
    servers[s].served = servers[s].target
    servers[s].servedFromDisk = servers[s].targetFromDisk
    servers[s].activities = []
    var ready: [Int] = []
    while servers[s].head < servers[s].waiters.count, servers[s].waiters[servers[s].head].offset <= servers[s].served {
      let w = servers[s].waiters[servers[s].head]
      servers[s].head += 1
      guard shuffles[w.attempt]?.inFlight?.serial == w.serial else { continue }
      shuffles[w.attempt]!.inFlight!.waiting -= 1
      if shuffles[w.attempt]!.inFlight!.waiting == 0, shuffles[w.attempt]!.inFlight!.gathered {
        ready.append(w.attempt)
      }
    }
    compact(s)
    requestServing(s)
    for a in ready { fetchDone(a) }
  }

  func compact(_ s: Int) {
    if servers[s].head == servers[s].waiters.count {
      servers[s].waiters.removeAll(keepingCapacity: true)
      servers[s].head = 0
    } else if servers[s].head > 1024, servers[s].head * 2 > servers[s].waiters.count {
      servers[s].waiters.removeFirst(servers[s].head)
      servers[s].head = 0
    }
  }

  func fetchDone(_ a: Int) {
    guard let got = shuffles[a]?.inFlight else { return }
    shuffles[a]!.inFlight = nil
    shuffles[a]!.looked = got.upTo
    for part in got.parts {
      for map in part.maps {
        shuffles[a]!.holds.insert(map)
        shuffles[a]!.held += 1
      }
    }
    shuffles[a]!.bytes += got.bytes
    shuffleArrived += got.bytes
    fetch(a)
  }

  /// Every map is done but the reduce lacks outputs that are gone (lost while no running reduce
  /// needed them): as a reduce's fetch failures do in Hadoop, they make their maps run again.
  func rerunMissing(_ a: Int) {
    for m in 0..<maps where !shuffles[a]!.has(m) && outputOf[m] < 0 && tasks[m].done {
      tasks[m].done = false
      mapsDone -= 1
      mapPhaseEnd = nil
      rerunLostOutput += 1
      requeue(m)
    }
  }

  /// The bytes a task works on: a map's split, a reduce attempt's shuffled input.
  func input(_ a: Int) -> Double {
    tasks[attempts[a].task].isMap ? tasks[attempts[a].task].bytes : shuffles[a]?.bytes ?? 0
  }

  func mergePhase(_ a: Int) {
    attempts[a].phase = .merging
    attempts[a].workStart = simulator.now
    let bytes = input(a)
    let host = HostID(attempts[a].host)
    // Beyond its memory a reduce merges on disk (a local directory): written once and read back.
    let disk = bytes > p.reduceMemory ? 2 * bytes : 0
    guard let dir = localDirs.choose(on: host, platform: platform) else { return attemptFailed(a) }
    bytesSpilled += disk
    attempts[a].disk = dir
    attempts[a].activity = platform.diskIO(
      bytes: disk * factor(attempts[a].host), write: true, host: host, disk: dir, observer: self, tag: Int64(a))
  }

  // MARK: Failures and speculation

  package func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator) {
    guard finished == nil, !failedJob else { return }
    guard up else {
      pageCache.drop(host: host)
      workerLost(host.index)
      return
    }
    workerUp[Int(host.index)] = true
    restoreSlots(host.index)
  }

  package func diskFailed(_ host: HostID, disk: Int, in simulator: Simulator) {
    guard finished == nil, !failedJob else { return }
    outputsLost(host: host.index, disk: disk)
  }

  /// A host's worker process is gone (the host crashed, or the process was killed): its
  /// attempts are lost and its shuffle service with the map outputs it served.
  func workerLost(_ host: Int32) {
    for a in attempts.indices where attempts[a].live && attempts[a].host == host {
      attemptFailed(a, counted: false)
    }
    mapFree[Int(host)] = 0
    reduceFree[Int(host)] = 0
    for disk in 0..<disksPerHost { outputsLost(host: host, disk: disk) }
  }

  /// The map outputs on a host's disk are gone: those some unfinished reduce still lacks are made
  /// again; the fetches waiting for that disk's server get the rest of what they asked for.
  func outputsLost(host: Int32, disk: Int) {
    for k in outputs.indices where outputs[k].host == host && outputs[k].disk == disk && outputs[k].valid {
      outputs[k].valid = false
      let m = outputs[k].map
      if outputOf[m] == k { outputOf[m] = -1 }
      let needed = (maps..<tasks.count).contains { t in
        !tasks[t].done && !tasks[t].attempts.contains { shuffles[$0]?.has(m) == true }
      }
      if needed, tasks[m].done {
        tasks[m].done = false
        mapsDone -= 1
        mapPhaseEnd = nil
        rerunLostOutput += 1
        requeue(m)
      }
    }
    let s = server(host, disk)
    for activity in servers[s].activities { platform.cancel(activity) }
    let waiters = servers[s].waiters[servers[s].head...]
    servers[s] = Server()
    var ready: [Int] = []
    for w in waiters {
      guard shuffles[w.attempt]?.inFlight?.serial == w.serial else { continue }
      var fetch = shuffles[w.attempt]!.inFlight!
      guard let i = fetch.parts.firstIndex(where: { $0.server == s }) else { continue }
      // Moved by the transfer, but never served: wasted, and those maps are still lacking.
      shuffleWasted += fetch.parts[i].bytes
      fetch.bytes -= fetch.parts[i].bytes
      fetch.parts.remove(at: i)
      fetch.waiting -= 1
      shuffles[w.attempt]!.inFlight = fetch
      if fetch.waiting == 0, fetch.gathered { ready.append(w.attempt) }
    }
    for a in ready { fetchDone(a) }
  }

  func restoreSlots(_ host: Int32) {
    mapFree[Int(host)] = p.mapSlots
    reduceFree[Int(host)] = p.reduceSlots
    for a in attempts.indices where attempts[a].live && attempts[a].host == host {
      if tasks[attempts[a].task].isMap { mapFree[Int(host)] -= 1 } else { reduceFree[Int(host)] -= 1 }
    }
    simulator.schedule(after: .zero, to: me, kind: Kind.schedule.rawValue)
  }

  /// `worker_kills`: that many running worker processes, chosen at random, are killed; each
  /// starts again after `restart` (if given).
  func killWorkers(_ kill: MapReduceParameters.WorkerKill) {
    guard finished == nil, !failedJob else { return }
    var candidates = workers.filter { available($0) }
    for k in 0..<min(kill.workers, candidates.count) {
      let j = k + killRandom.uniformInt(candidates.count - k)
      candidates.swapAt(k, j)
      let host = candidates[k]
      workerUp[Int(host)] = false
      workersKilled += 1
      workerLost(host)
      if let restart = kill.restart {
        simulator.schedule(after: restart, to: me, kind: Kind.workerRestart.rawValue, payload: Int64(host))
      }
    }
  }

  /// A running attempt's progress in 0...1 as Hadoop reports it: a map's read, compute and
  /// output thirds; a reduce's copy (the share of the maps it holds), merge and reduce thirds.
  func progress(_ a: Int) -> Double {
    let attempt = attempts[a]
    var part = 1.0
    if let activity = attempt.activity, platform.fluid.isCurrent(activity) {
      let amount = platform.fluid.amount(of: activity)
      part = amount > 0 ? 1 - platform.fluid.remaining(of: activity) / amount : 1
    }
    switch attempt.phase {
    case .launching, .done, .failed: return 0
    case .reading: return part / 3
    case .computing: return (1 + part) / 3
    case .writing: return (2 + part) / 3
    case .fetching: return Double(shuffles[a]?.held ?? 0) / Double(maps) / 3
    case .merging: return (1 + part) / 3
    case .reducing: return (2 + part / 2) / 3
    case .outputting: return (2.5 + part / 2) / 3
    }
  }

  /// Hadoop's DefaultSpeculator with its LegacyTaskRuntimeEstimator, once per kind per scan: only
  /// when no task of the kind waits for a slot and at least 5% of them are done; a running task's
  /// end is estimated from its progress rate (start + elapsed / progress); it is worth a backup
  /// when a new attempt (now + the mean attempt duration of the kind) would end earlier; the task
  /// furthest beyond gets one backup on a random other host with a free slot, while fewer
  /// backups run than max(minimum-allowed-tasks, cap-total-tasks x tasks, cap-running-tasks x
  /// running tasks). Returns the backups launched.
  func speculate() -> Int {
    guard p.speculative, finished == nil, !failedJob else { return 0 }
    let now = simulator.now
    var launchedBackups = 0
    for isMap in [true, false] {
      let total = isMap ? maps : p.reduces
      let done = isMap ? mapsDone : reducesDone
      let waiting = isMap ? pendingCount > 0 : !reducesStarted || !pendingReduces.isEmpty
      guard !waiting, done >= 1, Double(done) >= 0.05 * Double(total) else { continue }
      if p.speculation == .endOfPhase {
        launchedBackups += backUpTheRest(isMap: isMap, total: total)
        continue
      }
      let mean = attemptDurations[isMap ? 0 : 1].mean
      var running = 0
      var already = 0
      var best: (task: Int, value: Double)?
      for t in (isMap ? 0..<maps : maps..<tasks.count) where !tasks[t].done && !tasks[t].attempts.isEmpty {
        running += 1
        guard tasks[t].attempts.count == 1 else {
          already += 1
          continue
        }
        let a = tasks[t].attempts[0]
        let progress = progress(a)
        guard progress > 0 else { continue }
        let elapsed = (now - attempts[a].start).seconds
        let estimatedEnd = elapsed / progress - elapsed  // seconds from now
        guard estimatedEnd > mean else { continue }
        let value = estimatedEnd - mean
        if best == nil || value > best!.value { best = (t, value) }
      }
      let allowed = max(
        Double(p.speculativeMinimumAllowed), p.speculativeCapTotal * Double(total),
        p.speculativeCapRunning * Double(running))
      guard let best, Double(already) < allowed else { continue }
      let original = attempts[tasks[best.task].attempts[0]].host
      let free = workers.filter {
        $0 != original && available($0) && (isMap ? mapFree[Int($0)] : reduceFree[Int($0)]) > 0
      }
      guard !free.isEmpty else { continue }
      backups += 1
      launchedBackups += 1
      launch(task: best.task, on: free[random.uniformInt(free.count)])
    }
    return launchedBackups
  }

  /// Dean and Ghemawat's backup tasks (OSDI 2004, section 3.6): "when a MapReduce operation is
  /// close to completion, the master schedules backup executions of the remaining in-progress
  /// tasks". Close to completion: no task of the kind waits for a slot and the ones in progress
  /// are no more than the backups allowed (max(minimum-allowed-tasks, cap-total-tasks x
  /// tasks)); then each in progress without a backup gets one on a random other host with a
  /// free slot. Returns the backups launched.
  func backUpTheRest(isMap: Bool, total: Int) -> Int {
    let range = isMap ? 0..<maps : maps..<tasks.count
    let inProgress = range.filter { !tasks[$0].done && !tasks[$0].attempts.isEmpty }
    let allowed = max(Double(p.speculativeMinimumAllowed), p.speculativeCapTotal * Double(total))
    guard !inProgress.isEmpty, Double(inProgress.count) <= allowed else { return 0 }
    var launchedBackups = 0
    for t in inProgress where tasks[t].attempts.count == 1 {
      let original = attempts[tasks[t].attempts[0]].host
      let free = workers.filter {
        $0 != original && available($0) && (isMap ? mapFree[Int($0)] : reduceFree[Int($0)]) > 0
      }
      guard !free.isEmpty else { break }
      backups += 1
      launchedBackups += 1
      launch(task: t, on: free[random.uniformInt(free.count)])
    }
    return launchedBackups
  }
}

extension MapReduceJob: BatchJob {
  package func retire() {
    simulator.retire(me)
    platform.removeObserver(self)
    platform.fluid.release(self)
  }
}
