import SimKernel
import SimModel

/// How keys are partitioned over shards: the map a router (a smart client, mongos) holds.
public enum Partitioning: String, Sendable, Equatable, CaseIterable {
  /// A stable hash of the key modulo the number of shards (Kafka's default partitioner, Redis
  /// Cluster's slots, a hand-rolled `hash % N`).
  case hash
  /// A ring of `vnodes` random tokens per shard; a key belongs to the first token clockwise from
  /// its hash (Dynamo, Cassandra's `num_tokens`).
  case consistent
  /// Contiguous ranges of the ordered key space, split at a size or load threshold (HBase
  /// regions, Bigtable tablets, MongoDB chunks).
  case range
}

/// The shard map: which shard owns each key, for the three partitionings, and how it changes when
/// a shard is added or removed or a range splits. A value type with no simulation in it, so the
/// tests can check the fractions moved directly.
///
/// Shards are slots 0, 1, 2, ...; `active` lists those in the map, in slot order (a shard added
/// takes a slot never used before, so it goes at the end).
public struct ShardMap: Sendable {
  public let scheme: Partitioning
  public let keys: Int
  public private(set) var active: [Int32]
  /// Consistent hashing: every slot's tokens (drawn once, so a shard comes back with the same
  /// ones), and the ring of the active shards' tokens, sorted.
  let tokens: [[UInt64]]
  private(set) var ring = TokenRing()
  /// Range partitioning: the first key of each range (ascending, the first is 0) and its shard.
  public private(set) var rangeStart: [Int] = []
  public private(set) var rangeShard: [Int32] = []

  /// `shards` active shards out of `slots`; `tokens` vnodes random tokens per slot (consistent).
  public init(scheme: Partitioning, keys: Int, shards: Int, slots: Int, vnodes: Int, tokenStream: RandomStream) {
    self.scheme = scheme
    self.keys = keys
    active = (0..<Int32(shards)).map { $0 }
    if scheme == .consistent {
      // Random tokens, as Cassandra assigns them without allocate_tokens_for_local_replication_factor.
      tokens = (0..<slots).map { _ in
        (0..<vnodes).map { _ in UInt64(tokenStream.uniformInt(1 << 32)) << 32 | UInt64(tokenStream.uniformInt(1 << 32))
        }
      }
      rebuildRing()
    } else {
      tokens = []
    }
    if scheme == .range {
      for i in 0..<shards {
        rangeStart.append(i * keys / shards)
        rangeShard.append(Int32(i))
      }
    }
  }

  /// A key's position on the ring (and its hash for `hash`).
  @inlinable static func position(ofKey key: Int) -> UInt64 {
    StableHash.splitMix64(UInt64(key) ^ 0x5bd1_e995_0000_0000)
  }

  mutating func rebuildRing() {
    ring = TokenRing(members: active) { tokens[Int($0)] }
  }

  /// The owner of one key under this map.
  public func owner(of key: Int) -> Int32 {
    switch scheme {
    case .hash:
      return active[KeyPartitioning.partition(ofKey: key, partitions: active.count)]
    case .consistent:
      return ring.member(at: Self.position(ofKey: key))!
    case .range:
      return rangeShard[range(of: key)]
    }
  }

  /// Every key's owner.
  public func owners() -> [Int32] {
    guard scheme == .range else { return (0..<keys).map { owner(of: $0) } }
    var result = [Int32](repeating: 0, count: keys)
    for r in rangeStart.indices {
      for k in rangeStart[r]..<rangeEnd(r) { result[k] = rangeShard[r] }
    }
    return result
  }

  /// The index of the range holding `key`.
  public func range(of key: Int) -> Int {
    var lo = 0
    var hi = rangeStart.count
    while hi - lo > 1 {
      let mid = (lo + hi) / 2
      if rangeStart[mid] <= key { lo = mid } else { hi = mid }
    }
    return lo
  }

  /// One past the last key of range `r`.
  public func rangeEnd(_ r: Int) -> Int { r + 1 < rangeStart.count ? rangeStart[r + 1] : keys }

  /// The shards after `shard` in slot order (wrapping): where its replicas are.
  public func successors(of shard: Int32, count: Int) -> [Int32] {
    guard let i = active.firstIndex(of: shard) else { return [] }
    return (0..<max(0, min(count, active.count - 1))).map { active[(i + 1 + $0) % active.count] }
  }

  /// Adds the shard in `slot` (a slot never used). Range: the new shard takes the upper part of
  /// range `splitting` from key `at` on (the caller picks the hottest range and its load median).
  public mutating func add(slot: Int32, splitting: Int = 0, at key: Int? = nil) {
    active.append(slot)
    switch scheme {
    case .hash: break
    case .consistent: rebuildRing()
    case .range:
      let r = splitting
      let at = key ?? (rangeStart[r] + rangeEnd(r)) / 2
      if at > rangeStart[r], at < rangeEnd(r) {
        split(r, at: at)
        rangeShard[r + 1] = slot
      }
    }
  }

  /// Removes the last active shard. Range: each of its ranges goes to `heir(range, its keys)`.
  public mutating func removeLast(heir: (_ range: Int, _ keys: Int) -> Int32 = { _, _ in 0 }) -> Int32 {
    let gone = active.removeLast()
    switch scheme {
    case .hash: break
    case .consistent: rebuildRing()
    case .range:
      for r in rangeShard.indices where rangeShard[r] == gone { rangeShard[r] = heir(r, rangeEnd(r) - rangeStart[r]) }
    }
    return gone
  }

  /// Splits range `r` at `key` (rangeStart[r] < key < its end): the upper part is range r + 1,
  /// on the same shard until moved.
  public mutating func split(_ r: Int, at key: Int) {
    rangeStart.insert(key, at: r + 1)
    rangeShard.insert(rangeShard[r], at: r + 1)
  }

  /// Gives range `r` to `shard`.
  public mutating func assign(_ r: Int, to shard: Int32) { rangeShard[r] = shard }
}
