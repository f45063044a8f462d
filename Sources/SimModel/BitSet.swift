/// A set of small non-negative integers, one bit each (batch ids, map indices).
package struct BitSet: Sendable {
  package var words: [UInt64]
  package init(count: Int) { words = Array(repeating: 0, count: (count + 63) / 64) }
  package mutating func insert(_ i: Int) { words[i >> 6] |= 1 << UInt64(i & 63) }
  package func contains(_ i: Int) -> Bool { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }
  package mutating func insert(_ i: Int32) { insert(Int(i)) }
  package func contains(_ i: Int32) -> Bool { contains(Int(i)) }
}
