/// A consistent-hash ring (Karger et al. 1997): members own tokens on a 64-bit circle, and a
/// position belongs to the member of the first token clockwise from it. The sharded store's
/// ring (random tokens per shard, as Cassandra assigns them) and the load balancer's (hashed
/// tokens per instance, Envoy's ring_hash) are both one of these; each model hashes its keys to
/// positions its own way.
package struct TokenRing: Sendable {
  /// Tokens (position, member), sorted by position, then member.
  package private(set) var tokens: [(token: UInt64, member: Int32)] = []

  /// An empty ring.
  package init() {}

  /// A ring of `members`, each with the tokens `tokensOf` gives it.
  package init(members: [Int32], tokensOf: (Int32) -> [UInt64]) {
    for m in members { tokens += tokensOf(m).map { ($0, m) } }
    tokens.sort { $0.token < $1.token || ($0.token == $1.token && $0.member < $1.member) }
  }

  package var isEmpty: Bool { tokens.isEmpty }

  /// The member owning `position`: the first token at or after it, wrapping; nil on an empty ring.
  package func member(at position: UInt64) -> Int32? {
    guard !tokens.isEmpty else { return nil }
    var lo = 0
    var hi = tokens.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if tokens[mid].token < position { lo = mid + 1 } else { hi = mid }
    }
    return tokens[lo % tokens.count].member
  }
}
