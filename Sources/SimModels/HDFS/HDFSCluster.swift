import Foundation
import SimKernel
import SimPlatform

/// The NameNode, the DataNodes and the clients, on the platform.
///
/// The NameNode (the first host) keeps the namespace and the block map and answers RPCs from a
/// pool of `handler_count` handlers (a ServerPool on its host). DataNode d runs on host d + 1
/// with the host's disks; a block's replica on it lives on disk (block + d) mod disks. A block
/// write is one pipelined activity (client -> DN1 -> DN2 -> DN3, every hop's links and every
/// DataNode's disk write at one rate); a read is one activity from the closest replica's disk
/// to the client. The NameNode declares a DataNode dead `2 x recheck + 10 x heartbeat` after its
/// last heartbeat, drops its replicas from the block map and re-replicates: every
/// `replication_interval` it schedules up to `replication_work_multiplier` x live DataNodes
/// blocks, fewest live replicas first, at most `max_streams` copies out of any one DataNode.
final class HDFSCluster: EventHandler, ActivityObserver, PlatformObserver, ServerPoolObserver {
  enum Kind: Int32 {
    case clientNext = 0  // payload: client
    case replicationMonitor = 1
    case deadCheck = 2  // payload: DataNode
    case sample = 3
    case endOfWarmup = 4
    case checkpoint = 5
    case retryRPC = 6  // payload: client
  }

  /// What an activity or RPC is for: the top byte of its tag (the rest is an id).
  enum Purpose: Int64 {
    case rpc = 1
    case writeBlock = 2
    case readBlock = 3
    case copy = 4
  }

  struct Block {
    var size: Double
    /// DataNodes holding it, in the NameNode's map (not those declared dead, not failed disks).
    var replicas: [Int32]
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
  let disks: Int
  // State.
  var blocks: [Block] = []
  var files: [[Int32]] = []
  /// Blocks physically on each DataNode (a superset of the map's view).
  var stored: [Set<Int32>] = []
  var dead: [Bool]
  var streams: [Int]
  var needed = Set<Int32>()
  var copies: [Int64: (block: Int32, source: Int32, target: Int32)] = [:]
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

  init(parameters: HDFSParameters, platform: Platform, simulator: Simulator, context: RunContext) {
    p = parameters
    self.platform = platform
    self.simulator = simulator
    warmup = context.warmup
    sampleInterval = context.timeseriesInterval
    random = context.streams.stream("hdfs.placement")
    sizes = context.streams.stream("hdfs.sizes")
    racks = (0...parameters.datanodes).map { platform.rack(of: HostID(Int32($0))) }
    disks = max(1, parameters.platform.disks)
    namenode = ServerPool(servers: parameters.handlerCount, simulator: simulator, on: HostID(0), platform: platform)
    dead = Array(repeating: false, count: parameters.datanodes)
    streams = Array(repeating: 0, count: parameters.datanodes)
    stored = Array(repeating: [], count: parameters.datanodes)
    me = simulator.register(self)
    platform.addObserver(self)
    preload()
    if p.workload != .none {
      for host in p.clientHosts { clients.append(Client(host: host)) }
      for c in clients.indices {
        simulator.schedule(after: .zero, to: me, kind: Kind.clientNext.rawValue, payload: Int64(c))
      }
    }
    simulator.schedule(after: p.replicationInterval, to: me, kind: Kind.replicationMonitor.rawValue)
    simulator.schedule(after: p.checkpointPeriod, to: me, kind: Kind.checkpoint.rawValue)
    if warmup > .zero { simulator.schedule(at: warmup, to: me, kind: Kind.endOfWarmup.rawValue) }
    if let interval = sampleInterval { simulator.schedule(after: interval, to: me, kind: Kind.sample.rawValue) }
  }

  func host(_ dn: Int32) -> HostID { HostID(dn + 1) }
  func dataNode(of host: Int32) -> Int32? { host >= 1 && Int(host) <= p.datanodes ? host - 1 : nil }
  func rack(_ dn: Int32) -> Int { racks[Int(dn) + 1] }
  func disk(_ block: Int32, on dn: Int32) -> Int { Int((Int(block) + Int(dn)) % disks) }
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

  /// A block written outside the model's clients (preloaded, or by another model's loader).
  @discardableResult
  func addBlock(size: Double, replicas: [Int32]) -> Int32 {
    blocks.append(Block(size: size, replicas: replicas))
    let id = Int32(blocks.count - 1)
    for dn in replicas { stored[Int(dn)].insert(id) }
    return id
  }

  // MARK: Placement

  /// Targets for `replicas` more replicas of a block that has `existing` ones, written from
  /// `writer` (a host, or -1). Never two replicas on one DataNode; only live DataNodes.
  func place(replicas count: Int, existing: [Int32], writer: Int32) -> [Int32] {
    var chosen = existing
    var added: [Int32] = []
    let live = (0..<Int32(p.datanodes)).filter { !dead[Int($0)] && platform.isUp(host($0)) }
    func pick(_ candidates: [Int32]) -> Int32? {
      let free = candidates.filter { !chosen.contains($0) }
      return free.isEmpty ? nil : free[random.uniformInt(free.count)]
    }
    func add(_ dn: Int32?) -> Bool {
      guard let dn else { return false }
      chosen.append(dn)
      added.append(dn)
      return true
    }
    let writerRack = writer >= 0 ? platform.rack(of: HostID(writer)) : -1
    while added.count < count {
      let racksUsed = chosen.map { rack($0) }
      var ok = false
      switch p.placement {
      case .oneRack:
        let home = racksUsed.first ?? (writerRack >= 0 ? writerRack : rack(live.first ?? 0))
        ok = add(pick(live.filter { rack($0) == home }))
      case .rackFaultTolerant:
        // The rack with the fewest replicas so far (ties: random), then a node in it.
        let counts = Dictionary(grouping: racksUsed, by: { $0 }).mapValues(\.count)
        let liveRacks = Array(Set(live.map { rack($0) })).sorted()
        let least = liveRacks.map { counts[$0] ?? 0 }.min() ?? 0
        let racksFree = liveRacks.filter { (counts[$0] ?? 0) == least }
        let target = racksFree.isEmpty ? -1 : racksFree[random.uniformInt(racksFree.count)]
        ok = add(pick(live.filter { rack($0) == target })) || add(pick(live))
      case .default:
        switch chosen.count {
        case 0:
          // The writer's own DataNode, or a random node of its rack.
          if let local = dataNode(of: writer), live.contains(local) {
            ok = add(local)
          } else {
            ok = add(pick(live.filter { rack($0) == writerRack })) || add(pick(live))
          }
        case 1:
          ok = add(pick(live.filter { rack($0) != racksUsed[0] })) || add(pick(live))
        case 2:
          let remote = racksUsed[1] != racksUsed[0] ? racksUsed[1] : -1
          ok =
            add(pick(live.filter { rack($0) == remote })) || add(pick(live.filter { !racksUsed.contains(rack($0)) }))
            || add(pick(live))
        default:
          // No rack holds more than (replicas - 1) / racks + 2.
          let limit = (p.replication - 1) / max(1, Set(racks.dropFirst()).count) + 2
          ok = add(pick(live.filter { r in racksUsed.filter { $0 == rack(r) }.count < limit })) || add(pick(live))
        }
      }
      if !ok { break }
    }
    return added
  }

  // MARK: Events

  func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .clientNext: clientNext(Int(event.payload))
    case .retryRPC: rpc(Int(event.payload))
    case .replicationMonitor:
      replicationMonitor()
      simulator.schedule(after: p.replicationInterval, to: me, kind: Kind.replicationMonitor.rawValue)
    case .deadCheck: deadCheck(Int32(event.payload))
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

  func requestServed(tag: Int64, waited: SimTime, in simulator: Simulator) {
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
      pendingTargets[id] = targets
      platform.pipeline(
        bytes: chunk, hosts: path, readDisk: false, writeDisks: true, disks: [0] + targets.map { disk(id, on: $0) },
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

  func requestDropped(tag: Int64, reason: FailureReason, in simulator: Simulator) {
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

  var pendingTargets: [Int32: [Int32]] = [:]

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

  func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    let id = tag & 0x00FF_FFFF_FFFF_FFFF
    switch Purpose(rawValue: tag >> 56) {
    case .writeBlock:
      let c = Int(id >> 32)
      let block = Int32(id & 0xFFFF_FFFF)
      let targets = pendingTargets.removeValue(forKey: block) ?? []
      for dn in targets {
        stored[Int(dn)].insert(block)
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
      blocks[Int(copy.block)].pending -= 1
      if !dead[Int(copy.target)], platform.isUp(host(copy.target)),
        !blocks[Int(copy.block)].replicas.contains(copy.target)
      {
        stored[Int(copy.target)].insert(copy.block)
        blocks[Int(copy.block)].replicas.append(copy.target)
      }
      if blocks[Int(copy.block)].replicas.count >= p.replication { needed.remove(copy.block) }
      checkRepaired()
    case .rpc, nil: break
    }
  }

  func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
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
      blocks[Int(copy.block)].pending -= 1
    case .rpc, nil: break
    }
  }

  // MARK: Failures, detection and re-replication

  func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator) {
    if host.index == 0 { return namenodeChanged(up: up) }
    guard let dn = dataNode(of: host.index) else { return }
    if !up {
      lastFailure = lastFailure ?? simulator.now
      // Its last heartbeat was up to one interval ago.
      let sinceHeartbeat = SimTime(
        nanoseconds: Int64(random.uniform() * Double(p.heartbeatInterval.nanoseconds)))
      let deadline = max(simulator.now, simulator.now + p.deadInterval - sinceHeartbeat)
      simulator.schedule(at: deadline, to: me, kind: Kind.deadCheck.rawValue, payload: Int64(dn))
    } else if dead[Int(dn)] {
      // It registers again and reports its blocks; the map takes back what it still needs.
      dead[Int(dn)] = false
      for block in stored[Int(dn)].sorted() where blocks[Int(block)].replicas.count < p.replication {
        if !blocks[Int(block)].replicas.contains(dn) { blocks[Int(block)].replicas.append(dn) }
        if blocks[Int(block)].replicas.count >= p.replication { needed.remove(block) }
      }
      checkRepaired()
    }
  }

  func diskFailed(_ host: HostID, disk: Int, in simulator: Simulator) {
    guard let dn = dataNode(of: host.index) else { return }
    lastFailure = lastFailure ?? simulator.now
    // The DataNode reports the failed volume with its next heartbeat: its replicas there are gone.
    for block in stored[Int(dn)].sorted() where self.disk(block, on: dn) == disk {
      stored[Int(dn)].remove(block)
      blocks[Int(block)].replicas.removeAll { $0 == dn }
      needed.insert(block)
    }
    markDegraded()
  }

  func deadCheck(_ dn: Int32) {
    guard !platform.isUp(host(dn)), !dead[Int(dn)] else { return }
    guard namenodeUp, simulator.now >= namenodeReady else {
      // A NameNode that is down declares nothing; it looks again once it is up.
      simulator.schedule(
        at: max(namenodeReady, simulator.now + p.heartbeatInterval), to: me, kind: Kind.deadCheck.rawValue,
        payload: Int64(dn))
      return
    }
    dead[Int(dn)] = true
    for block in stored[Int(dn)].sorted() {
      blocks[Int(block)].replicas.removeAll { $0 == dn }
      needed.insert(block)
    }
    markDegraded()
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

  /// The replication monitor: the most endangered blocks first, within the work limits.
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
      guard b.replicas.count + b.pending < p.replication else { continue }
      let sources = b.replicas.filter { streams[Int($0)] < p.maxStreams }
      guard !sources.isEmpty else { continue }
      let pendingTargets = copies.values.filter { $0.block == block }.map(\.target)
      guard let target = place(replicas: 1, existing: b.replicas + pendingTargets, writer: -1).first else { continue }
      let source = sources[random.uniformInt(sources.count)]
      nextCopy += 1
      copies[nextCopy] = (block, source, target)
      streams[Int(source)] += 1
      blocks[Int(block)].pending += 1
      budget -= 1
      platform.pipeline(
        bytes: b.size, hosts: [host(source), host(target)], readDisk: true, writeDisks: true,
        disks: [disk(block, on: source), disk(block, on: target)], observer: self, tag: tag(.copy, nextCopy))
    }
  }

  /// The NameNode's host went down (the namespace is unavailable) or came back: it loads its
  /// image, replays the edits since the last checkpoint and waits out safe mode.
  func namenodeChanged(up: Bool) {
    namenodeUp = up
    guard up else { return }
    let objects = Double(files.count + blocks.count)
    namenodeReady =
      simulator.now
      + SimTime(seconds: objects * p.imageLoadPerObject.seconds + Double(edits) * p.editReplayPerEdit.seconds)
      + p.safemodeExtension
  }

  /// NameNode heap for the namespace: files and blocks, `namenode_object_bytes` each.
  var heapBytes: Double { Double(files.count + blocks.count) * p.objectBytes }
}
