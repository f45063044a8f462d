import SimKernel
import SimModel

/// A consistent-hash ring with virtual nodes (Karger et al. 1997; Envoy's `ring_hash` load
/// balancer, `minimum_ring_size`/vnodes per host): each member owns `vnodes` tokens, and a key
/// goes to the first member clockwise from its hash. Rebuild it when the members change (an
/// instance joins or leaves the rotation, a shard dies). Nothing in it is specific to the service model; tokens are a stable
/// hash, so placements are the same in every run and on every machine.
public struct HashRing: Sendable {
  let ring: TokenRing

  /// A ring of `members` (each a small non-negative id) with `vnodes` tokens each. A member's
  /// tokens depend only on its id, so adding or removing one moves only the keys it owns.
  public init(members: [Int32], vnodes: Int) {
    ring = TokenRing(members: members) { m in
      (0..<vnodes).map { v in StableHash.splitMix64(UInt64(UInt32(m)) << 32 | UInt64(v)) }
    }
  }

  /// The ring position of a key.
  public static func position(ofKey key: Int) -> UInt64 { StableHash.splitMix64(UInt64(bitPattern: Int64(key))) }

  public var isEmpty: Bool { ring.isEmpty }

  /// The member owning `key`: the first clockwise from its position; nil on an empty ring.
  public func member(forKey key: Int) -> Int32? { ring.member(at: Self.position(ofKey: key)) }
}
