/// A set of small non-negative integers, one bit each (batch ids, map indices).
struct BitSet: Sendable {
  var words: [UInt64]
  init(count: Int) { words = Array(repeating: 0, count: (count + 63) / 64) }
  mutating func insert(_ i: Int) { words[i >> 6] |= 1 << UInt64(i & 63) }
  func contains(_ i: Int) -> Bool { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }
  mutating func insert(_ i: Int32) { insert(Int(i)) }
  func contains(_ i: Int32) -> Bool { contains(Int(i)) }
}
