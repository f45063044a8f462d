/// A replica's log: batch ids by absolute offset. Entries below `startOffset` have been
/// settled (see `BrokerCluster.settle`) and are no longer kept; `count` is the end offset (the
/// next offset to append at), as a Kafka log's end offset, so offsets never move.
struct ReplicaLog: Sequence {
  private var entries: [Int32] = []
  /// Entries of `entries` before `head` are settled, awaiting compaction of the array.
  private var head = 0
  /// The offset of the first entry kept.
  private(set) var startOffset = 0

  /// The end offset: one past the last entry.
  var count: Int { startOffset + entries.count - head }

  subscript(offset: Int) -> Int32 {
    precondition(offset >= startOffset, "a settled offset was read")
    return entries[head + offset - startOffset]
  }

  subscript(range: Range<Int>) -> ArraySlice<Int32> {
    precondition(range.lowerBound >= startOffset, "a settled offset was read")
    return entries[(head + range.lowerBound - startOffset)..<(head + range.upperBound - startOffset)]
  }

  subscript(range: PartialRangeFrom<Int>) -> ArraySlice<Int32> { self[range.lowerBound..<count] }

  /// The entries kept, from `startOffset`.
  var kept: ArraySlice<Int32> { entries[head...] }

  func makeIterator() -> ArraySlice<Int32>.Iterator { kept.makeIterator() }

  mutating func append(_ batch: Int32) { entries.append(batch) }

  mutating func append(contentsOf batches: some Sequence<Int32>) { entries.append(contentsOf: batches) }

  /// Removes the last `n` entries (a truncation); never below `startOffset`.
  mutating func removeLast(_ n: Int) {
    precondition(n <= entries.count - head, "a truncation reached a settled offset")
    entries.removeLast(n)
  }

  /// Forgets the entries below `offset` (settled: no longer read by anyone).
  mutating func compact(below offset: Int) {
    guard offset > startOffset else { return }
    precondition(offset <= count, "compacted past the end of the log")
    head += offset - startOffset
    startOffset = offset
    if head == entries.count {
      entries.removeAll(keepingCapacity: true)
      head = 0
    } else if head >= 1024, head * 2 >= entries.count {
      entries.removeFirst(head)
      head = 0
    }
  }
}

/// What settled batches leave behind: their fate, folded into counts (the batches themselves,
/// their log entries and their slots are gone).
struct SettledCounts {
  /// Records of counted batches (created after the warm-up): produced, failed.
  var produced = 0
  var failed = 0
  /// Per partition: acknowledged records of counted batches held by every replica (readable at
  /// the end if the partition has a leader then, else unavailable), and every record settled
  /// from its log (the partition's share for the skew).
  var acked: [Int]
  var logRecords: [Int]

  init(partitions: Int) {
    acked = Array(repeating: 0, count: partitions)
    logRecords = Array(repeating: 0, count: partitions)
  }
}

/// Settlement keeps memory flat in simulated time: a batch whose fate can no longer change is
/// folded into `settled` and forgotten.
///
/// A batch in a partition's log is settled when it is acknowledged or failed (no request, queue
/// or accumulator holds it: a batch is acknowledged or failed only once none does) and it lies
/// in the prefix every replica of the partition holds at the same offsets and has written back
/// (`flushed`). Nothing removes such an entry: a truncation keeps what a replica shares with
/// the leader (every replica shares that prefix), a crash with `crash_loses_page_cache` loses
/// only what was not written back, and an unclean election elects a replica that holds it. So
/// its fate at the end is known now: acknowledged and readable if the partition has a leader at
/// the end, acknowledged and unavailable if it has none (`settled.acked` is per partition for
/// that), or failed. With consumer groups the prefix also stops at the oldest offset a group may
/// still read (committed offsets, positions, fetches under way) and, with retention, at the log
/// start (retention's walk reads the batches it passes).
///
/// A batch that fails without ever being appended (expired in the producer's queue, or a record
/// failed on `max.block.ms`) is in no log: it is settled at once. What truncation removes
/// (acknowledged and lost, or failed and dropped) stays, as faults made it: its memory is
/// proportional to the faults, not to time.
extension BrokerCluster {
  /// A slot for a new batch: a settled one's, or a new one.
  func newBatch(_ batch: Batch) -> Int32 { batches.store(batch, reusing: &freeSlots) }

  /// Settles the prefix of partition `i`'s logs whose fate is decided (see above).
  func settle(_ i: Int) {
    guard settles else { return }
    var limit = Int.max
    for replica in partitions[i].replicas { limit = min(limit, replica.flushed) }
    if let consumers = consumerGroups {
      limit = min(limit, consumers.oldestNeeded(i))
      if p.retention != nil || p.retentionBytes != nil { limit = min(limit, partitions[i].logStart) }
    }
    let start = partitions[i].replicas[0].log.startOffset
    var end = start
    scan: while end < limit {
      let batch = partitions[i].replicas[0].log[end]
      guard batches[Int(batch)].state != .inFlight else { break }
      for r in partitions[i].replicas.indices.dropFirst() where partitions[i].replicas[r].log[end] != batch {
        break scan
      }
      let b = batches[Int(batch)]
      settled.logRecords[i] += Int(b.records)
      if b.counted {
        settled.produced += Int(b.records)
        if b.state == .acked { settled.acked[i] += Int(b.records) } else { settled.failed += Int(b.records) }
      }
      free(batch)
      end += 1
    }
    guard end > start else { return }
    for r in partitions[i].replicas.indices { partitions[i].replicas[r].log.compact(below: end) }
  }

  /// Settles a failed batch that no log holds (none ever appended it: its offset was never set).
  func settleUnlogged(_ batch: Int32) {
    guard settles, batches[Int(batch)].offset < 0 else { return }
    let b = batches[Int(batch)]
    if b.counted {
      settled.produced += Int(b.records)
      settled.failed += Int(b.records)
    }
    free(batch)
  }

  func free(_ batch: Int32) {
    batches[Int(batch)].state = .settled
    freeSlots.append(batch)
  }
}
