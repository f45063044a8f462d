import SimKernel
import SimPlatform

/// The cluster, its controller and its producers, on the platform.
///
/// The unit of work is the producer batch. A batch goes to its partition's leader (a platform
/// transfer), is written to the leader's disk (at the disk's bandwidth, with no per-operation
/// latency: Kafka writes to the page cache and flushes later) and appended to its log; followers fetch from the
/// leader (transfers of up to `replica.fetch.max.bytes`, then disk writes) and the high watermark
/// is the shortest log among the in-sync replicas. acks=0 counts a batch delivered when it is
/// sent, acks=1 when the leader has appended it, acks=all when the high watermark passes it.
/// The producer is idempotent (the default since Kafka 3.0): a resent batch already in the
/// leader's log is not appended twice.
final class BrokerCluster: EventHandler, ActivityObserver, PlatformObserver {
  enum Kind: Int32 {
    case batchReady = 0  // payload: producer
    case resend = 1  // payload: batch
    case fetch = 2  // payload: partition << 8 | replica
    case isrCheck = 3
    case brokerExpired = 4  // payload: broker
    case controllerFailover = 5
    case requestTimeout = 6  // payload: batch << 16 | attempt
    case endOfWarmup = 7
    case sample = 8
  }

  enum BatchState { case inFlight, acked, failed }

  struct Batch {
    var producer: Int
    var partition: Int
    var records: Int
    var bytes: Double
    var created: SimTime
    var counted: Bool
    var state = BatchState.inFlight
    var attempt = 0
  }

  struct Replica {
    var broker: Int
    /// The batches of the replica's log, in offset order, and each batch's offset (a batch
    /// appears at most once: the producer is idempotent).
    private(set) var log: [Int32] = []
    private(set) var offset: [Int32: Int] = [:]
    var lastCaughtUp = SimTime.zero
    var fetching = false
    var longPoll: EventHandle?

    init(broker: Int) { self.broker = broker }

    func contains(_ batch: Int32) -> Bool { offset[batch] != nil }

    mutating func append(_ batch: Int32) {
      offset[batch] = log.count
      log.append(batch)
    }

    mutating func append(contentsOf batches: [Int32]) {
      for batch in batches { append(batch) }
    }

    mutating func truncate(to length: Int) {
      guard length < log.count else { return }
      for batch in log[length...] { offset.removeValue(forKey: batch) }
      log.removeLast(log.count - length)
    }
  }

  struct Partition {
    var replicas: [Replica]
    var leader: Int?  // index into replicas
    var epoch = 0
    var isr: [Int]  // indices into replicas
    var highWatermark = 0
    /// acks=all batches waiting for the high watermark: (log length needed, batch).
    var waiting: [(needed: Int, batch: Int32)] = []
  }

  /// What a platform activity was for.
  enum Purpose {
    case produce(batch: Int32, broker: Int, epoch: Int)
    case leaderWrite(batch: Int32, partition: Int, epoch: Int)
    case ack(batch: Int32, attempt: Int)
    case fetch(partition: Int, replica: Int, epoch: Int, from: Int, batches: [Int32], caughtUpTo: Int, started: SimTime)
    case followerWrite(
      partition: Int, replica: Int, epoch: Int, from: Int, batches: [Int32], caughtUpTo: Int, started: SimTime)
  }

  let p: BrokerParameters
  unowned let platform: Platform
  unowned let simulator: Simulator
  var me = EntityID(0)
  var partitions: [Partition] = []
  var alive: [Bool]
  var controller = 0
  var controllerAlive = true
  var pendingExpiry: [Int] = []
  var batches: [Batch] = []
  var purposes: [Int64: Purpose] = [:]
  /// Batches with a produce request or leader write under way (an acks=0 batch "acknowledged"
  /// but still travelling is in flight, not lost, when the run ends).
  var underWay: [Int32: Int] = [:]
  var nextTag: Int64 = 0
  let warmup: SimTime
  // Producers.
  var producerHosts: [HostID] = []
  var nextRecord: [SimTime] = []
  /// The batch each producer is filling.
  var openBatch: [Int32] = []
  let arrivals: RandomStream
  let partitioner: RandomStream
  // Statistics.
  var latency = LatencyHistogram()
  var offline = TimeWeightedAverage()
  var underReplicated = TimeWeightedAverage()
  var series = TimeSeries()
  let sampleInterval: SimTime?
  /// The consumers, made after the cluster (they read its partitions).
  var consumerGroups: ConsumerGroups?

  init(parameters: BrokerParameters, platform: Platform, simulator: Simulator, context: RunContext) {
    p = parameters
    self.platform = platform
    self.simulator = simulator
    warmup = context.warmup
    sampleInterval = context.timeseriesInterval
    alive = Array(repeating: true, count: parameters.brokers)
    arrivals = context.streams.stream("broker.producers.arrivals")
    partitioner = context.streams.stream("broker.producers.partitioner")
    // Replicas spread round robin: partition i's replicas are brokers i, i+1, ... (mod brokers).
    for i in 0..<parameters.partitions {
      let replicas = (0..<parameters.replicationFactor).map { Replica(broker: (i + $0) % parameters.brokers) }
      partitions.append(Partition(replicas: replicas, leader: 0, isr: Array(0..<parameters.replicationFactor)))
    }
    me = simulator.register(self)
    platform.addObserver(self)
    for producer in 0..<parameters.producers {
      producerHosts.append(HostID(Int32(parameters.brokers + producer % (platform.hostCount - parameters.brokers))))
      nextRecord.append(SimTime(seconds: arrivals.exponential(mean: 1 / parameters.recordRate)))
      openBatch.append(-1)
      scheduleBatch(producer)
    }
    for i in partitions.indices { startFollowers(i) }
    simulator.schedule(after: isrCheckInterval, to: me, kind: Kind.isrCheck.rawValue)
    if warmup > .zero { simulator.schedule(at: warmup, to: me, kind: Kind.endOfWarmup.rawValue) }
    if let interval = sampleInterval { simulator.schedule(after: interval, to: me, kind: Kind.sample.rawValue) }
  }

  var isrCheckInterval: SimTime { SimTime(nanoseconds: max(1_000_000, p.replicaLagTimeMax.nanoseconds / 2)) }

  func host(of broker: Int) -> HostID { HostID(Int32(broker)) }

  func tag(_ purpose: Purpose) -> Int64 {
    nextTag += 1
    purposes[nextTag] = purpose
    switch purpose {
    case .produce(let batch, _, _), .leaderWrite(let batch, _, _): underWay[batch, default: 0] += 1
    default: break
    }
    return nextTag
  }

  /// Takes an activity's purpose off the books.
  func settle(_ tag: Int64) -> Purpose? {
    guard let purpose = purposes.removeValue(forKey: tag) else { return nil }
    switch purpose {
    case .produce(let batch, _, _), .leaderWrite(let batch, _, _):
      underWay[batch]! -= 1
      if underWay[batch]! == 0 { underWay.removeValue(forKey: batch) }
    default: break
    }
    return purpose
  }

  // MARK: Producers

  /// The next batch of a producer (sticky partitioner): it opens with the next record and closes
  /// when full or `linger` after it opened. Arrivals are Poisson, so the number of records in a
  /// linger window is Poisson, and the time a full batch fills is an order statistic of them.
  func scheduleBatch(_ producer: Int) {
    let opened = nextRecord[producer]
    let n = p.recordsPerBatch
    let window = p.linger.seconds
    var records = 1
    var closed = opened
    if n > 1 {
      let more = arrivals.poisson(mean: p.recordRate * window)
      if more >= n - 1 {
        // Full before linger: the (n-1)th of `more` uniform arrivals in the window.
        let x = arrivals.gamma(shape: Double(n - 1), scale: 1)
        let y = arrivals.gamma(shape: Double(more - n + 2), scale: 1)
        closed = opened + SimTime(seconds: window * x / (x + y))
        records = n
      } else {
        closed = opened + p.linger
        records = 1 + more
      }
    }
    nextRecord[producer] = closed + SimTime(seconds: arrivals.exponential(mean: 1 / p.recordRate))
    let partition = partitioner.uniformInt(p.partitions)
    batches.append(
      Batch(
        producer: producer, partition: partition, records: records, bytes: Double(records) * p.recordSize,
        created: opened,
        counted: opened >= warmup))
    openBatch[producer] = Int32(batches.count - 1)
    simulator.schedule(at: max(closed, simulator.now), to: me, kind: Kind.batchReady.rawValue, payload: Int64(producer))
  }

  func send(_ batch: Int32) {
    let b = batches[Int(batch)]
    guard b.state == .inFlight else { return }
    batches[Int(batch)].attempt += 1
    let attempt = batches[Int(batch)].attempt
    simulator.schedule(
      after: p.requestTimeout, to: me, kind: Kind.requestTimeout.rawValue,
      payload: Int64(batch) << 16 | Int64(attempt & 0xFFFF))
    guard let leader = partitions[b.partition].leader else { return retry(batch) }
    let broker = partitions[b.partition].replicas[leader].broker
    if p.acks == .none, b.state == .inFlight {
      batches[Int(batch)].state = .acked
      if b.counted { latency.record(simulator.now - b.created) }
    }
    platform.transfer(
      bytes: b.bytes, from: producerHosts[b.producer], to: host(of: broker), observer: self,
      tag: tag(.produce(batch: batch, broker: broker, epoch: partitions[b.partition].epoch)))
  }

  /// Tries again after the back-off, unless the delivery timeout has passed: then it failed.
  func retry(_ batch: Int32) {
    guard batches[Int(batch)].state == .inFlight else { return }
    if simulator.now + p.retryBackoff - batches[Int(batch)].created > p.deliveryTimeout {
      batches[Int(batch)].state = .failed
      return
    }
    simulator.schedule(after: p.retryBackoff, to: me, kind: Kind.resend.rawValue, payload: Int64(batch))
  }

  func acknowledge(_ batch: Int32) {
    guard batches[Int(batch)].state == .inFlight else { return }
    batches[Int(batch)].state = .acked
    if batches[Int(batch)].counted { latency.record(simulator.now - batches[Int(batch)].created) }
  }

  /// The leader answers a producer (a small response over the network).
  func respond(_ batch: Int32, from broker: Int) {
    let b = batches[Int(batch)]
    guard p.acks != .none else { return }
    platform.transfer(
      bytes: 100, from: host(of: broker), to: producerHosts[b.producer], observer: self,
      tag: tag(.ack(batch: batch, attempt: b.attempt)))
  }

  // MARK: Events

  func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .batchReady:
      let producer = Int(event.payload)
      send(openBatch[producer])
      scheduleBatch(producer)
    case .resend:
      send(Int32(event.payload))
    case .requestTimeout:
      let batch = Int32(event.payload >> 16)
      if batches[Int(batch)].state == .inFlight, batches[Int(batch)].attempt & 0xFFFF == Int(event.payload & 0xFFFF) {
        retry(batch)
      }
    case .fetch:
      fetch(partition: Int(event.payload >> 8), replica: Int(event.payload & 0xFF))
    case .isrCheck:
      checkISR()
      simulator.schedule(after: isrCheckInterval, to: me, kind: Kind.isrCheck.rawValue)
    case .brokerExpired:
      let broker = Int(event.payload)
      if !alive[broker] {
        if controllerAlive { expire(broker) } else if !pendingExpiry.contains(broker) { pendingExpiry.append(broker) }
      }
    case .controllerFailover:
      guard !controllerAlive, let next = alive.firstIndex(of: true) else { return }
      controller = next
      controllerAlive = true
      let pending = pendingExpiry
      pendingExpiry.removeAll()
      for broker in pending where !alive[broker] { expire(broker) }
      for i in partitions.indices where partitions[i].leader == nil { electAfterRecovery(i) }
    case .endOfWarmup:
      latency.reset()
      consumerGroups?.endToEnd.reset()
      consumerGroups?.lag.reset(at: simulator.now)
      offline.reset(at: simulator.now)
      underReplicated.reset(at: simulator.now)
    case .sample:
      series.append(time: simulator.now, metric: "broker.under_replicated_partitions", value: underReplicated.value)
      series.append(time: simulator.now, metric: "broker.offline_partitions", value: offline.value)
      if let consumers = consumerGroups {
        series.append(time: simulator.now, metric: "consumer.lag", value: consumers.lag.value)
      }
      if let interval = sampleInterval { simulator.schedule(after: interval, to: me, kind: Kind.sample.rawValue) }
    case nil: preconditionFailure("unknown broker event")
    }
  }

  // MARK: Activities

  func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    guard let purpose = settle(tag) else { return }
    switch purpose {
    case .produce(let batch, let broker, let epoch):
      let partition = batches[Int(batch)].partition
      guard isLeader(broker, of: partition, epoch: epoch) else { return retry(batch) }
      let leader = partitions[partition].leader!
      if partitions[partition].replicas[leader].contains(batch) {
        return awaitDurability(batch, partition: partition, broker: broker)  // a resent batch: already appended
      }
      if p.acks == .all, partitions[partition].isr.count < p.minInsyncReplicas {
        return retry(batch)  // NOT_ENOUGH_REPLICAS: refused, not lost
      }
      platform.diskIO(
        bytes: batches[Int(batch)].bytes, write: true, host: host(of: broker), observer: self,
        tag: self.tag(.leaderWrite(batch: batch, partition: partition, epoch: epoch)), latency: .zero)
    case .leaderWrite(let batch, let partition, let epoch):
      let leader = partitions[partition].leader
      guard let leader, isLeader(partitions[partition].replicas[leader].broker, of: partition, epoch: epoch) else {
        return retry(batch)
      }
      if !partitions[partition].replicas[leader].contains(batch) {
        partitions[partition].replicas[leader].append(batch)
        wakeFollowers(partition)
      }
      updateHighWatermark(partition)
      awaitDurability(batch, partition: partition, broker: partitions[partition].replicas[leader].broker)
    case .ack(let batch, _):
      acknowledge(batch)
    case .fetch(let partition, let replica, let epoch, let from, let fetched, let caughtUpTo, let started):
      let broker = partitions[partition].replicas[replica].broker
      guard partitions[partition].epoch == epoch, alive[broker],
        partitions[partition].replicas[replica].log.count == from
      else {
        return fetchDone(partition, replica)
      }
      let bytes = fetched.reduce(0.0) { $0 + batches[Int($1)].bytes }
      platform.diskIO(
        bytes: bytes, write: true, host: host(of: broker), observer: self,
        tag: self.tag(
          .followerWrite(
            partition: partition, replica: replica, epoch: epoch, from: from, batches: fetched, caughtUpTo: caughtUpTo,
            started: started)), latency: .zero)
    case .followerWrite(let partition, let replica, let epoch, let from, let fetched, let caughtUpTo, let started):
      if partitions[partition].epoch == epoch, partitions[partition].replicas[replica].log.count == from {
        partitions[partition].replicas[replica].append(contentsOf: fetched)
        if from + fetched.count >= caughtUpTo { partitions[partition].replicas[replica].lastCaughtUp = started }
        expandISR(partition, replica)
        updateHighWatermark(partition)
      }
      fetchDone(partition, replica)
    }
  }

  func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    guard let purpose = settle(tag) else { return }
    switch purpose {
    case .produce(let batch, _, _), .leaderWrite(let batch, _, _):
      retry(batch)
    case .ack:
      break  // the request timeout resends; the idempotent leader will not append it twice
    case .fetch(let partition, let replica, _, _, _, _, _), .followerWrite(let partition, let replica, _, _, _, _, _):
      partitions[partition].replicas[replica].fetching = false
      scheduleFetch(partition, replica, after: p.retryBackoff)
    }
  }

  func isLeader(_ broker: Int, of partition: Int, epoch: Int) -> Bool {
    guard alive[broker], partitions[partition].epoch == epoch, let leader = partitions[partition].leader else {
      return false
    }
    return partitions[partition].replicas[leader].broker == broker
  }

  func awaitDurability(_ batch: Int32, partition: Int, broker: Int) {
    guard let leader = partitions[partition].leader else { return }
    let offset = partitions[partition].replicas[leader].offset[batch]!
    switch p.acks {
    case .none: break
    case .leader: respond(batch, from: broker)
    case .all:
      if partitions[partition].highWatermark > offset {
        respond(batch, from: broker)
      } else {
        partitions[partition].waiting.append((offset + 1, batch))
      }
    }
  }

  /// The high watermark: the shortest log among the in-sync replicas. Batches it passes are
  /// acknowledged (acks=all).
  func updateHighWatermark(_ i: Int) {
    guard let leader = partitions[i].leader else { return }
    let hw = partitions[i].isr.map { partitions[i].replicas[$0].log.count }.min() ?? 0
    partitions[i].highWatermark = max(partitions[i].highWatermark, min(hw, partitions[i].replicas[leader].log.count))
    let hwNow = partitions[i].highWatermark
    consumerGroups?.highWatermarkMoved(i)
    guard !partitions[i].waiting.isEmpty else { return }
    let ready = partitions[i].waiting.filter { $0.needed <= hwNow }
    partitions[i].waiting.removeAll { $0.needed <= hwNow }
    let broker = partitions[i].replicas[leader].broker
    for (_, batch) in ready { respond(batch, from: broker) }
  }

  // MARK: Replication

  func startFollowers(_ i: Int) {
    for r in partitions[i].replicas.indices where r != partitions[i].leader { scheduleFetch(i, r, after: .zero) }
  }

  func scheduleFetch(_ i: Int, _ r: Int, after delay: SimTime) {
    simulator.schedule(after: delay, to: me, kind: Kind.fetch.rawValue, payload: Int64(i) << 8 | Int64(r))
  }

  func fetch(partition i: Int, replica r: Int) {
    guard let leader = partitions[i].leader, leader != r else { return }
    let follower = partitions[i].replicas[r]
    guard alive[follower.broker], !follower.fetching else { return }
    if let poll = follower.longPoll {
      simulator.cancel(poll)
      partitions[i].replicas[r].longPoll = nil
    }
    let leaderLog = partitions[i].replicas[leader].log
    let from = follower.log.count
    guard from < leaderLog.count else {
      // Caught up: wait for new data (woken by the leader's next append) or the poll timeout.
      partitions[i].replicas[r].lastCaughtUp = simulator.now
      expandISR(i, r)
      partitions[i].replicas[r].longPoll = simulator.schedule(
        after: p.replicaFetchWaitMax, to: me, kind: Kind.fetch.rawValue, payload: Int64(i) << 8 | Int64(r))
      return
    }
    var take: [Int32] = []
    var bytes = 0.0
    for batch in leaderLog[from...] {
      if !take.isEmpty && bytes + batches[Int(batch)].bytes > p.replicaFetchMaxBytes { break }
      take.append(batch)
      bytes += batches[Int(batch)].bytes
    }
    partitions[i].replicas[r].fetching = true
    platform.transfer(
      bytes: bytes, from: host(of: partitions[i].replicas[leader].broker), to: host(of: follower.broker),
      observer: self,
      tag: tag(
        .fetch(
          partition: i, replica: r, epoch: partitions[i].epoch, from: from, batches: take, caughtUpTo: leaderLog.count,
          started: simulator.now)))
  }

  func fetchDone(_ i: Int, _ r: Int) {
    partitions[i].replicas[r].fetching = false
    scheduleFetch(i, r, after: .zero)
  }

  func wakeFollowers(_ i: Int) {
    for r in partitions[i].replicas.indices where partitions[i].replicas[r].longPoll != nil {
      simulator.cancel(partitions[i].replicas[r].longPoll!)
      partitions[i].replicas[r].longPoll = nil
      scheduleFetch(i, r, after: .zero)
    }
  }

  func expandISR(_ i: Int, _ r: Int) {
    guard let leader = partitions[i].leader, !partitions[i].isr.contains(r), alive[partitions[i].replicas[r].broker]
    else { return }
    if partitions[i].replicas[r].log.count >= partitions[i].replicas[leader].log.count
      || partitions[i].replicas[r].log.count >= partitions[i].highWatermark
        && partitions[i].replicas[r].lastCaughtUp == simulator.now
    {
      partitions[i].isr.append(r)
      partitions[i].isr.sort()
      trackReplication()
    }
  }

  /// Followers that have not caught up within replica.lag.time.max leave the ISR.
  func checkISR() {
    for i in partitions.indices {
      guard let leader = partitions[i].leader else { continue }
      let before = partitions[i].isr.count
      // Decide first, then modify: the closure must not read `partitions` while it is changed.
      let replicas = partitions[i].replicas
      let now = simulator.now
      let lagMax = p.replicaLagTimeMax
      partitions[i].isr.removeAll { r in r != leader && now - replicas[r].lastCaughtUp > lagMax }
      if partitions[i].isr.count != before {
        updateHighWatermark(i)
        trackReplication()
      }
    }
  }

  func trackReplication() {
    let now = simulator.now
    underReplicated.update(Double(partitions.filter { $0.isr.count < p.replicationFactor }.count), at: now)
    offline.update(Double(partitions.filter { $0.leader == nil }.count), at: now)
  }

  // MARK: Failures and the controller

  func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator) {
    let broker = Int(host.index)
    guard broker < p.brokers else { return }
    alive[broker] = up
    if !up {
      for i in partitions.indices {
        for r in partitions[i].replicas.indices where partitions[i].replicas[r].broker == broker {
          partitions[i].replicas[r].fetching = false
          partitions[i].replicas[r].longPoll = nil
        }
      }
      if broker == controller {
        controllerAlive = false
        simulator.schedule(after: p.sessionTimeout, to: me, kind: Kind.controllerFailover.rawValue)
      }
      simulator.schedule(after: p.sessionTimeout, to: me, kind: Kind.brokerExpired.rawValue, payload: Int64(broker))
    } else {
      recover(broker)
    }
  }

  /// The controller declares a broker dead: it leaves every ISR, and its partitions get new leaders.
  func expire(_ broker: Int) {
    for i in partitions.indices {
      guard let r = partitions[i].replicas.firstIndex(where: { $0.broker == broker }) else { continue }
      if partitions[i].leader == r {
        elect(i, excluding: r)
      } else if partitions[i].isr.contains(r) {
        partitions[i].isr.removeAll { $0 == r }
        updateHighWatermark(i)
      }
    }
    trackReplication()
  }

  /// A new leader: the first live in-sync replica; else, if allowed, the first live replica (an
  /// unclean election: what it lacks is lost); else the partition is offline.
  func elect(_ i: Int, excluding old: Int) {
    let live = { (r: Int) in r != old && self.alive[self.partitions[i].replicas[r].broker] }
    if let clean = partitions[i].isr.first(where: live) {
      become(i, leader: clean, isr: partitions[i].isr.filter { $0 != old })
    } else if p.uncleanLeaderElection, let unclean = partitions[i].replicas.indices.first(where: live) {
      become(i, leader: unclean, isr: [unclean])
    } else {
      // Offline: the ISR is kept as it was, so that its last member can lead when it returns.
      partitions[i].leader = nil
      partitions[i].epoch += 1
      partitions[i].waiting.removeAll()
    }
  }

  func become(_ i: Int, leader: Int, isr: [Int]) {
    partitions[i].leader = leader
    partitions[i].epoch += 1
    partitions[i].isr = isr.contains(leader) ? isr : (isr + [leader]).sorted()
    partitions[i].waiting.removeAll()
    let leaderLog = partitions[i].replicas[leader].log
    partitions[i].highWatermark = min(partitions[i].highWatermark, leaderLog.count)
    // Every other live replica truncates to what it shares with the new leader.
    for r in partitions[i].replicas.indices where r != leader && alive[partitions[i].replicas[r].broker] {
      truncate(i, r, to: leaderLog)
    }
    updateHighWatermark(i)
    startFollowers(i)
  }

  func truncate(_ i: Int, _ r: Int, to leaderLog: [Int32]) {
    let log = partitions[i].replicas[r].log
    var common = 0
    while common < log.count, common < leaderLog.count, log[common] == leaderLog[common] { common += 1 }
    partitions[i].replicas[r].truncate(to: common)
  }

  func recover(_ broker: Int) {
    for i in partitions.indices {
      guard let r = partitions[i].replicas.firstIndex(where: { $0.broker == broker }) else { continue }
      if let leader = partitions[i].leader {
        truncate(i, r, to: partitions[i].replicas[leader].log)
        scheduleFetch(i, r, after: .zero)
      } else if controllerAlive {
        electAfterRecovery(i)
      }
    }
    if !controllerAlive, alive.filter({ $0 }).count == 1 {
      // The only live broker: it becomes controller once its session is established.
      simulator.schedule(after: p.sessionTimeout, to: me, kind: Kind.controllerFailover.rawValue)
    }
    trackReplication()
  }

  /// An offline partition gets a leader when a replica of its last ISR returns (or any replica,
  /// with unclean election).
  func electAfterRecovery(_ i: Int) {
    let live = { (r: Int) in self.alive[self.partitions[i].replicas[r].broker] }
    if let clean = partitions[i].isr.first(where: live) {
      become(i, leader: clean, isr: partitions[i].isr.filter(live))
    } else if p.uncleanLeaderElection, let unclean = partitions[i].replicas.indices.first(where: live) {
      become(i, leader: unclean, isr: [unclean])
    }
    trackReplication()
  }
}
