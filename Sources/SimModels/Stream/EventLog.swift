import Foundation
import SimKernel
import SimPlatform

/// A fetch from one partition: live records (one each), or a chunk of the history (its event
/// counts per key, one bucket of event time, in order).
struct RecordBatch {
  var eventTimes: [Int64] = []
  var keys: [Int32] = []
  var appendTimes: [Int64] = []
  /// A history chunk: its bucket's start and (key, count) pairs.
  var chunkStart: Int64?
  var chunk: [(key: Int32, count: Int32)] = []
  var count = 0
  var bytes = 0.0
  /// Read from the brokers' disks (older than the page cache holds).
  var fromDisk = false
}

/// The events and the log they go through: a generator at the client hosts, a topic of
/// `partitions` on the brokers (each append a pipelined write to the leader and its followers,
/// acks=all), retention by time, and the ground truth every answer is checked against.
///
/// Events happen at Poisson times with keys drawn by popularity; each reaches the producer after
/// its `arrival_delay` (so the log holds them out of event-time order), and the producer sends
/// what has arrived every `produce_interval`, one batch per partition (the key's hash picks it).
/// `history` is the time before the run at the same rate: it is in the log (within retention)
/// and in the truth, kept as one count per key per bucket of event time rather than per event.
final class EventLog: EventHandler, ActivityObserver, PlatformObserver {
  struct Partition {
    var history = 0
    var eventTimes: [Int64] = []
    var keys: [Int32] = []
    var appendTimes: [Int64] = []
    var ready: [(arrival: Int64, time: Int64, key: Int32)] = []
    var sending: [(arrival: Int64, time: Int64, key: Int32)] = []
    var end: Int { history + eventTimes.count }
  }

  let events: EventWorkload
  let log: LogParameters
  let hosts: StreamHosts
  /// The truth's bucket of event time (the job's slide): history chunks are this long.
  let bucket: Int64
  unowned let platform: Platform
  unowned let simulator: Simulator
  var me = EntityID(0)
  let arrivals: RandomStream
  let keyTable: DiscreteTable?
  var partitions: [Partition]
  var partitionOfKey: [Int32]
  /// History: events per key in each bucket, the partitions' share, and how many buckets.
  var historyPerBucket: [Int32]
  var historyChunk: [[(key: Int32, count: Int32)]]
  let historyBuckets: Int
  /// Events generated but not yet arrived (by arrival time, unordered).
  var pending: [(arrival: Int64, time: Int64, key: Int32)] = []
  /// The truth: events generated per bucket of event time and key (flat, `keys` per bucket),
  /// and per key up to now.
  var truth: [Int32] = []
  var generated: [Int]
  var generatedTotal = 0
  var appended = 0
  var appendedBytes = 0.0
  var appendFailures = 0
  /// Told when records reach a partition (its index).
  var appendListeners: [(Int) -> Void] = []
  /// Brokers down, since when.
  var downSince: [Int32: SimTime] = [:]

  init(
    events: EventWorkload, log: LogParameters, hosts: StreamHosts, bucket: SimTime, platform: Platform,
    simulator: Simulator, context: RunContext
  ) {
    self.events = events
    self.log = log
    self.hosts = hosts
    self.bucket = bucket.nanoseconds
    self.platform = platform
    self.simulator = simulator
    arrivals = context.streams.stream("stream.events")
    let weights = (0..<events.keys).map { k in events.keySkew.map { pow(Double(k + 1), -$0) } ?? 1 }
    keyTable = events.keySkew == nil ? nil : try? DiscreteTable(weights: weights)
    partitions = Array(repeating: Partition(), count: log.partitions)
    partitionOfKey = (0..<events.keys).map { Int32(BrokerCluster.partition(ofKey: $0, partitions: log.partitions)) }
    generated = Array(repeating: 0, count: events.keys)
    // History: the expected count per key and bucket, rounded by largest remainder so that the
    // bucket holds rate x bucket events.
    historyBuckets = Int(events.history.nanoseconds / bucket.nanoseconds)
    let total = weights.reduce(0, +)
    let perBucket = events.rate * bucket.seconds
    let exact = weights.map { perBucket * $0 / total }
    var counts = exact.map { Int32($0.rounded(.down)) }
    let short = Int(perBucket.rounded()) - Int(counts.reduce(0, +))
    let remainders: [Double] = exact.map { $0 - $0.rounded(.down) }
    let order = exact.indices.sorted { a, b in
      remainders[a] != remainders[b] ? remainders[a] > remainders[b] : a < b
    }
    for k in order.prefix(max(0, short)) { counts[k] += 1 }
    historyPerBucket = historyBuckets > 0 ? counts : Array(repeating: 0, count: events.keys)
    historyChunk = Array(repeating: [], count: log.partitions)
    for k in 0..<events.keys where historyPerBucket[k] > 0 {
      historyChunk[Int(partitionOfKey[k])].append((Int32(k), historyPerBucket[k]))
    }
    for p in partitions.indices {
      partitions[p].history = historyBuckets * Int(historyChunk[p].reduce(0) { $0 + $1.count })
    }
    me = simulator.register(self)
    platform.addObserver(self)
    simulator.schedule(after: log.produceInterval, to: me)
  }

  // MARK: Producing

  func handle(_ event: Event, in simulator: Simulator) {
    let now = simulator.now.nanoseconds
    let interval = log.produceInterval.nanoseconds
    let start = now - interval
    let n = arrivals.poisson(mean: events.rate * log.produceInterval.seconds)
    for _ in 0..<n {
      let time = start + Int64(arrivals.uniform() * Double(interval))
      let key = Int32(keyTable.map { arrivals.discrete($0) } ?? arrivals.uniformInt(events.keys))
      // Saturating: a delay past the end of time arrives never, and does not overflow.
      let arrival = SimTime(nanoseconds: time) + max(.zero, events.arrivalDelay.sampleTime(arrivals))
      pending.append((arrival.nanoseconds, time, key))
      let b = Int(time / bucket)
      while truth.count < (b + 1) * events.keys { truth.append(contentsOf: repeatElement(0, count: events.keys)) }
      truth[b * events.keys + Int(key)] += 1
      generated[Int(key)] += 1
    }
    generatedTotal += n
    // What has arrived goes to its partition's next batch, in arrival order.
    var due: [(arrival: Int64, time: Int64, key: Int32)] = []
    var k = 0
    while k < pending.count {
      if pending[k].arrival <= now {
        due.append(pending[k])
        pending[k] = pending[pending.count - 1]
        pending.removeLast()
      } else {
        k += 1
      }
    }
    due.sort { ($0.arrival, $0.time, $0.key) < ($1.arrival, $1.time, $1.key) }
    for record in due { partitions[Int(partitionOfKey[Int(record.key)])].ready.append(record) }
    for p in partitions.indices where partitions[p].sending.isEmpty && !partitions[p].ready.isEmpty { send(p) }
    simulator.schedule(after: log.produceInterval, to: me)
  }

  /// The partition's replicas, the preferred leader first.
  func replicas(_ p: Int) -> [Int32] {
    let brokers = hosts.brokers.count
    return (0..<min(log.replication, brokers)).map { hosts.brokers[(p + $0) % brokers] }
  }

  /// The controller's view of a broker: alive while up, and for `leader_failover` after it dies
  /// (until its session times out).
  func alive(_ broker: Int32) -> Bool {
    platform.isUp(HostID(broker)) || downSince[broker].map { simulator.now - $0 < log.leaderFailover } ?? false
  }

  /// The first replica the controller thinks alive (the preferred one again once it is back);
  /// while a dead leader's session lasts, requests to it fail and are sent again.
  func leader(_ p: Int) -> Int32 { replicas(p).first(where: alive) ?? replicas(p)[0] }

  func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator) {
    downSince[host.index] = up ? nil : simulator.now
  }

  /// One produce request for the partition: the client to the leader and on to the live
  /// followers (a pipelined write to each broker's disk; acks=all waits for the last).
  func send(_ p: Int) {
    partitions[p].sending = partitions[p].ready
    partitions[p].ready = []
    let leader = leader(p)
    var path = [HostID(hosts.clients[p % hosts.clients.count]), HostID(leader)]
    for b in replicas(p) where b != leader && platform.isUp(HostID(b)) { path.append(HostID(b)) }
    let bytes = Double(partitions[p].sending.count) * events.size
    platform.pipeline(bytes: bytes, hosts: path, readDisk: false, writeDisks: true, observer: self, tag: Int64(p))
  }

  func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    let p = Int(tag)
    let now = simulator.now.nanoseconds
    for record in partitions[p].sending {
      partitions[p].eventTimes.append(record.time)
      partitions[p].keys.append(record.key)
      partitions[p].appendTimes.append(now)
    }
    appended += partitions[p].sending.count
    appendedBytes += Double(partitions[p].sending.count) * events.size
    partitions[p].sending.removeAll(keepingCapacity: true)
    if !partitions[p].ready.isEmpty { send(p) }
    for listener in appendListeners { listener(p) }
  }

  /// A broker on the way is down: the batch is sent again at the next interval.
  func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    let p = Int(tag)
    appendFailures += 1
    partitions[p].ready = partitions[p].sending + partitions[p].ready
    partitions[p].sending.removeAll()
  }

  // MARK: Reading

  /// The first offset retention keeps: history chunks and records appended within `retention`.
  func logStart(_ p: Int, at now: SimTime) -> Int {
    let cutoff = now.nanoseconds - log.retention.nanoseconds
    let part = partitions[p]
    let perChunk = historyBuckets > 0 ? part.history / historyBuckets : 0
    if perChunk > 0 {
      // Chunk c (0 the oldest) was appended at the end of its bucket, before time 0.
      let behind = cutoff - historyStart
      let first = behind <= 0 ? 0 : Int((behind + bucket - 1) / bucket) - 1
      if first < historyBuckets { return first * perChunk }
    }
    var lo = 0
    var hi = part.appendTimes.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if part.appendTimes[mid] < cutoff { lo = mid + 1 } else { hi = mid }
    }
    return part.history + lo
  }

  /// Up to `maxRecords` records from `offset` (a whole history chunk counts as one poll).
  func read(_ p: Int, from offset: Int, maxRecords: Int, at now: SimTime) -> RecordBatch {
    var batch = RecordBatch()
    let part = partitions[p]
    if offset < part.history {
      let perChunk = part.history / historyBuckets
      let c = offset / perChunk
      precondition(offset % perChunk == 0, "a history chunk is read whole")
      batch.chunkStart = -Int64(historyBuckets - c) * bucket
      batch.chunk = historyChunk[p]
      batch.count = perChunk
      batch.fromDisk = now.nanoseconds - (batch.chunkStart! + bucket) > log.pageCacheAge.nanoseconds
    } else {
      let from = offset - part.history
      let to = min(part.eventTimes.count, from + maxRecords)
      guard to > from else { return batch }
      batch.eventTimes = Array(part.eventTimes[from..<to])
      batch.keys = Array(part.keys[from..<to])
      batch.appendTimes = Array(part.appendTimes[from..<to])
      batch.count = to - from
      batch.fromDisk = now.nanoseconds - part.appendTimes[from] > log.pageCacheAge.nanoseconds
    }
    batch.bytes = Double(batch.count) * events.size
    return batch
  }

  // MARK: Truth

  /// Events of `key` with event time before `horizon` (a bucket boundary), history included.
  func truth(key: Int, before horizon: Int64) -> Int {
    let chunks = min(historyBuckets, max(0, Int((horizon - historyStart) / bucket)))
    var sum = chunks * Int(historyPerBucket[key])
    let buckets = min(Int(max(0, horizon) / bucket), truth.count / events.keys)
    var i = key
    for _ in 0..<buckets {
      sum += Int(truth[i])
      i += events.keys
    }
    return sum
  }

  /// Events of `key` generated so far (history included): what has happened, reflected or not.
  func happened(key: Int) -> Int { historyBuckets * Int(historyPerBucket[key]) + generated[key] }

  var historyEvents: Int { historyBuckets * Int(historyPerBucket.reduce(0, +)) }
  var historyStart: Int64 { -Int64(historyBuckets) * bucket }
}
