import SimKernel
import SimPlatform

/// The cluster, its controller and its producers, on the platform.
///
/// The unit of work is the producer batch, and batches travel in requests as Kafka's do: a
/// producer's sender sends, to each broker, one produce request holding at most one ready batch
/// per partition that broker leads (up to `max.request.size`), with at most
/// `max.in.flight.requests.per.connection` requests outstanding per broker. The leader appends
/// a request's batches to its logs in the page cache (the disk gets them when the kernel writes
/// dirty pages back); followers fetch from each leader broker in one request per broker pair
/// (Kafka's replica fetcher threads); the high watermark is the shortest log among the in-sync
/// replicas. acks=0 counts a batch delivered when it is sent, acks=1 when the leader has
/// appended it, acks=all when the high watermark passes it. The producer is idempotent (the
/// default since Kafka 3.0): a resent batch already in the leader's log is not appended twice.
///
/// The code is split by role: this file holds the state, the events and the controller;
/// Producers.swift the accumulator and sender; Replication.swift fetchers, ISR and high
/// watermark; Storage.swift the page cache, write-back and retention.
final class BrokerCluster: EventHandler, ActivityObserver, PlatformObserver {
  enum Kind: Int32 {
    case batchReady = 0  // payload: producer stream
    case drain = 1  // payload: producer (a retry back-off ended)
    case requestTimeout = 2  // payload: connection (producer x brokers + broker)
    case replicaFetch = 3  // payload: fetcher (follower broker x brokers + leader broker)
    case isrCheck = 4
    case brokerExpired = 5  // payload: broker
    case controllerFailover = 6
    case endOfWarmup = 7
    case sample = 8
    case writeBack = 9  // payload: broker
    case retention = 10
    case expireBatches = 11
    case blockTimeout = 12  // payload: producer
    case fetchWait = 13  // payload: fetcher
    case batchFull = 14  // payload: producer stream << 32 | its batch generation
  }

  /// What a platform activity is for: the top byte of its tag (the rest is an id).
  enum Purpose: Int64 {
    case produce = 1  // id: request
    case response = 2  // id: request
    case replicaFetch = 3  // id: fetch round
    case writeBack = 4  // id: broker
    case fetchRequest = 5  // id: fetcher generation << 24 | fetcher
    case processor = 6  // id: broker << 16 | network thread
    case handler = 7  // id: broker << 16 | I/O thread
    case followerAppend = 8  // id: fetch round
  }

  /// `settled`: folded into `settled` (Settlement.swift), its slot free for a new batch.
  enum BatchState: UInt8 { case inFlight, acked, failed, settled }

  /// 32 bytes: a million records a second in 16 KiB batches is 60,000 batches a second, but only
  /// the batches not yet settled (Settlement.swift) are alive. Ids (slots) are Int32: at most
  /// 2^31 batches alive at once; offsets are Int, as a partition's log grows for the whole run.
  struct Batch {
    var created: SimTime
    var partition: Int32
    var records: Int32
    /// Its position in the log of the leader that last appended it (kept true for the current
    /// leader's log: a new leader's log is indexed afresh).
    var offset = -1
    var state = BatchState.inFlight
    var counted: Bool
  }

  struct Replica {
    var broker: Int
    /// The batches of the replica's log, in offset order (a batch appears at most once), from
    /// the first offset not settled.
    var log = ReplicaLog()
    /// Entries the kernel has written to disk (the rest is in the page cache).
    var flushed = 0
    var lastCaughtUp = SimTime.zero
  }

  struct Partition {
    var replicas: [Replica]
    var leader: Int?  // index into replicas
    var epoch = 0
    var isr: [Int]  // indices into replicas
    var highWatermark = 0
    /// The first entry retention has not deleted.
    var logStart = 0
    /// acks=all requests waiting for the high watermark: (log length needed, request), in order.
    var waiting: [(needed: Int, request: Int64)] = []
    var waitingHead = 0
  }

  let p: BrokerParameters
  unowned let platform: Platform
  unowned let simulator: Simulator
  var me = EntityID(0)
  var partitions: [Partition] = []
  /// The partitions each broker leads, and each partition's replica index on each broker (-1: none).
  var ledBy: [[Int]]
  var replicaOn: [[Int]] = []
  var alive: [Bool]
  /// In touch with the coordination service (see `updateConnectivity`).
  var connected: [Bool]
  /// Declared dead by the controller (after its session timeout) and not back since.
  var expired: [Bool]
  var controller = 0
  var controllerAlive = true
  var pendingExpiry: [Int] = []
  var batches: [Batch] = []
  /// Slots of settled batches, for new ones (Settlement.swift).
  var freeSlots: [Int32] = []
  var settled: SettledCounts
  /// Off: every batch and log entry is kept to the end (a cross-check of settlement in tests).
  let settles: Bool
  /// Records acknowledged since the warm-up, and since the last sample.
  var ackedInWindow = 0
  var ackedSinceSample = 0
  /// Since the start, warm-up included (the steady-state signals): records acknowledged, and the
  /// latencies of the batches acknowledged.
  var ackedTotal = 0
  var latencySum = 0.0
  var latencyCount = 0
  let warmup: SimTime
  let arrivals: RandomStream
  let partitioner: RandomStream
  // Producers (Producers.swift).
  var producerHosts: [HostID] = []
  var streams: [ProducerStream] = []
  /// Ready batches still taking records, and their streams.
  var openStream: [Int32: Int] = [:]
  var pending: [[Int32]] = []
  var pendingHead: [Int] = []
  var retryAfter: [SimTime] = []
  var inFlight: [Int] = []
  var outstanding: [[Int64]] = []
  var timerSet: [Bool] = []
  var bufferUsed: [Double] = []
  var blockedSince: [SimTime?] = []
  var pausedStreams: [RingBuffer<Int>] = []
  var requests: [Int64: ProduceRequest] = [:]
  var nextRequest: Int64 = 0
  // Replication (Replication.swift).
  var fetchers: [ReplicaFetcher] = []
  var fetchRounds: [Int64: FetchRound] = [:]
  var nextFetchRound: Int64 = 0
  // Request handling (RequestHandling.swift).
  var requestPaths: [RequestPath] = []
  var muted: [Bool] = []
  var socketQueue: [RingBuffer<BrokerJob>] = []
  // Storage (Storage.swift).
  var storage: [BrokerStorage] = []
  // Statistics.
  var latency = LatencyHistogram()
  var offline = TimeWeightedAverage()
  var underReplicated = TimeWeightedAverage()
  var blocked = TimeWeightedAverage()
  var blockedCount = 0
  var series = TimeSeries()
  let sampleInterval: SimTime?
  /// The consumers, made after the cluster (they read its partitions).
  var consumerGroups: ConsumerGroups?

  init(
    parameters: BrokerParameters, platform: Platform, simulator: Simulator, context: RunContext, settles: Bool = true
  ) {
    p = parameters
    self.settles = settles
    settled = SettledCounts(partitions: parameters.partitions)
    self.platform = platform
    self.simulator = simulator
    warmup = context.warmup
    sampleInterval = context.timeseriesInterval
    alive = Array(repeating: true, count: parameters.brokers)
    connected = Array(repeating: true, count: parameters.brokers)
    expired = Array(repeating: false, count: parameters.brokers)
    ledBy = Array(repeating: [], count: parameters.brokers)
    arrivals = context.streams.stream("broker.producers.arrivals")
    partitioner = context.streams.stream("broker.producers.partitioner")
    // Replicas spread round robin: partition i's replicas are brokers i, i+1, ... (mod brokers).
    for i in 0..<parameters.partitions {
      let replicas = (0..<parameters.replicationFactor).map { Replica(broker: (i + $0) % parameters.brokers) }
      partitions.append(Partition(replicas: replicas, leader: 0, isr: Array(0..<parameters.replicationFactor)))
      var on = Array(repeating: -1, count: parameters.brokers)
      for (r, replica) in replicas.enumerated() { on[replica.broker] = r }
      replicaOn.append(on)
    }
    me = simulator.register(self)
    platform.addObserver(self)
    platform.assignRole("broker", hosts: (0..<parameters.brokers).map(host(of:)))
    indexLeadership()
    startStorage()
    startRequestPaths()
    startProducers()
    startReplication()
    simulator.schedule(after: isrCheckInterval, to: me, kind: Kind.isrCheck.rawValue)
    if warmup > .zero { simulator.schedule(at: warmup, to: me, kind: Kind.endOfWarmup.rawValue) }
    if let interval = sampleInterval { simulator.schedule(after: interval, to: me, kind: Kind.sample.rawValue) }
  }

  var isrCheckInterval: SimTime { SimTime(nanoseconds: max(1_000_000, p.replicaLagTimeMax.nanoseconds / 2)) }

  func host(of broker: Int) -> HostID { HostID(Int32(broker)) }

  /// A batch's bytes on the wire and on disk (values plus framing).
  func bytes(_ batch: Int32) -> Double { p.wireBytes(records: Int(batches[Int(batch)].records)) }

  func tag(_ purpose: Purpose, _ id: Int64) -> Int64 { purpose.rawValue << 56 | id }

  /// The broker leading partition `i`, if any.
  func leaderBroker(_ i: Int) -> Int? { partitions[i].leader.map { partitions[i].replicas[$0].broker } }

  /// Whether the current leader's log holds `batch`.
  func leaderHas(_ batch: Int32, partition i: Int) -> Bool {
    guard let leader = partitions[i].leader else { return false }
    let offset = Int(batches[Int(batch)].offset)
    let log = partitions[i].replicas[leader].log
    return offset >= log.startOffset && offset < log.count && log[offset] == batch
  }

  /// The partitions each broker leads (after any change of leadership).
  func indexLeadership() {
    for b in ledBy.indices { ledBy[b].removeAll() }
    for i in partitions.indices {
      if let broker = leaderBroker(i) { ledBy[broker].append(i) }
    }
  }

  // MARK: Events

  func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .batchReady: batchReady(stream: Int(event.payload))
    case .drain: drainAll(producer: Int(event.payload))
    case .requestTimeout: connectionTimer(Int(event.payload))
    case .replicaFetch: replicaFetch(Int(event.payload))
    case .isrCheck:
      checkISR()
      simulator.schedule(after: isrCheckInterval, to: me, kind: Kind.isrCheck.rawValue)
    case .brokerExpired:
      let broker = Int(event.payload)
      if !connected[broker], !expired[broker] {
        if controllerAlive { expire(broker) } else if !pendingExpiry.contains(broker) { pendingExpiry.append(broker) }
      }
    case .controllerFailover:
      guard !controllerAlive, let next = connected.firstIndex(of: true) else { return }
      controller = next
      controllerAlive = true
      let pending = pendingExpiry
      pendingExpiry.removeAll()
      for broker in pending where !connected[broker] && !expired[broker] { expire(broker) }
      for i in partitions.indices where partitions[i].leader == nil { electAfterRecovery(i) }
      leadershipChanged()
    case .endOfWarmup:
      latency.reset()
      consumerGroups?.resetStatistics()
      offline.reset(at: simulator.now)
      underReplicated.reset(at: simulator.now)
      blocked.reset(at: simulator.now)
    case .sample:
      let interval = sampleInterval!.seconds
      series.append(
        time: simulator.now, metric: "broker.produce_throughput_records", value: Double(ackedSinceSample) / interval)
      ackedSinceSample = 0
      series.append(time: simulator.now, metric: "broker.under_replicated_partitions", value: underReplicated.value)
      series.append(time: simulator.now, metric: "broker.offline_partitions", value: offline.value)
      if let consumers = consumerGroups {
        series.append(time: simulator.now, metric: "consumer.lag", value: Double(consumers.currentLag()))
      }
      if let interval = sampleInterval { simulator.schedule(after: interval, to: me, kind: Kind.sample.rawValue) }
    case .writeBack:
      let broker = Int(event.payload)
      writeBack(broker)
      simulator.schedule(after: p.flushInterval, to: me, kind: Kind.writeBack.rawValue, payload: event.payload)
    case .retention:
      applyRetention()
      simulator.schedule(after: p.retentionCheckInterval, to: me, kind: Kind.retention.rawValue)
    case .expireBatches:
      expireBatches()
      simulator.schedule(after: expiryCheckInterval, to: me, kind: Kind.expireBatches.rawValue)
    case .blockTimeout: blockTimedOut(producer: Int(event.payload))
    case .fetchWait: fetchWaitEnded(Int(event.payload))
    case .batchFull: batchFull(event.payload)
    case nil: preconditionFailure("unknown broker event")
    }
  }

  // MARK: Activities

  func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    let id = tag & 0x00FF_FFFF_FFFF_FFFF
    switch Purpose(rawValue: tag >> 56) {
    case .produce: produceArrived(id)
    case .response: responseArrived(id)
    case .replicaFetch: fetchArrived(id)
    case .fetchRequest: fetchRequestArrived(id)
    case .writeBack: writeBackDone(broker: Int(id & 0xFFFF_FFFF))
    case .processor, .handler: threadActivityFinished(Purpose(rawValue: tag >> 56)!, id: id)
    case .followerAppend: followerAppended(id)
    case nil: preconditionFailure("unknown broker activity")
    }
  }

  func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    let id = tag & 0x00FF_FFFF_FFFF_FFFF
    switch Purpose(rawValue: tag >> 56) {
    case .produce: produceFailed(id)
    case .response: break  // the request timeout resends; the idempotent leader will not append twice
    case .replicaFetch: fetchRoundFailed(id)
    case .fetchRequest:
      let f = Int(id & 0xFF_FFFF)
      if id >> 24 == fetchers[f].generation { fetchFailed(f) }
    case .writeBack: storage[Int(id & 0xFFFF_FFFF)].writingBack = nil
    case .processor, .handler: break  // the host went down: `requestPathCrashed` has reset its threads
    case .followerAppend: fetchRounds.removeValue(forKey: id)
    case nil: preconditionFailure("unknown broker activity")
    }
  }

  func trackReplication() {
    let now = simulator.now
    underReplicated.update(Double(partitions.filter { $0.isr.count < p.replicationFactor }.count), at: now)
    // Without a working leader: none, or one that is down or cut off from the controller.
    let offlineCount = partitions.indices.filter { i in leaderBroker(i).map { !eligible($0) } ?? true }.count
    offline.update(Double(offlineCount), at: now)
  }

  // MARK: Failures and the controller

  func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator) {
    let broker = Int(host.index)
    guard broker < p.brokers else { return }
    alive[broker] = up
    if !up { crashed(broker) }
    updateConnectivity()
  }

  func reachabilityChanged(in simulator: Simulator) { updateConnectivity() }

  /// Which brokers reach the coordination service (ZooKeeper or the KRaft controller quorum),
  /// modelled as sitting with the largest group of live brokers that reach each other (ties: the
  /// group with the lowest broker), or on `coordination_host`. A broker cut off from it is, to the controller, as good as
  /// dead: after the session timeout it is declared dead and loses its leaderships (KRaft fences
  /// it); a controller cut off is replaced. A broker that gets back rejoins and truncates.
  func updateConnectivity() {
    var group = Array(repeating: -1, count: p.brokers)
    var best = -1
    var bestSize = 0
    for b in 0..<p.brokers where alive[b] && group[b] < 0 {
      var size = 0
      for c in b..<p.brokers where alive[c] && group[c] < 0 && platform.reachable(host(of: b), host(of: c)) {
        group[c] = b
        size += 1
      }
      if size > bestSize {
        best = b
        bestSize = size
      }
    }
    for b in 0..<p.brokers {
      var now = alive[b] && group[b] == best
      if let zookeeper = p.coordinationHost { now = alive[b] && platform.reachable(host(of: b), HostID(zookeeper)) }
      guard now != connected[b] else { continue }
      connected[b] = now
      if !now {
        if b == controller, controllerAlive {
          controllerAlive = false
          simulator.schedule(after: p.sessionTimeout, to: me, kind: Kind.controllerFailover.rawValue)
        }
        simulator.schedule(after: p.sessionTimeout, to: me, kind: Kind.brokerExpired.rawValue, payload: Int64(b))
      } else {
        recover(b)
      }
    }
    trackReplication()
  }

  /// Whether a broker can lead or join an ISR: up and in touch with the controller.
  func eligible(_ broker: Int) -> Bool { alive[broker] && connected[broker] }

  /// A broker's host went down: its fetchers stop, its page cache goes (with its unwritten log
  /// tail, if `unflushedLostOnCrash`), its queued requests are dropped.
  func crashed(_ broker: Int) {
    resetFetchers(of: broker)
    storageCrashed(broker)
    requestPathCrashed(broker)
  }

  /// The controller declares a broker dead: it leaves every ISR, and its partitions get new leaders.
  func expire(_ broker: Int) {
    expired[broker] = true
    for i in partitions.indices {
      let r = replicaOn[i][broker]
      guard r >= 0 else { continue }
      if partitions[i].leader == r {
        elect(i, excluding: r)
      } else if partitions[i].isr.contains(r) {
        partitions[i].isr.removeAll { $0 == r }
        updateHighWatermark(i)
      }
    }
    leadershipChanged()
    consumerGroups?.brokerExpired(broker)
  }

  /// A new leader: the first live in-sync replica; else, if allowed, the first live replica (an
  /// unclean election: what it lacks is lost); else the partition is offline.
  func elect(_ i: Int, excluding old: Int) {
    let live = { (r: Int) in r != old && self.eligible(self.partitions[i].replicas[r].broker) }
    if let clean = partitions[i].isr.first(where: live) {
      become(i, leader: clean, isr: partitions[i].isr.filter { $0 != old })
    } else if p.uncleanLeaderElection, let unclean = partitions[i].replicas.indices.first(where: live) {
      become(i, leader: unclean, isr: [unclean])
    } else {
      // Offline: the ISR is kept as it was, so that its last member can lead when it returns.
      partitions[i].leader = nil
      partitions[i].epoch += 1
      abortWaiting(i)
    }
  }

  func become(_ i: Int, leader: Int, isr: [Int]) {
    partitions[i].leader = leader
    partitions[i].epoch += 1
    partitions[i].isr = isr.contains(leader) ? isr : (isr + [leader]).sorted()
    abortWaiting(i)
    let leaderLog = partitions[i].replicas[leader].log
    for offset in leaderLog.startOffset..<leaderLog.count { batches[Int(leaderLog[offset])].offset = offset }
    partitions[i].highWatermark = min(partitions[i].highWatermark, leaderLog.count)
    // Every other live replica truncates to what it shares with the new leader.
    for r in partitions[i].replicas.indices where r != leader && eligible(partitions[i].replicas[r].broker) {
      truncate(i, r, to: leaderLog)
    }
    updateHighWatermark(i)
  }

  func truncate(_ i: Int, _ r: Int, to leaderLog: ReplicaLog) {
    let log = partitions[i].replicas[r].log
    // Settled entries are common to every replica (and gone from all alike).
    var common = log.startOffset
    while common < log.count, common < leaderLog.count, log[common] == leaderLog[common] { common += 1 }
    if common < log.count {
      partitions[i].replicas[r].log.removeLast(log.count - common)
      partitions[i].replicas[r].flushed = min(partitions[i].replicas[r].flushed, common)
    }
  }

  func recover(_ broker: Int) {
    expired[broker] = false
    for i in partitions.indices {
      let r = replicaOn[i][broker]
      guard r >= 0 else { continue }
      if partitions[i].leader == r, p.crashLosesPageCache {
        // It leads still (it came back before the controller noticed) with a shorter log.
        become(i, leader: r, isr: partitions[i].isr)
      } else if let leader = partitions[i].leader {
        truncate(i, r, to: partitions[i].replicas[leader].log)
      } else if controllerAlive {
        electAfterRecovery(i)
      }
    }
    if !controllerAlive {
      // A controller is elected once this broker's session is established (if none is by then).
      simulator.schedule(after: p.sessionTimeout, to: me, kind: Kind.controllerFailover.rawValue)
    }
    leadershipChanged()
  }

  /// An offline partition gets a leader when a replica of its last ISR returns (or any replica,
  /// with unclean election). The caller announces the change (`leadershipChanged`).
  func electAfterRecovery(_ i: Int) {
    let live = { (r: Int) in self.eligible(self.partitions[i].replicas[r].broker) }
    if let clean = partitions[i].isr.first(where: live) {
      become(i, leader: clean, isr: partitions[i].isr.filter(live))
    } else if p.uncleanLeaderElection, let unclean = partitions[i].replicas.indices.first(where: live) {
      become(i, leader: unclean, isr: [unclean])
    }
  }

  /// After elections: who leads what, the fetchers follow the new leaders, producers send to them.
  func leadershipChanged() {
    indexLeadership()
    trackReplication()
    restartFetchers()
    for producer in producerHosts.indices { drainAll(producer: producer) }
  }
}
