import SimKernel
import SimPlatform

/// Consumer groups reading the topic: each group gets every record (pub/sub); within a group the
/// partitions are divided among its live members (a queue).
///
/// A consumer fetches from each assigned partition's leader up to the high watermark (a
/// transfer of up to `max.partition.fetch.bytes`); with nothing to read it waits until the high
/// watermark moves (or `fetch.max.wait.ms`). Positions are committed every
/// `auto.commit.interval.ms`. When a consumer's host dies, the group notices after its session
/// timeout and hands its partitions to the others, which resume from the committed offsets: the
/// records read since the last commit are read again (at-least-once delivery).
final class ConsumerGroups: EventHandler, ActivityObserver, PlatformObserver {
  enum Kind: Int32 {
    case fetch = 0  // payload: consumer << 20 | partition
    case commit = 1  // payload: consumer
    case rebalance = 2  // payload: group
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
  }

  unowned let cluster: BrokerCluster
  unowned let platform: Platform
  unowned let simulator: Simulator
  var me = EntityID(0)
  var consumers: [Consumer] = []
  /// committed[group][partition], and the furthest offset each group has read (for duplicates).
  var committed: [[Int]] = []
  var furthest: [[Int]] = []
  var fetches: [Int64: (consumer: Int, partition: Int, from: Int, batches: [Int32], epoch: Int)] = [:]
  var nextTag: Int64 = 0
  var consumedRecords = 0
  var duplicateRecords = 0
  var endToEnd = LatencyHistogram()
  var lag = TimeWeightedAverage()

  init(cluster: BrokerCluster, platform: Platform, simulator: Simulator) {
    self.cluster = cluster
    self.platform = platform
    self.simulator = simulator
    let p = cluster.p
    me = simulator.register(self)
    platform.addObserver(self)
    let clientHosts = platform.hostCount - p.brokers
    for group in 0..<p.consumerGroups {
      committed.append(Array(repeating: 0, count: p.partitions))
      furthest.append(Array(repeating: 0, count: p.partitions))
      for member in 0..<p.consumersPerGroup {
        let index = group * p.consumersPerGroup + member
        consumers.append(Consumer(group: group, host: HostID(Int32(p.brokers + (p.producers + index) % clientHosts))))
        simulator.schedule(after: p.autoCommitInterval, to: me, kind: Kind.commit.rawValue, payload: Int64(index))
      }
      assign(group)
    }
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

  func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .fetch:
      fetch(Int(event.payload >> 20), Int(event.payload & 0xFFFFF))
    case .commit:
      let c = Int(event.payload)
      if consumers[c].alive && consumers[c].member {
        for (partition, position) in consumers[c].position { committed[consumers[c].group][partition] = position }
      }
      simulator.schedule(
        after: cluster.p.autoCommitInterval, to: me, kind: Kind.commit.rawValue, payload: event.payload)
    case .rebalance:
      let group = Int(event.payload)
      for c in consumers.indices where consumers[c].group == group { consumers[c].member = consumers[c].alive }
      assign(group)
    case nil: preconditionFailure("unknown consumer event")
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
    // After a truncation the position may lie beyond the log: read from the high watermark.
    let position = min(consumers[c].position[partition] ?? 0, state.highWatermark)
    consumers[c].position[partition] = position
    guard position < state.highWatermark else {
      consumers[c].waiting[partition] = simulator.schedule(
        after: cluster.p.fetchMaxWait, to: me, kind: Kind.fetch.rawValue, payload: Int64(c) << 20 | Int64(partition))
      return
    }
    var take: [Int32] = []
    var bytes = 0.0
    for batch in log[position..<state.highWatermark] {
      if !take.isEmpty && bytes + cluster.batches[Int(batch)].bytes > cluster.p.maxPartitionFetchBytes { break }
      take.append(batch)
      bytes += cluster.batches[Int(batch)].bytes
    }
    nextTag += 1
    fetches[nextTag] = (c, partition, position, take, state.epoch)
    consumers[c].fetching.insert(partition)
    platform.transfer(
      bytes: bytes, from: cluster.host(of: state.replicas[leader].broker), to: consumers[c].host, observer: self,
      tag: nextTag)
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
    guard let f = fetches.removeValue(forKey: tag) else { return }
    consumers[f.consumer].fetching.remove(f.partition)
    let group = consumers[f.consumer].group
    if consumers[f.consumer].position[f.partition] == f.from {
      for (k, batch) in f.batches.enumerated() {
        let b = cluster.batches[Int(batch)]
        guard b.counted else { continue }
        if f.from + k < furthest[group][f.partition] {
          duplicateRecords += b.records
        } else {
          consumedRecords += b.records
          endToEnd.record(simulator.now - b.created)
        }
      }
      consumers[f.consumer].position[f.partition] = f.from + f.batches.count
      furthest[group][f.partition] = max(furthest[group][f.partition], f.from + f.batches.count)
      updateLag()
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
    // A dead member is noticed after the session timeout; a returning one rejoins at once.
    for group in groups {
      simulator.schedule(
        after: up ? .zero : cluster.p.consumerSessionTimeout, to: me, kind: Kind.rebalance.rawValue,
        payload: Int64(group))
    }
  }

  func updateLag() {
    var total = 0
    for c in consumers.indices where consumers[c].alive && consumers[c].member {
      for partition in consumers[c].assigned {
        total += max(0, cluster.partitions[partition].highWatermark - (consumers[c].position[partition] ?? 0))
      }
    }
    lag.update(Double(total), at: simulator.now)
  }
}
