import SimKernel
import SimPlatform

/// Consumer groups reading the topic: each group gets every record (pub/sub); within a group the
/// partitions are divided among its live members (a queue).
///
/// A consumer fetches from each assigned partition's leader up to the high watermark (up to
/// `max.partition.fetch.bytes`); data the leader no longer holds in its page cache is read from
/// its disk first. With nothing to read it waits until the high watermark moves (or
/// `fetch.max.wait.ms`). Positions are committed every `auto.commit.interval.ms` to the group's
/// coordinator broker. When a consumer's host dies, the group notices after its session timeout
/// and hands its partitions to the others, which resume from the committed offsets: the records
/// read since the last commit are read again (at-least-once delivery). When the coordinator's
/// broker dies, commits fail until the controller declares it dead and the group moves to
/// another broker, where the members rejoin (a rebalance, from the committed offsets).
final class ConsumerGroups: EventHandler, ActivityObserver, PlatformObserver {
  enum Kind: Int32 {
    case fetch = 0  // payload: consumer << 20 | partition
    case commit = 1  // payload: consumer
    case rebalance = 2  // payload: group
    case lagSample = 3
  }

  struct Consumer {
    var group: Int
    var host: HostID
    var alive = true
    var member = true
    var assigned: [Int] = []
    var position: [Int: Int] = [:]
    var fetching: Set<Int> = []
    var waiting: [Int: EventHandle] = [:]
    /// The rebalance its session timeout will cause, pending while its host is down: cancelled if
    /// it rejoins first (a newer membership change supersedes it, as the coordinator sees a live
    /// member again).
    var sessionExpiry: EventHandle?
  }

  struct Fetch {
    var consumer: Int
    var partition: Int
    var from: Int
    var batches: [Int32]
    var epoch: Int
    var broker: Int
    var bytes: Double
    /// Reading from the leader's disk (before the transfer).
    var onDisk: Bool
  }

  unowned let cluster: BrokerCluster
  unowned let platform: Platform
  unowned let simulator: Simulator
  var me = EntityID(0)
  var consumers: [Consumer] = []
  /// committed[group][partition], and the furthest offset each group has read (for duplicates).
  var committed: [[Int]] = []
  var furthest: [[Int]] = []
  var coordinator: [Int] = []
  var fetches: [Int64: Fetch] = [:]
  var nextTag: Int64 = 0
  var consumedRecords = 0
  var duplicateRecords = 0
  var skippedRecords = 0
  /// Rebalances done (a group's partitions assigned again), after the warm-up.
  var rebalances = 0
  var diskReadBytes = 0.0
  var endToEnd = LatencyHistogram()
  /// Records between the high watermark and the groups' positions, sampled.
  var lag = TimeWeightedAverage()
  let lagInterval: SimTime

  init(cluster: BrokerCluster, platform: Platform, simulator: Simulator) {
    self.cluster = cluster
    self.platform = platform
    self.simulator = simulator
    let p = cluster.p
    lagInterval = cluster.sampleInterval ?? .seconds(1)
    me = simulator.register(self)
    platform.addObserver(self)
    let clientHosts = platform.hostCount - p.brokers
    for group in 0..<p.consumerGroups {
      committed.append(Array(repeating: 0, count: p.partitions))
      furthest.append(Array(repeating: 0, count: p.partitions))
      coordinator.append(group % p.brokers)
      for member in 0..<p.consumersPerGroup {
        let index = group * p.consumersPerGroup + member
        consumers.append(Consumer(group: group, host: HostID(Int32(p.brokers + (p.producers + index) % clientHosts))))
        simulator.schedule(after: p.autoCommitInterval, to: me, kind: Kind.commit.rawValue, payload: Int64(index))
      }
      assign(group)
    }
    platform.assignRole("consumer", hosts: consumers.map(\.host))
    simulator.schedule(after: lagInterval, to: me, kind: Kind.lagSample.rawValue)
  }

  func resetStatistics() {
    endToEnd.reset()
    lag.reset(at: simulator.now)
    consumedRecords = 0
    duplicateRecords = 0
    skippedRecords = 0
    rebalances = 0
    diskReadBytes = 0
  }

  /// Range assignment: the group's live members in order, partitions in contiguous ranges.
  func assign(_ group: Int) {
    let members = consumers.indices.filter { consumers[$0].group == group && consumers[$0].member }
    for c in consumers.indices where consumers[c].group == group {
      for (_, handle) in consumers[c].waiting.sorted(by: { $0.key < $1.key }) { simulator.cancel(handle) }
      consumers[c].waiting.removeAll()
      consumers[c].assigned = []
      consumers[c].position = [:]
    }
    guard !members.isEmpty else { return }
    for partition in 0..<cluster.p.partitions {
      let c = members[partition * members.count / cluster.p.partitions]
      consumers[c].assigned.append(partition)
      consumers[c].position[partition] = committed[group][partition]
      scheduleFetch(c, partition, after: .zero)
    }
  }

  func scheduleFetch(_ c: Int, _ partition: Int, after delay: SimTime) {
    simulator.schedule(after: delay, to: me, kind: Kind.fetch.rawValue, payload: Int64(c) << 20 | Int64(partition))
  }

  /// The group's coordinator can be reached from a member's host.
  func coordinatorReachable(_ c: Int) -> Bool {
    let broker = coordinator[consumers[c].group]
    return cluster.alive[broker] && platform.reachable(consumers[c].host, cluster.host(of: broker))
  }

  func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .fetch:
      fetch(Int(event.payload >> 20), Int(event.payload & 0xFFFFF))
    case .commit:
      let c = Int(event.payload)
      if consumers[c].alive && consumers[c].member && coordinatorReachable(c) {
        for (partition, position) in consumers[c].position { committed[consumers[c].group][partition] = position }
      }
      simulator.schedule(
        after: cluster.p.autoCommitInterval, to: me, kind: Kind.commit.rawValue, payload: event.payload)
    case .rebalance:
      let group = Int(event.payload)
      guard cluster.alive[coordinator[group]] else {
        // No coordinator to rejoin: try again once the controller has moved the group.
        simulator.schedule(after: cluster.p.retryBackoff, to: me, kind: Kind.rebalance.rawValue, payload: event.payload)
        return
      }
      for c in consumers.indices where consumers[c].group == group {
        consumers[c].member = consumers[c].alive
        // This rebalance settles every member's state, so none of their expiries is still due.
        if let expiry = consumers[c].sessionExpiry { simulator.cancel(expiry) }
        consumers[c].sessionExpiry = nil
      }
      rebalances += 1
      assign(group)
    case .lagSample:
      lag.update(Double(currentLag()), at: simulator.now)
      simulator.schedule(after: lagInterval, to: me, kind: Kind.lagSample.rawValue)
    case nil: preconditionFailure("unknown consumer event")
    }
  }

  /// The controller declared a broker dead: groups it coordinated move to the next live broker
  /// and rebalance there.
  func brokerExpired(_ broker: Int) {
    for group in coordinator.indices where coordinator[group] == broker {
      let brokers = cluster.p.brokers
      guard let next = (1..<max(2, brokers)).map({ (broker + $0) % brokers }).first(where: { !cluster.expired[$0] })
      else { continue }
      coordinator[group] = next
      simulator.schedule(after: .zero, to: me, kind: Kind.rebalance.rawValue, payload: Int64(group))
    }
  }

  func fetch(_ c: Int, _ partition: Int) {
    consumers[c].waiting.removeValue(forKey: partition)
    guard consumers[c].alive, consumers[c].member, consumers[c].assigned.contains(partition),
      !consumers[c].fetching.contains(partition)
    else { return }
    let state = cluster.partitions[partition]
    guard let leader = state.leader else {
      return scheduleFetch(c, partition, after: cluster.p.retryBackoff)
    }
    let log = state.replicas[leader].log
    let group = consumers[c].group
    // After a truncation the position may lie beyond the log: read from the high watermark.
    var position = min(consumers[c].position[partition] ?? 0, state.highWatermark)
    if position < state.logStart {
      // Retention deleted it: auto.offset.reset.
      let restart = cluster.p.autoOffsetResetEarliest ? state.logStart : state.highWatermark
      skippedRecords += cluster.records(of: partition, from: max(position, furthest[group][partition]), to: restart)
      furthest[group][partition] = max(furthest[group][partition], restart)
      position = restart
    }
    consumers[c].position[partition] = position
    guard position < state.highWatermark else {
      consumers[c].waiting[partition] = simulator.schedule(
        after: cluster.p.fetchMaxWait, to: me, kind: Kind.fetch.rawValue, payload: Int64(c) << 20 | Int64(partition))
      return
    }
    let broker = state.replicas[leader].broker
    var take: [Int32] = []
    var bytes = 0.0
    var cold = 0.0
    for batch in log[position..<state.highWatermark] {
      let b = cluster.bytes(batch)
      if !take.isEmpty && bytes + b > cluster.p.maxPartitionFetchBytes { break }
      take.append(batch)
      bytes += b
      if !cluster.inPageCache(batch, broker: broker) { cold += b }
    }
    nextTag += 1
    fetches[nextTag] = Fetch(
      consumer: c, partition: partition, from: position, batches: take, epoch: state.epoch, broker: broker,
      bytes: bytes, onDisk: cold > 0)
    consumers[c].fetching.insert(partition)
    if cold > 0 {
      diskReadBytes += cold
      platform.diskIO(bytes: cold, write: false, host: cluster.host(of: broker), observer: self, tag: nextTag)
    } else {
      platform.transfer(
        bytes: bytes, from: cluster.host(of: broker), to: consumers[c].host, observer: self, tag: nextTag)
    }
  }

  /// The leader's high watermark moved: wake the consumers waiting on that partition.
  func highWatermarkMoved(_ partition: Int) {
    for c in consumers.indices {
      if let handle = consumers[c].waiting.removeValue(forKey: partition) {
        simulator.cancel(handle)
        scheduleFetch(c, partition, after: .zero)
      }
    }
  }

  func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    guard var f = fetches[tag] else { return }
    if f.onDisk {
      // Read from disk: now the transfer.
      f.onDisk = false
      fetches[tag] = f
      platform.transfer(
        bytes: f.bytes, from: cluster.host(of: f.broker), to: consumers[f.consumer].host, observer: self, tag: tag)
      return
    }
    fetches.removeValue(forKey: tag)
    consumers[f.consumer].fetching.remove(f.partition)
    let group = consumers[f.consumer].group
    if consumers[f.consumer].position[f.partition] == f.from {
      for (k, batch) in f.batches.enumerated() {
        let b = cluster.batches[Int(batch)]
        guard b.counted else { continue }
        if f.from + k < furthest[group][f.partition] {
          duplicateRecords += Int(b.records)
        } else {
          consumedRecords += Int(b.records)
          endToEnd.record(simulator.now - b.created)
        }
      }
      consumers[f.consumer].position[f.partition] = f.from + f.batches.count
      furthest[group][f.partition] = max(furthest[group][f.partition], f.from + f.batches.count)
    }
    scheduleFetch(f.consumer, f.partition, after: .zero)
  }

  func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    guard let f = fetches.removeValue(forKey: tag) else { return }
    consumers[f.consumer].fetching.remove(f.partition)
    scheduleFetch(f.consumer, f.partition, after: cluster.p.retryBackoff)
  }

  func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator) {
    var groups: [Int] = []
    for c in consumers.indices where consumers[c].host == host {
      consumers[c].alive = up
      if !up {
        consumers[c].fetching.removeAll()
        for (_, handle) in consumers[c].waiting.sorted(by: { $0.key < $1.key }) { simulator.cancel(handle) }
        consumers[c].waiting.removeAll()
      }
      if !groups.contains(consumers[c].group) { groups.append(consumers[c].group) }
    }
    for group in groups {
      if up {
        // A returning member rejoins at once; that rebalance supersedes the expiry its failure set.
        simulator.schedule(after: .zero, to: me, kind: Kind.rebalance.rawValue, payload: Int64(group))
        continue
      }
      // A dead member is noticed after the session timeout, unless it rejoins first.
      let expiry = simulator.schedule(
        after: cluster.p.consumerSessionTimeout, to: me, kind: Kind.rebalance.rawValue, payload: Int64(group))
      for c in consumers.indices where consumers[c].host == host && consumers[c].group == group {
        consumers[c].sessionExpiry = expiry
      }
    }
  }

  /// The oldest offset of a partition a group may still read: its committed offsets (a rewind
  /// starts there), its members' positions and the fetches under way (they hold batch ids).
  func oldestNeeded(_ partition: Int) -> Int {
    var oldest = Int.max
    for group in committed.indices { oldest = min(oldest, committed[group][partition]) }
    for c in consumers.indices { if let at = consumers[c].position[partition] { oldest = min(oldest, at) } }
    for fetch in fetches.values where fetch.partition == partition { oldest = min(oldest, fetch.from) }
    return oldest
  }

  /// Records not yet read: per group and partition, from the owner's position (or the committed
  /// offset of an unowned partition) to the high watermark (as Kafka's lag, records retention
  /// deleted still count).
  func currentLag() -> Int {
    var total = 0
    for group in committed.indices {
      var position = committed[group]
      for c in consumers.indices where consumers[c].group == group && consumers[c].alive && consumers[c].member {
        for (partition, at) in consumers[c].position { position[partition] = at }
      }
      for partition in position.indices {
        let hw = cluster.partitions[partition].highWatermark
        total += cluster.records(of: partition, from: position[partition], to: hw)
      }
    }
    return total
  }
}

extension BrokerCluster {
  /// Records in the current leader's log between two offsets (0 without a leader).
  func records(of partition: Int, from: Int, to end: Int) -> Int {
    guard let leader = partitions[partition].leader else { return 0 }
    let log = partitions[partition].replicas[leader].log
    let upper = min(end, log.count)
    guard from < upper else { return 0 }
    return log[from..<upper].reduce(0) { $0 + Int(batches[Int($1)].records) }
  }
}
