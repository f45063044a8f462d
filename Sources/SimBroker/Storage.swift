import SimKernel
import SimPlatform

/// A broker's page cache and disk. Appends land in the page cache; the kernel writes dirty
/// bytes back every `flush_interval` or as soon as they pass `dirty_background`; above
/// `dirty_max` (dirty plus under write-back) appends stall until a write-back ends. So the disk
/// limits throughput only when the write rate it sustains is below the append rate.
struct BrokerStorage {
  var dirty = 0.0
  /// The dirty bytes of each log directory (`log.dirs`: one disk each).
  var dirtyByDir: [Double] = []
  /// The directory of each partition hosted here (-1: none).
  var dirOf: [Int] = []
  /// The write-back under way: its bytes, each hosted replica's log length it covers, and the
  /// directories' writes still going on.
  var writingBack: (bytes: Double, upTo: [Int])?
  var writesLeft = 0
  /// Produce requests and replica fetchers waiting for dirty pages to drain.
  var stalled: [Int64] = []
  var stalledFetchers: [Int] = []
  /// Bytes appended since the start, sampled at most every 100 ms (to tell whether a read of
  /// old data hits the page cache).
  var appendedTotal = 0.0
  var history: [(time: SimTime, appended: Double)] = [(.zero, 0)]
  /// The replicas on this broker: (partition, replica index).
  var replicas: [(partition: Int, replica: Int)] = []
}

extension BrokerCluster {
  func startStorage() {
    storage = Array(repeating: BrokerStorage(), count: p.brokers)
    for broker in 0..<p.brokers {
      storage[broker].dirtyByDir = Array(repeating: 0, count: p.logDirs)
      storage[broker].dirOf = Array(repeating: -1, count: partitions.count)
    }
    // Kafka puts a new partition in the directory with the fewest: round robin here.
    for i in partitions.indices {
      for (r, replica) in partitions[i].replicas.enumerated() {
        storage[replica.broker].dirOf[i] = storage[replica.broker].replicas.count % p.logDirs
        storage[replica.broker].replicas.append((i, r))
      }
    }
    for broker in 0..<p.brokers {
      simulator.schedule(after: p.flushInterval, to: me, kind: Kind.writeBack.rawValue, payload: Int64(broker))
    }
    if p.retention != nil || p.retentionBytes != nil {
      simulator.schedule(after: p.retentionCheckInterval, to: me, kind: Kind.retention.rawValue)
    }
  }

  func appendsStall(_ broker: Int) -> Bool {
    storage[broker].dirty + (storage[broker].writingBack?.bytes ?? 0) >= p.dirtyMax
  }

  /// `bytes` of partition `i` are dirty in its directory on `broker` (`appended` counts them in all).
  func dirtied(_ bytes: Double, broker: Int, partition i: Int) {
    storage[broker].dirtyByDir[storage[broker].dirOf[i]] += bytes
  }

  func appended(_ bytes: Double, broker: Int) {
    if storage[broker].history.last!.time + .milliseconds(100) <= simulator.now {
      storage[broker].history.append((simulator.now, storage[broker].appendedTotal))
    }
    storage[broker].dirty += bytes
    storage[broker].appendedTotal += bytes
    // A sample followed by one already more than `page_cache` bytes back answers no question
    // `inPageCache` can still ask differently (appends only add): keep the page cache's worth.
    if settles {
      var drop = 0
      let history = storage[broker].history
      while drop + 1 < history.count, storage[broker].appendedTotal - history[drop + 1].appended > p.pageCache {
        drop += 1
      }
      if drop > 0 { storage[broker].history.removeFirst(drop) }
    }
    if storage[broker].dirty >= p.dirtyBackground { writeBack(broker) }
  }

  /// Writes every dirty byte of a broker to its disks: one sequential write per log directory,
  /// at once; the write-back ends when the last is done.
  func writeBack(_ broker: Int) {
    guard alive[broker], storage[broker].writingBack == nil, storage[broker].dirty > 0 else { return }
    let upTo = storage[broker].replicas.map { partitions[$0.partition].replicas[$0.replica].log.count }
    let total = storage[broker].dirty
    storage[broker].writingBack = (total, upTo)
    storage[broker].dirty = 0
    // One directory writes the total as counted (the same sum, to the last bit).
    let writes =
      p.logDirs == 1 ? [(offset: 0, element: total)] : storage[broker].dirtyByDir.enumerated().filter { $0.element > 0 }
    storage[broker].dirtyByDir = Array(repeating: 0, count: p.logDirs)
    storage[broker].writesLeft = writes.count
    for (dir, bytes) in writes {
      platform.diskIO(
        bytes: bytes, write: true, host: host(of: broker), disk: dir, observer: self,
        tag: tag(.writeBack, Int64(dir) << 32 | Int64(broker)))
    }
  }

  func writeBackDone(broker: Int) {
    guard let done = storage[broker].writingBack else { return }
    storage[broker].writesLeft -= 1
    guard storage[broker].writesLeft <= 0 else { return }
    storage[broker].writingBack = nil
    for (k, (i, r)) in storage[broker].replicas.enumerated() {
      let length = min(done.upTo[k], partitions[i].replicas[r].log.count)
      partitions[i].replicas[r].flushed = max(partitions[i].replicas[r].flushed, length)
      settle(i)
    }
    if storage[broker].dirty >= p.dirtyBackground { writeBack(broker) }
    // Stalled work goes on, in order, while there is room.
    let stalled = storage[broker].stalled
    storage[broker].stalled.removeAll()
    for (k, id) in stalled.enumerated() {
      if appendsStall(broker) {
        storage[broker].stalled.append(contentsOf: stalled[k...])
        break
      }
      appendRequest(id)
    }
    let fetchers = storage[broker].stalledFetchers
    storage[broker].stalledFetchers.removeAll()
    for f in fetchers { scheduleFetch(f, after: .zero) }
  }

  /// The host went down: the page cache is gone, and with `crash_loses_page_cache` the log tail
  /// never written back with it.
  func storageCrashed(_ broker: Int) {
    storage[broker].dirty = 0
    storage[broker].dirtyByDir = Array(repeating: 0, count: p.logDirs)
    storage[broker].writingBack = nil
    storage[broker].stalled.removeAll()
    storage[broker].stalledFetchers.removeAll()
    guard p.crashLosesPageCache else { return }
    for (i, r) in storage[broker].replicas {
      let extra = partitions[i].replicas[r].log.count - partitions[i].replicas[r].flushed
      if extra > 0 { partitions[i].replicas[r].log.removeLast(extra) }
    }
  }

  /// Whether a broker still has `batch` (appended at about its creation) in its page cache:
  /// fewer than `page_cache` bytes appended since.
  func inPageCache(_ batch: Int32, broker: Int) -> Bool {
    let created = batches[Int(batch)].created
    let history = storage[broker].history
    // The last sample at or before the batch's creation (an upper bound on what came after).
    var lo = 0
    var hi = history.count - 1
    while lo < hi {
      let mid = (lo + hi + 1) / 2
      if history[mid].time <= created { lo = mid } else { hi = mid - 1 }
    }
    return storage[broker].appendedTotal - history[lo].appended <= p.pageCache
  }

  /// Retention: a partition's log start moves past batches older than `retention.ms` and past
  /// what exceeds `retention.bytes` (whole batches here; Kafka deletes whole segments), never
  /// past the high watermark.
  func applyRetention() {
    let now = simulator.now
    for i in partitions.indices {
      guard let leader = partitions[i].leader else { continue }
      let log = partitions[i].replicas[leader].log
      let limit = min(partitions[i].highWatermark, log.count)
      // Settled entries lie below the log start whenever it matters (consumers read it).
      var start = max(partitions[i].logStart, log.startOffset)
      if let retention = p.retention {
        while start < limit, now - batches[Int(log[start])].created > retention { start += 1 }
      }
      if let maxBytes = p.retentionBytes {
        var size = log[start...].reduce(0.0) { $0 + bytes($1) }
        while start < limit, size > maxBytes {
          size -= bytes(log[start])
          start += 1
        }
      }
      partitions[i].logStart = max(partitions[i].logStart, start)
    }
  }
}
