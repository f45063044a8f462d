import Foundation
import SimKernel
import SimModel
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
package final class EventLog: EventHandler, ActivityObserver, PlatformObserver {
  package struct Partition {
    package var history = 0
    /// Live records dropped from the front because no reader can read them again (see
    /// `floors`): `eventTimes[0]` is offset `history + dropped`.
    var dropped = 0
    /// The stored records' count that triggers the next compaction.
    var compactAt = EventLog.compactionMinimum
    package var eventTimes: [Int64] = []
    package var keys: [Int32] = []
    var appendTimes: [Int64] = []
    var ready: [(arrival: Int64, time: Int64, key: Int32)] = []
    var sending: [(arrival: Int64, time: Int64, key: Int32)] = []
    package var end: Int { history + dropped + eventTimes.count }
    /// The first stored live record's offset.
    package var firstStored: Int { history + dropped }

    /// What is ready becomes the request being sent (swapped, so both keep their capacity).
    mutating func takeReady() {
      sending.removeAll(keepingCapacity: true)
      swap(&sending, &ready)
    }
  }

  /// Partitions compact once they store at least this many records.
  static let compactionMinimum = 4096

  package let events: EventWorkload
  let log: LogParameters
  package let hosts: StreamHosts
  /// The truth's bucket of event time (the job's slide): history chunks are this long.
  package let bucket: Int64
  unowned let platform: Platform
  unowned let simulator: Simulator
  var me = EntityID(0)
  let arrivals: RandomStream
  let keyTable: DiscreteTable?
  package var partitions: [Partition]
  var partitionOfKey: [Int32]
  /// History: events per key in each bucket, the partitions' share, and how many buckets.
  var historyPerBucket: [Int32]
  var historyChunk: [[(key: Int32, count: Int32)]]
  let historyBuckets: Int
  typealias Record = (arrival: Int64, time: Int64, key: Int32)
  /// Events generated but not yet arrived, by the producer tick that will find them arrived:
  /// the next `pendingTicks` ticks in a ring (slot: tick mod `pendingTicks`), later ones aside.
  var pending: [[Record]] = Array(repeating: [], count: EventLog.pendingTicks)
  var pendingLater: [Int: [Record]] = [:]
  /// Producer ticks so far.
  var ticks = 0
  static let pendingTicks = 256
  /// The truth: events generated per bucket of event time and key (flat, `keys` per bucket),
  /// and per key up to now.
  var truth: [Int32] = []
  var generated: [Int]
  package var generatedTotal = 0
  var appended = 0
  var appendedBytes = 0.0
  var appendFailures = 0
  /// Told when records reach a partition (its index).
  var appendListeners: [(Int) -> Void] = []
  /// Each reader's lowest offset of a partition it may still read (its position, a checkpoint's
  /// it may rewind to, `Int.max` once it never reads again; 0 holds everything). Records below
  /// every reader's floor are dropped: the log's memory follows what is unread, not the run's
  /// length. Without readers nothing is dropped.
  package var floors: [(Int) -> Int] = []
  /// Live records dropped by compaction, over all partitions.
  var compacted = 0
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
    partitionOfKey = (0..<events.keys).map { Int32(KeyPartitioning.partition(ofKey: $0, partitions: log.partitions)) }
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

  package func handle(_ event: Event, in simulator: Simulator) {
    let now = simulator.now.nanoseconds
    let interval = log.produceInterval.nanoseconds
    let start = now - interval
    let n = arrivals.poisson(mean: events.rate * log.produceInterval.seconds)
    // Read once, not per event (each read of the enum and the table retains them), and the
    // arrays the loop writes held in locals, so each write is not a check of `self`'s copy.
    let (stream, table, delay, keys) = (arrivals, keyTable, events.arrivalDelay, events.keys)
    var (pending, truth, generated): ([[Record]], [Int32], [Int]) = ([], [], [])
    swap(&pending, &self.pending)
    swap(&truth, &self.truth)
    swap(&generated, &self.generated)
    for _ in 0..<n {
      let time = start + Int64(stream.uniform() * Double(interval))
      let key = Int32(table.map { stream.discrete($0) } ?? stream.uniformInt(keys))
      // Saturating: a delay past the end of time arrives never, and does not overflow.
      let arrival = SimTime(nanoseconds: time) + max(.zero, delay.sampleTime(stream))
      // The first tick at or after the arrival: this one (`now`), or `ahead` intervals on.
      let a = arrival.nanoseconds
      let ahead = a <= now ? 0 : Int((a - now - 1) / interval) + 1
      if ahead < EventLog.pendingTicks {
        pending[(ticks + ahead) % EventLog.pendingTicks].append((a, time, key))
      } else {
        pendingLater[ticks + ahead, default: []].append((a, time, key))
      }
      let b = Int(time / bucket)
      while truth.count < (b + 1) * keys { truth.append(contentsOf: repeatElement(0, count: keys)) }
      truth[b * keys + Int(key)] += 1
      generated[Int(key)] += 1
    }
    // What has arrived goes to its partition's next batch, in arrival order. (The slot does not
    // keep its capacity: 256 slots of a tick's arrivals would hold 30 MB at 50k events/s.)
    let slot = ticks % EventLog.pendingTicks
    var due: [Record] = []
    swap(&due, &pending[slot])
    swap(&pending, &self.pending)
    swap(&truth, &self.truth)
    swap(&generated, &self.generated)
    generatedTotal += n
    if let later = pendingLater.removeValue(forKey: ticks) { due.append(contentsOf: later) }
    ticks += 1
    EventLog.sortByArrival(&due)
    for record in due { partitions[Int(partitionOfKey[Int(record.key)])].ready.append(record) }
    for p in partitions.indices where partitions[p].sending.isEmpty && !partitions[p].ready.isEmpty { send(p) }
    simulator.schedule(after: log.produceInterval, to: me)
  }

  /// Sorts records by (arrival, time, key): a stable least-significant-digit radix sort of the
  /// arrivals' offsets from the smallest (as few passes of at most 11 bits as the spread needs;
  /// an interval's arrivals span one produce interval), then each run of equal arrivals by
  /// (time, key). The same order as the tuples' sort, several times faster.
  static func sortByArrival(_ records: inout [Record]) {
    guard records.count > 1 else { return }
    var low = Int64.max
    var high = Int64.min
    for r in records {
      low = min(low, r.arrival)
      high = max(high, r.arrival)
    }
    // high >= low, so the wrapped difference is the exact spread as an unsigned number.
    let bits = UInt64.bitWidth - UInt64(bitPattern: high &- low).leadingZeroBitCount
    if bits > 0 {
      let passes = (bits + 10) / 11
      let digit = (bits + passes - 1) / passes
      let mask = (UInt64(1) << digit) - 1
      var other = [Record](unsafeUninitializedCapacity: records.count) { _, n in n = records.count }
      // Every pass's digit counts in one reading (they do not depend on the order), then each
      // count turned into where its digit's records start.
      var counts = [Int](repeating: 0, count: passes << digit)
      counts.withUnsafeMutableBufferPointer { c in
        for r in records {
          let offset = UInt64(bitPattern: r.arrival &- low)
          for pass in 0..<passes { c[pass << digit | Int((offset >> UInt64(pass * digit)) & mask)] += 1 }
        }
        for pass in 0..<passes {
          var sum = 0
          for i in (pass << digit)..<((pass + 1) << digit) {
            let n = c[i]
            c[i] = sum
            sum += n
          }
        }
      }
      // Where the order so far is: each pass reads it and writes the other array.
      var inRecords = true
      for pass in 0..<passes {
        let shift = UInt64(pass * digit)
        let read = inRecords
        inRecords.toggle()
        records.withUnsafeMutableBufferPointer { a in
          other.withUnsafeMutableBufferPointer { b in
            let (from, to) = read ? (a, b) : (b, a)
            counts.withUnsafeMutableBufferPointer { c in
              let base = pass << digit
              for r in from {
                let d = base | Int((UInt64(bitPattern: r.arrival &- low) >> shift) & mask)
                to[c[d]] = r
                c[d] += 1
              }
            }
          }
        }
      }
      if !inRecords { swap(&records, &other) }
    }
    var start = 0
    while start < records.count {
      var end = start + 1
      while end < records.count, records[end].arrival == records[start].arrival { end += 1 }
      if end - start > 1 { records[start..<end].sort { ($0.time, $0.key) < ($1.time, $1.key) } }
      start = end
    }
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

  package func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator) {
    downSince[host.index] = up ? nil : simulator.now
  }

  /// One produce request for the partition: the client to the leader and on to the live
  /// followers (a pipelined write to each broker's disk; acks=all waits for the last).
  func send(_ p: Int) {
    partitions[p].takeReady()
    let leader = leader(p)
    var path = [HostID(hosts.clients[p % hosts.clients.count]), HostID(leader)]
    for b in replicas(p) where b != leader && platform.isUp(HostID(b)) { path.append(HostID(b)) }
    let bytes = Double(partitions[p].sending.count) * events.size
    platform.pipeline(bytes: bytes, hosts: path, readDisk: false, writeDisks: true, observer: self, tag: Int64(p))
  }

  package func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    let p = Int(tag)
    let now = simulator.now.nanoseconds
    do {
      let sending = partitions[p].sending
      partitions[p].eventTimes.append(contentsOf: sending.lazy.map(\.time))
      partitions[p].keys.append(contentsOf: sending.lazy.map(\.key))
      partitions[p].appendTimes.append(contentsOf: repeatElement(now, count: sending.count))
    }
    appended += partitions[p].sending.count
    appendedBytes += Double(partitions[p].sending.count) * events.size
    partitions[p].sending.removeAll(keepingCapacity: true)
    if !partitions[p].ready.isEmpty { send(p) }
    for listener in appendListeners { listener(p) }
    compact(p)
  }

  /// Drops the partition's records below every reader's floor, once it stores twice what it
  /// kept last time (so each record is moved a bounded number of times).
  func compact(_ p: Int) {
    guard !floors.isEmpty, partitions[p].eventTimes.count >= partitions[p].compactAt else { return }
    var floor = partitions[p].end
    for f in floors { floor = min(floor, f(p)) }
    let n = floor - partitions[p].firstStored
    if n > 0 {
      partitions[p].eventTimes.removeFirst(n)
      partitions[p].keys.removeFirst(n)
      partitions[p].appendTimes.removeFirst(n)
      partitions[p].dropped += n
      compacted += n
    }
    partitions[p].compactAt = max(EventLog.compactionMinimum, 2 * partitions[p].eventTimes.count)
  }

  /// A broker on the way is down: the batch is sent again at the next interval.
  package func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    let p = Int(tag)
    appendFailures += 1
    partitions[p].ready = partitions[p].sending + partitions[p].ready
    partitions[p].sending.removeAll()
  }

  // MARK: Reading

  /// The first offset retention keeps: history chunks and records appended within `retention`
  /// (or the first stored one, if retention keeps some that compaction dropped: no reader is
  /// below it).
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
    return part.firstStored + lo
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
      let from = offset - part.firstStored
      precondition(from >= 0, "a compacted record is read: a reader's floor was wrong")
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
  package var historyStart: Int64 { -Int64(historyBuckets) * bucket }
}
