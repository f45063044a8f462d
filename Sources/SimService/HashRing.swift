import SimKernel

/// A consistent-hash ring with virtual nodes (Karger et al. 1997; Envoy's `ring_hash` load
/// balancer, `minimum_ring_size`/vnodes per host): each member owns `vnodes` tokens, and a key
/// goes to the first member clockwise from its hash. Rebuild it when the members change (an
/// instance joins or leaves the rotation, a shard dies). Nothing in it is specific to the service model; tokens are a stable
/// hash, so placements are the same in every run and on every machine.
public struct HashRing: Sendable {
  /// Tokens (hash, member), sorted by hash.
  public private(set) var tokens: [(token: UInt64, member: Int32)] = []

  /// A ring of `members` (each a small non-negative id) with `vnodes` tokens each. A member's
  /// tokens depend only on its id, so adding or removing one moves only the keys it owns.
  public init(members: [Int32], vnodes: Int) {
    tokens.reserveCapacity(members.count * vnodes)
    for m in members {
      for v in 0..<vnodes {
        tokens.append((StableHash.splitMix64(UInt64(UInt32(m)) << 32 | UInt64(v)), m))
      }
    }
    tokens.sort { $0.token < $1.token || ($0.token == $1.token && $0.member < $1.member) }
  }

  /// The ring position of a key.
  public static func position(ofKey key: Int) -> UInt64 { StableHash.splitMix64(UInt64(bitPattern: Int64(key))) }

  public var isEmpty: Bool { tokens.isEmpty }

  /// The member owning `key`: the first clockwise from its position; nil on an empty ring.
  public func member(forKey key: Int) -> Int32? {
    guard !tokens.isEmpty else { return nil }
    let position = Self.position(ofKey: key)
    var lo = 0
    var hi = tokens.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if tokens[mid].token < position { lo = mid + 1 } else { hi = mid }
    }
    return tokens[lo % tokens.count].member
  }
}
