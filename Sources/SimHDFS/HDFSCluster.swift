import Foundation
import SimKernel
import SimPlatform

/// The NameNode, the DataNodes and the clients, on the platform.
///
/// The NameNode (the first host) keeps the namespace and the block map and answers RPCs from a
/// pool of `handler_count` handlers (a ServerPool on its host). DataNode d runs on host d + 1
/// with the host's disks as its volumes (`dfs.datanode.data.dir`): each new replica goes to the
/// next working volume in turn (RoundRobinVolumeChoosingPolicy, through ``LocalDirs``), and the
/// volume is remembered per stored replica. A block write is one pipelined activity (client ->
/// DN1 -> DN2 -> DN3, every hop's links and every DataNode's disk write at one rate); a read is
/// one activity from the closest replica's disk to the client. The NameNode's heartbeat monitor
/// (HeartbeatManager.Monitor) checks every ``HDFSParameters/checkPeriod`` and declares dead a
/// DataNode whose last heartbeat is older than `2 x recheck + 10 x heartbeat`; it drops its
/// replicas from the block map and re-replicates: every `replication_interval` it schedules up
/// to `replication_work_multiplier` x live DataNodes blocks, fewest live replicas first, each
/// from a source chosen as BlockManager.chooseSourceDatanodes does to targets chosen as
/// ReplicationWork.chooseTargets does.
package final class HDFSCluster: EventHandler, ActivityObserver, PlatformObserver, ServerPoolObserver {
  enum Kind: Int32 {
    case clientNext = 0  // payload: client
    case replicationMonitor = 1
    case heartbeatCheck = 2  // payload: the Monitor's epoch (a NameNode restart starts a new one)
    case sample = 3
    case endOfWarmup = 4
    case checkpoint = 5
    case retryRPC = 6  // payload: client
    case namenodeReady = 7  // payload: the Monitor's epoch
  }

  /// What an activity or RPC is for: the top byte of its tag (the rest is an id).
  enum Purpose: Int64 {
    case rpc = 1
    case writeBlock = 2
    case readBlock = 3
    case copy = 4
  }

  package struct Block {
    package var size: Double
    /// DataNodes holding it, in the NameNode's map (not those declared dead, not failed disks).
    package var replicas: [Int32]
    var pending = 0
  }

  struct Client {
    var host: Int32
    var filesDone = 0
    /// The file in progress: its blocks so far, the next block, its start.
    var file = -1
    var size = 0.0
    var blocks: [Int32] = []
    var next = 0
    var start = SimTime.zero
    var step = Step.idle
    var tried: [Int32] = []
  }

  enum Step { case idle, create, addBlock, complete, open, transfer }

  let p: HDFSParameters
  unowned let platform: Platform
  unowned let simulator: Simulator
  var me = EntityID(0)
  let warmup: SimTime
  let sampleInterval: SimTime?
  let namenode: ServerPool
  let random: RandomStream
  let sizes: RandomStream
  let racks: [Int]
  // State.
  package var blocks: [Block] = []
  var files: [[Int32]] = []
  /// Blocks physically on each DataNode (a superset of the map's view), each with the volume
  /// (disk) its replica is on: a byte per stored replica.
  var stored: [[Int32: UInt8]] = []
  /// Each DataNode's choice of volume for its next replica.
  var volumes: LocalDirs
  var dead: [Bool]
  /// DataNodes down and not yet declared dead: when they failed and when their last heartbeat
  /// reached the NameNode.
  var silent: [Int32: (failed: SimTime, heartbeat: SimTime)] = [:]
  /// When the NameNode last came up (its DataNodes registered with it then).
  var namenodeStart = SimTime.zero
  /// The heartbeat monitor's run: a NameNode restart starts a new one and ends the old.
  var monitorEpoch: Int64 = 0
  /// Failure to dead-node declaration, over every DataNode declared dead.
  var detections = RunningStatistics()
  /// Copies queued on each DataNode as a source (getNumberOfBlocksToBeReplicated).
  var streams: [Int]
  var needed = Set<Int32>()
  /// Reconstructions in flight: one transfer from the source through its targets, each with the
  /// volume the replica goes to.
  var copies: [Int64: (block: Int32, source: Int32, targets: [(dn: Int32, disk: UInt8)])] = [:]
  var nextCopy: Int64 = 0
  var clients: [Client] = []
  var namenodeReady = SimTime.zero
  var namenodeUp = true
  var edits = 0
  var lastFailure: SimTime?
  var degradedSince: SimTime?
  // Statistics.
  var writeLatency = LatencyHistogram()
  var readLatency = LatencyHistogram()
  var fileRates = RunningStatistics()
  var bytesWritten = 0.0
  var bytesRead = 0.0
  var replicaBytes = 0.0
  var blocksWritten = 0
  var readsTried = 0
  var readsFailed = 0
  var locality = [0, 0, 0]  // node-local, rack-local, remote
  var rpcs = 0
  /// The measured files' first start and last end (throughput is over that span, as TestDFSIO's).
  var firstStart: SimTime?
  var lastEnd = SimTime.zero
  var repairs: [(detected: Double, repaired: Double, recovered: Double)] = []
  var underReplicatedMax = 0
  var missingMax = 0
  var series = TimeSeries()

  package init(parameters: HDFSParameters, platform: Platform, simulator: Simulator, context: RunContext) {
    p = parameters
    self.platform = platform
    self.simulator = simulator
    warmup = context.warmup
    sampleInterval = context.timeseriesInterval
    random = context.streams.stream("hdfs.placement")
    sizes = context.streams.stream("hdfs.sizes")
    racks = (0...parameters.datanodes).map { platform.rack(of: HostID(Int32($0))) }
    namenode = ServerPool(servers: parameters.handlerCount, simulator: simulator, on: HostID(0), platform: platform)
    dead = Array(repeating: false, count: parameters.datanodes)
    streams = Array(repeating: 0, count: parameters.datanodes)
    stored = Array(repeating: [:], count: parameters.datanodes)
    volumes = LocalDirs(hosts: parameters.datanodes + 1)
    me = simulator.register(self)
    platform.addObserver(self)
    platform.assignRole("namenode", hosts: [HostID(0)])
    platform.assignRole("datanode", hosts: (0..<Int32(parameters.datanodes)).map(host))
    preload()
    if p.workload != .none {
      for host in p.clientHosts { clients.append(Client(host: host)) }
      platform.assignRole("client", hosts: p.clientHosts.map(HostID.init))
      for c in clients.indices {
        simulator.schedule(after: .zero, to: me, kind: Kind.clientNext.rawValue, payload: Int64(c))
      }
    }
    simulator.schedule(after: p.replicationInterval, to: me, kind: Kind.replicationMonitor.rawValue)
    // The NameNode has been up for a while when the run starts (the preloaded data is in it):
    // its Monitor is somewhere in its cycle, the next check uniformly within one period. (A
    // restart in the run starts a cycle at the restart: the first look checks at once.)
    let phase = Int64(context.streams.stream("hdfs.monitor").uniform() * Double(p.checkPeriod.nanoseconds))
    simulator.schedule(
      after: SimTime(nanoseconds: phase), to: me, kind: Kind.heartbeatCheck.rawValue, payload: monitorEpoch)
    simulator.schedule(after: p.checkpointPeriod, to: me, kind: Kind.checkpoint.rawValue)
    if warmup > .zero { simulator.schedule(at: warmup, to: me, kind: Kind.endOfWarmup.rawValue) }
    if let interval = sampleInterval { simulator.schedule(after: interval, to: me, kind: Kind.sample.rawValue) }
  }

  package func host(_ dn: Int32) -> HostID { HostID(dn + 1) }
  func dataNode(of host: Int32) -> Int32? { host >= 1 && Int(host) <= p.datanodes ? host - 1 : nil }
  func rack(_ dn: Int32) -> Int { racks[Int(dn) + 1] }
  /// The volume (disk) of DataNode `dn` that holds its replica of `block`; 0 if it holds none.
  package func disk(_ block: Int32, on dn: Int32) -> Int { Int(stored[Int(dn)][block] ?? 0) }
  /// The volume for a new replica on `dn`: its next working disk in turn (RoundRobinVolumeChoosingPolicy
  /// skips failed volumes); nil if every disk of its host has failed.
  package func newVolume(on dn: Int32) -> UInt8? { volumes.choose(on: host(dn), platform: platform).map { UInt8($0) } }
  /// Whether `dn` has a volume left to take a replica.
  func hasVolume(_ dn: Int32) -> Bool {
    (0..<platform.diskCount(of: host(dn))).contains { !platform.isDiskFailed(host(dn), disk: $0) }
  }
  /// Stores a replica of `block` on `dn`, on `disk` or else on its next volume; false if it has none.
  @discardableResult
  func store(_ block: Int32, on dn: Int32, disk: UInt8? = nil) -> Bool {
    guard let volume = disk ?? newVolume(on: dn) else { return false }
    stored[Int(dn)][block] = volume
    return true
  }
  func tag(_ purpose: Purpose, _ id: Int64) -> Int64 { purpose.rawValue << 56 | id }

  /// The data already in HDFS: files of `preload_file_size` written by random DataNodes.
  func preload() {
    for _ in 0..<p.preloadFiles {
      let size = max(1, p.preloadFileSize.sample(sizes))
      let writer = Int32(random.uniformInt(p.datanodes)) + 1
      var list: [Int32] = []
      var left = size
      while left > 0 {
        let chunk = min(left, p.blockSize)
        left -= chunk
        list.append(addBlock(size: chunk, replicas: place(replicas: p.replication, existing: [], writer: writer)))
      }
      files.append(list)
    }
  }

  /// A block written outside the model's clients (preloaded, or by another model's loader): each
  /// replica on its DataNode's next volume, or on the given `volumes` (one per replica) when the
  /// writer chose them for its pipeline with ``newVolume(on:)``.
  @discardableResult
  package func addBlock(size: Double, replicas: [Int32], volumes: [UInt8]? = nil) -> Int32 {
    let id = Int32(blocks.count)
    var held: [Int32] = []
    for (k, dn) in replicas.enumerated() where store(id, on: dn, disk: volumes?[k]) { held.append(dn) }
    blocks.append(Block(size: size, replicas: held))
    return id
  }

  /// Deletes every file and block: a staging area emptied once its load is done (`hdfs dfs -rm
  /// -r -skipTrash`). The replicas leave the DataNodes at once; re-replication of them in flight
  /// is abandoned (its transfers run out unused), and block ids start again from 0.
  package func deleteAll() {
    for copy in copies.values { streams[Int(copy.source)] -= 1 }
    copies.removeAll()
    blocks.removeAll()
    files.removeAll()
    needed.removeAll()
    for dn in stored.indices { stored[dn].removeAll() }
    checkRepaired()
  }

  // MARK: Placement

  /// Targets for a new block's `replicas` replicas (or more replicas of one that has `existing`
  /// ones), written from host `writer` (or -1). Never two replicas on one DataNode; only live
  /// DataNodes with a working volume.
  package func place(replicas count: Int, existing: [Int32], writer: Int32) -> [Int32] {
    choose(
      count, existing: existing, writer: dataNode(of: writer),
      writerRack: writer >= 0 ? platform.rack(of: HostID(writer)) : -1, newBlock: existing.isEmpty)
  }

  /// Targets for `count` more replicas of a block whose live replicas are `existing`, copied from
  /// `source`: ReplicationWork.chooseTargets calls the policy's chooseTarget with the source as
  /// the writer and the live replicas as the chosen nodes, so for a block that has replicas
  /// (newBlock false) BlockPlacementPolicyDefault.chooseTargetInOrder puts a third replica next
  /// to two on different racks on the source's rack, not the second replica's.
  func reconstructionTargets(_ count: Int, existing: [Int32], excluding: [Int32], source: Int32) -> [Int32] {
    choose(count, existing: existing, excluding: excluding, writer: source, writerRack: rack(source), newBlock: false)
  }

  /// BlockPlacementPolicyDefault.chooseTarget (and the other policies): `existing` are the
  /// chosen nodes, `writer` the writer's DataNode if it is one.
  func choose(
    _ count: Int, existing: [Int32], excluding: [Int32] = [], writer: Int32?, writerRack: Int, newBlock: Bool
  ) -> [Int32] {
    var chosen = existing
    var added: [Int32] = []
    let live = (0..<Int32(p.datanodes)).filter { !dead[Int($0)] && platform.isUp(host($0)) && hasVolume($0) }
    // The racks with a live DataNode, in order (a pass over the DataNodes, no sorting).
    var hasLive = Array(repeating: false, count: (racks.max() ?? 0) + 1)
    for dn in live { hasLive[rack(dn)] = true }
    let liveRacks = hasLive.indices.filter { hasLive[$0] }
    // getMaxNodesPerRack: at most (replicas - 1) / racks + 2 on a rack, and never all of them.
    let total = min(existing.count + count, live.count + existing.count)
    var maxPerRack = total
    if liveRacks.count > 1, total > 1 {
      maxPerRack = (total - 1) / liveRacks.count + 2
      if maxPerRack == total { maxPerRack -= 1 }
    }
    func pick(_ candidates: [Int32], limited: Bool = true) -> Int32? {
      let free = candidates.filter { dn in
        !chosen.contains(dn) && !excluding.contains(dn)
          && (!limited || chosen.filter { rack($0) == rack(dn) }.count < maxPerRack)
      }
      return free.isEmpty ? nil : free[random.uniformInt(free.count)]
    }
    func add(_ dn: Int32?) -> Bool {
      guard let dn else { return false }
      chosen.append(dn)
      added.append(dn)
      return true
    }
    /// chooseRandom anywhere (within the rack limit, then without it).
    func anywhere() -> Bool { add(pick(live)) || add(pick(live, limited: false)) }
    /// chooseLocalRack: a node of `home`'s rack, else anywhere.
    func localRack(_ home: Int) -> Bool { add(pick(live.filter { rack($0) == home })) || anywhere() }
    /// chooseRemoteRack: a node of another rack than `home`, else anywhere.
    func remoteRack(_ home: Int) -> Bool { add(pick(live.filter { rack($0) != home })) || anywhere() }
    var writer = writer
    while added.count < count {
      let racksUsed = chosen.map { rack($0) }
      var ok = false
      switch p.placement {
      case .oneRack:
        let home = racksUsed.first ?? (writerRack >= 0 ? writerRack : rack(live.first ?? 0))
        ok = add(pick(live.filter { rack($0) == home }, limited: false))
      case .rackFaultTolerant:
        // The rack with the fewest replicas so far (ties: random), then a node in it.
        let counts = Dictionary(grouping: racksUsed, by: { $0 }).mapValues(\.count)
        let least = liveRacks.map { counts[$0] ?? 0 }.min() ?? 0
        let racksFree = liveRacks.filter { (counts[$0] ?? 0) == least }
        let target = racksFree.isEmpty ? -1 : racksFree[random.uniformInt(racksFree.count)]
        ok = add(pick(live.filter { rack($0) == target }, limited: false)) || add(pick(live, limited: false))
      case .default:
        // chooseTargetInOrder.
        switch chosen.count {
        case 0:
          // chooseLocalStorage: the writer's own DataNode, else a node of its rack.
          if let local = writer, live.contains(local), !chosen.contains(local), !excluding.contains(local) {
            ok = add(local)
          } else {
            ok = writerRack >= 0 ? localRack(writerRack) : anywhere()
          }
          writer = chosen.first
        case 1:
          ok = remoteRack(racksUsed[0])
        case 2:
          if racksUsed[0] == racksUsed[1] {
            ok = remoteRack(racksUsed[0])
          } else if newBlock {
            ok = localRack(racksUsed[1])
          } else {
            // A block that has replicas: the writer's (the source's) rack.
            ok = localRack(writer.map { rack($0) } ?? racksUsed[0])
          }
        default:
          ok = anywhere()
        }
      }
      if !ok { break }
    }
    return added
  }

  // MARK: Events

  package func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .clientNext: clientNext(Int(event.payload))
    case .retryRPC: rpc(Int(event.payload))
    case .replicationMonitor:
      replicationMonitor()
      simulator.schedule(after: p.replicationInterval, to: me, kind: Kind.replicationMonitor.rawValue)
    case .heartbeatCheck:
      // A check of an earlier run of the Monitor (before a NameNode restart) is over.
      guard event.payload == monitorEpoch, namenodeUp else { return }
      heartbeatCheck()
      simulator.schedule(after: p.checkPeriod, to: me, kind: Kind.heartbeatCheck.rawValue, payload: monitorEpoch)
    case .namenodeReady:
      if event.payload == monitorEpoch, namenodeUp { namenodeReadyAfterRestart() }
    case .checkpoint:
      if namenodeUp { edits = 0 }
      simulator.schedule(after: p.checkpointPeriod, to: me, kind: Kind.checkpoint.rawValue)
    case .endOfWarmup:
      writeLatency.reset()
      readLatency.reset()
      fileRates = RunningStatistics()
      firstStart = nil
      (bytesWritten, bytesRead, readsTried, readsFailed, locality) = (0, 0, 0, 0, [0, 0, 0])
    case .sample:
      let (under, missing) = blockHealth()
      series.append(time: simulator.now, metric: "hdfs.under_replicated_blocks", value: Double(under))
      series.append(time: simulator.now, metric: "hdfs.missing_blocks", value: Double(missing))
      if let interval = sampleInterval { simulator.schedule(after: interval, to: me, kind: Kind.sample.rawValue) }
    case nil: preconditionFailure("unknown hdfs event")
    }
  }

  /// Blocks short of their replication, and blocks with no replica in the map.
  func blockHealth() -> (Int, Int) {
    var under = 0
    var missing = 0
    for block in needed {
      let n = blocks[Int(block)].replicas.count
      if n < p.replication { under += 1 }
      if n == 0 { missing += 1 }
    }
    underReplicatedMax = max(underReplicatedMax, under)
    missingMax = max(missingMax, missing)
    return (under, missing)
  }

  // MARK: Clients

  /// Starts the client's next file, or stops when it has done its share.
  func clientNext(_ c: Int) {
    guard clients[c].filesDone < p.filesPerClient else { return }
    clients[c].start = simulator.now
    clients[c].blocks = []
    clients[c].next = 0
    clients[c].tried = []
    switch p.workload {
    case .write:
      clients[c].size = max(1, p.fileSize.sample(sizes))
      clients[c].step = .create
    case .read:
      clients[c].file = random.uniformInt(files.count)
      clients[c].size = files[clients[c].file].reduce(0) { $0 + blocks[Int($1)].size }
      clients[c].step = .open
    case .none: return
    }
    rpc(c)
  }

  /// A NameNode RPC for the client's current step; refused while the NameNode is down or
  /// starting, and then retried after `client_retry`.
  func rpc(_ c: Int) {
    rpcs += 1
    if simulator.now < namenodeReady || !namenodeUp {
      simulator.schedule(after: p.clientRetry, to: me, kind: Kind.retryRPC.rawValue, payload: Int64(c))
      return
    }
    namenode.submit(service: p.rpcService.sampleTime(sizes), tag: tag(.rpc, Int64(c)), observer: self)
  }

  package func requestServed(tag: Int64, waited: SimTime, in simulator: Simulator) {
    let c = Int(tag & 0xFFFF_FFFF)
    switch clients[c].step {
    case .create:
      edits += 1
      clients[c].step = .addBlock
      rpc(c)
    case .addBlock:
      edits += 1
      let chunk = min(p.blockSize, clients[c].size - Double(clients[c].next) * p.blockSize)
      let targets = place(replicas: p.replication, existing: [], writer: clients[c].host)
      guard !targets.isEmpty else { return failOperation(c) }
      blocks.append(Block(size: chunk, replicas: []))
      let id = Int32(blocks.count - 1)
      clients[c].blocks.append(id)
      clients[c].step = .transfer
      var path = [HostID(clients[c].host)]
      path.append(contentsOf: targets.map { host($0) })
      // Each DataNode of the pipeline puts the replica on its next volume (placement only
      // chooses DataNodes with one).
      let disks = targets.map { newVolume(on: $0) ?? 0 }
      pendingTargets[id] = Array(zip(targets, disks))
      platform.pipeline(
        bytes: chunk, hosts: path, readDisk: false, writeDisks: true, disks: [0] + disks.map { Int($0) },
        observer: self, tag: self.tag(.writeBlock, Int64(c) << 32 | Int64(id)))
    case .complete:
      edits += 1
      finishFile(c, write: true)
    case .open:
      clients[c].step = .transfer
      readBlock(c)
    case .idle, .transfer: break
    }
    if edits >= p.checkpointTxns { edits = 0 }
  }

  package func requestDropped(tag: Int64, reason: FailureReason, in simulator: Simulator) {
    // The NameNode went down with the request: the client asks again later.
    simulator.schedule(after: p.clientRetry, to: me, kind: Kind.retryRPC.rawValue, payload: tag & 0xFFFF_FFFF)
  }

  /// The operation failed (the NameNode is down, no DataNode could take the block, no replica
  /// could be read): the client counts it and tries its next file after `client_retry`.
  func failOperation(_ c: Int) {
    if p.workload == .read, clients[c].start >= warmup {
      readsTried += 1
      readsFailed += 1
    }
    clients[c].filesDone += 1
    clients[c].step = .idle
    simulator.schedule(after: p.clientRetry, to: me, kind: Kind.clientNext.rawValue, payload: Int64(c))
  }

  /// Blocks being written: the pipeline's DataNodes and the volume of each.
  var pendingTargets: [Int32: [(Int32, UInt8)]] = [:]

  /// Reads the client's next block from the closest replica it has not tried: its own
  /// DataNode, then its rack, then any.
  func readBlock(_ c: Int) {
    let file = files[clients[c].file]
    guard clients[c].next < file.count else { return finishFile(c, write: false) }
    let block = file[clients[c].next]
    let client = clients[c].host
    let candidates = blocks[Int(block)].replicas.filter { !clients[c].tried.contains($0) }
    guard !candidates.isEmpty else { return failOperation(c) }
    func distance(_ dn: Int32) -> Int {
      host(dn).index == client ? 0 : (rack(dn) == platform.rack(of: HostID(client)) ? 1 : 2)
    }
    let best = candidates.map(distance).min()!
    let nearest = candidates.filter { distance($0) == best }
    let source = nearest[random.uniformInt(nearest.count)]
    clients[c].tried.append(source)
    if simulator.now >= warmup { locality[best] += 1 }
    platform.pipeline(
      bytes: blocks[Int(block)].size, hosts: [host(source), HostID(client)], readDisk: true, writeDisks: false,
      disks: [disk(block, on: source), 0], observer: self, tag: tag(.readBlock, Int64(c)))
  }

  func finishFile(_ c: Int, write: Bool) {
    let elapsed = simulator.now - clients[c].start
    if clients[c].start >= warmup {
      if write {
        writeLatency.record(elapsed)
        bytesWritten += clients[c].size
      } else {
        readLatency.record(elapsed)
        bytesRead += clients[c].size
        readsTried += 1
      }
      if elapsed > .zero { fileRates.add(clients[c].size / elapsed.seconds) }
      firstStart = min(firstStart ?? clients[c].start, clients[c].start)
      lastEnd = simulator.now
    }
    clients[c].filesDone += 1
    clients[c].step = .idle
    clientNext(c)
  }

  // MARK: Activities

  package func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    let id = tag & 0x00FF_FFFF_FFFF_FFFF
    switch Purpose(rawValue: tag >> 56) {
    case .writeBlock:
      let c = Int(id >> 32)
      let block = Int32(id & 0xFFFF_FFFF)
      let targets = pendingTargets.removeValue(forKey: block) ?? []
      for (dn, volume) in targets {
        store(block, on: dn, disk: volume)
        if !dead[Int(dn)] { blocks[Int(block)].replicas.append(dn) }
      }
      blocksWritten += 1
      replicaBytes += blocks[Int(block)].size * Double(targets.count)
      if blocks[Int(block)].replicas.count < p.replication { needed.insert(block) }
      clients[c].next += 1
      if Double(clients[c].next) * p.blockSize < clients[c].size {
        clients[c].step = .addBlock
      } else {
        files.append(clients[c].blocks)
        clients[c].step = .complete
      }
      rpc(c)
    case .readBlock:
      let c = Int(id)
      clients[c].next += 1
      clients[c].tried = []
      readBlock(c)
    case .copy:
      guard let copy = copies.removeValue(forKey: id) else { return }
      streams[Int(copy.source)] -= 1
      blocks[Int(copy.block)].pending -= copy.targets.count
      for (target, volume) in copy.targets
      where !dead[Int(target)] && platform.isUp(host(target)) && !platform.isDiskFailed(host(target), disk: Int(volume))
        && !blocks[Int(copy.block)].replicas.contains(target)
      {
        store(copy.block, on: target, disk: volume)
        blocks[Int(copy.block)].replicas.append(target)
      }
      if blocks[Int(copy.block)].replicas.count >= p.replication { needed.remove(copy.block) }
      checkRepaired()
    case .rpc, nil: break
    }
  }

  package func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    let id = tag & 0x00FF_FFFF_FFFF_FFFF
    switch Purpose(rawValue: tag >> 56) {
    case .writeBlock:
      // A DataNode of the pipeline died: the block is written again to a new pipeline.
      let c = Int(id >> 32)
      let block = Int32(id & 0xFFFF_FFFF)
      pendingTargets.removeValue(forKey: block)
      blocks[Int(block)].size = 0  // abandoned
      clients[c].blocks.removeLast()
      clients[c].step = .addBlock
      rpc(c)
    case .readBlock:
      readBlock(Int(id))  // the next closest replica
    case .copy:
      guard let copy = copies.removeValue(forKey: id) else { return }
      streams[Int(copy.source)] -= 1
      blocks[Int(copy.block)].pending -= copy.targets.count
    case .rpc, nil: break
    }
  }

  // MARK: Failures, detection and re-replication

  package func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator) {
    if host.index == 0 { return namenodeChanged(up: up) }
    guard let dn = dataNode(of: host.index) else { return }
    if !up {
      lastFailure = lastFailure ?? simulator.now
      // It heartbeats every heartbeat_interval, in its own phase: its last heartbeat was up to
      // one interval ago.
      let sinceHeartbeat = SimTime(
        nanoseconds: Int64(random.uniform() * Double(p.heartbeatInterval.nanoseconds)))
      if !dead[Int(dn)] { silent[dn] = (failed: simulator.now, heartbeat: simulator.now - sinceHeartbeat) }
    } else if dead[Int(dn)] {
      // It registers again and reports its blocks; the map takes back what it still needs.
      dead[Int(dn)] = false
      for block in stored[Int(dn)].keys.sorted() where blocks[Int(block)].replicas.count < p.replication {
        if !blocks[Int(block)].replicas.contains(dn) { blocks[Int(block)].replicas.append(dn) }
        if blocks[Int(block)].replicas.count >= p.replication { needed.remove(block) }
      }
      checkRepaired()
    } else {
      // Back before it was declared dead: its heartbeats resume.
      silent[dn] = nil
    }
  }

  package func diskFailed(_ host: HostID, disk: Int, in simulator: Simulator) {
    guard let dn = dataNode(of: host.index) else { return }
    lastFailure = lastFailure ?? simulator.now
    // The DataNode reports the failed volume with its next heartbeat: its replicas there, and
    // only those, are gone.
    for (block, volume) in stored[Int(dn)].sorted(by: { $0.key < $1.key }) where Int(volume) == disk {
      stored[Int(dn)][block] = nil
      blocks[Int(block)].replicas.removeAll { $0 == dn }
      needed.insert(block)
    }
    markDegraded()
  }

  /// HeartbeatManager.heartbeatCheck: every DataNode whose last heartbeat is older than the
  /// dead-node interval (DatanodeManager.isDatanodeDead: strictly older) is declared dead and
  /// its replicas leave the map (removeDeadDatanode). Nothing is declared in safe mode.
  func heartbeatCheck() {
    guard simulator.now >= namenodeReady else { return }
    let expired = silent.filter { $0.value.heartbeat < simulator.now - p.deadInterval }.keys.sorted()
    for dn in expired { declareDead(dn) }
  }

  func declareDead(_ dn: Int32) {
    guard let failure = silent.removeValue(forKey: dn) else { return }
    detections.add((simulator.now - failure.failed).seconds)
    dead[Int(dn)] = true
    for block in stored[Int(dn)].keys.sorted() {
      blocks[Int(block)].replicas.removeAll { $0 == dn }
      needed.insert(block)
    }
    markDegraded()
  }

  /// A restarted NameNode knows only the DataNodes that registered with it: one down since
  /// before it came up never reports its replicas, so when safe mode ends (and the replication
  /// queues are filled) they are missing, as if it had been declared dead then.
  func namenodeReadyAfterRestart() {
    for (dn, failure) in silent.sorted(by: { $0.key < $1.key }) where failure.failed < namenodeStart {
      declareDead(dn)
    }
  }

  func markDegraded() {
    if degradedSince == nil, !needed.isEmpty { degradedSince = simulator.now }
    _ = blockHealth()
  }

  /// Every block back to its replication: the repair is over.
  func checkRepaired() {
    guard let since = degradedSince, needed.isEmpty else { return }
    let failure = lastFailure ?? since
    repairs.append(
      (
        detected: (since - failure).seconds, repaired: (simulator.now - since).seconds,
        recovered: (simulator.now - failure).seconds
      ))
    degradedSince = nil
    lastFailure = nil
  }

  /// The source of a block's copy, as BlockManager.chooseSourceDatanodes picks it: among the
  /// live replicas whose DataNode has fewer than `max_streams` copies queued (fewer than
  /// `max_streams_hard_limit` for a block with a single live replica, the highest priority), the
  /// first in the map's order, then each further one in its place on a coin flip.
  func chooseSource(_ block: Int32) -> Int32? {
    let replicas = blocks[Int(block)].replicas
    let highest = replicas.count == 1
    var source: Int32?
    for dn in replicas {
      let queued = streams[Int(dn)]
      if !highest, queued >= p.maxStreams { continue }
      if queued >= p.maxStreamsHardLimit { continue }
      if source == nil || random.uniform() < 0.5 { source = dn }
    }
    return source
  }

  /// The replication monitor (BlockManager.computeReconstructionWorkForBlocks): the most
  /// endangered blocks first, within the work limits; each block's missing replicas in one
  /// transfer from its source through its targets (the source DataNode's DataTransfer).
  func replicationMonitor() {
    guard namenodeUp, simulator.now >= namenodeReady, !needed.isEmpty else { return }
    let live = (0..<p.datanodes).filter { !dead[$0] }.count
    var budget = p.replicationWorkMultiplier * live
    let queue = needed.sorted { (blocks[Int($0)].replicas.count, $0) < (blocks[Int($1)].replicas.count, $1) }
    for block in queue where budget > 0 {
      let b = blocks[Int(block)]
      if b.replicas.count >= p.replication {
        needed.remove(block)
        continue
      }
      let missing = p.replication - b.replicas.count - b.pending
      guard missing > 0, let source = chooseSource(block) else { continue }
      let pendingTargets = copies.values.filter { $0.block == block }.flatMap { $0.targets.map(\.dn) }
      let targets = reconstructionTargets(missing, existing: b.replicas, excluding: pendingTargets, source: source)
        .compactMap { dn in newVolume(on: dn).map { (dn: dn, disk: $0) } }
      guard !targets.isEmpty else { continue }
      nextCopy += 1
      copies[nextCopy] = (block, source, targets)
      streams[Int(source)] += 1
      blocks[Int(block)].pending += targets.count
      budget -= 1
      platform.pipeline(
        bytes: b.size, hosts: [host(source)] + targets.map { host($0.dn) }, readDisk: true, writeDisks: true,
        disks: [disk(block, on: source)] + targets.map { Int($0.disk) }, observer: self, tag: tag(.copy, nextCopy))
    }
  }

  /// The NameNode's host went down (the namespace is unavailable) or came back: it loads its
  /// image and replays the edits since the last checkpoint, then starts its services (the
  /// heartbeat Monitor among them, on a new cycle) and waits out safe mode.
  func namenodeChanged(up: Bool) {
    namenodeUp = up
    guard up else { return }
    namenodeStart = simulator.now
    let objects = Double(files.count + blocks.count)
    let loaded =
      simulator.now
      + SimTime(seconds: objects * p.imageLoadPerObject.seconds + Double(edits) * p.editReplayPerEdit.seconds)
    namenodeReady = loaded + p.safemodeExtension
    monitorEpoch += 1
    simulator.schedule(at: loaded, to: me, kind: Kind.heartbeatCheck.rawValue, payload: monitorEpoch)
    simulator.schedule(at: namenodeReady, to: me, kind: Kind.namenodeReady.rawValue, payload: monitorEpoch)
  }

  /// NameNode heap for the namespace: files and blocks, `namenode_object_bytes` each.
  var heapBytes: Double { Double(files.count + blocks.count) * p.objectBytes }
}
