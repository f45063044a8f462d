/// The sequences of cancelled events still in the queue: a set of distinct `UInt64`s, for
/// membership only (its order is never read, so it cannot influence a result).
///
/// Open addressing with linear probing and a multiplicative hash (Knuth's golden-ratio
/// constant), deletion by backward shift, so that there are no tombstones. It grows at half full
/// and shrinks at an eighth, so its storage follows the number of pending cancelled events, not
/// the number ever cancelled. Swift's `Set` hashes with SipHash and never shrinks; this costs a
/// multiplication per probe.
///
/// - Complexity: `insert`, `remove` and `contains` O(1) expected.
@usableFromInline
struct SequenceSet: Sendable {
  /// Keys stored as sequence + 1; 0 marks an empty slot.
  @usableFromInline var slots: ContiguousArray<UInt64>
  @usableFromInline var shift: UInt64
  @usableFromInline private(set) var count = 0
  static var minimumCapacity: Int { 16 }

  init() {
    slots = ContiguousArray(repeating: 0, count: SequenceSet.minimumCapacity)
    shift = UInt64(64 - SequenceSet.minimumCapacity.trailingZeroBitCount)
  }

  @inlinable var isEmpty: Bool { count == 0 }
  var capacity: Int { slots.count }

  @inlinable @inline(__always)
  func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

  @inlinable
  func contains(_ sequence: UInt64) -> Bool {
    let key = sequence &+ 1
    let mask = slots.count &- 1
    var i = home(key)
    while true {
      let k = slots[i]
      if k == key { return true }
      if k == 0 { return false }
      i = (i &+ 1) & mask
    }
  }

  /// Adds `sequence`; false if it was there already.
  @discardableResult
  mutating func insert(_ sequence: UInt64) -> Bool {
    if (count &+ 1) &* 2 > slots.count { rehash(capacity: slots.count &* 2) }
    let key = sequence &+ 1
    let mask = slots.count &- 1
    var i = home(key)
    while true {
      let k = slots[i]
      if k == key { return false }
      if k == 0 { break }
      i = (i &+ 1) & mask
    }
    slots[i] = key
    count &+= 1
    return true
  }

  /// Removes `sequence`; false if it was not there.
  @discardableResult
  mutating func remove(_ sequence: UInt64) -> Bool {
    let key = sequence &+ 1
    let mask = slots.count &- 1
    var i = home(key)
    while true {
      let k = slots[i]
      if k == key { break }
      if k == 0 { return false }
      i = (i &+ 1) & mask
    }
    // Backward shift: move later members of the probe run into the hole when their home allows.
    var hole = i
    var j = (i &+ 1) & mask
    while slots[j] != 0 {
      let h = home(slots[j])
      // j may fill the hole if its home is not cyclically in (hole, j].
      let fits = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j)
      if fits {
        slots[hole] = slots[j]
        hole = j
      }
      j = (j &+ 1) & mask
    }
    slots[hole] = 0
    count &-= 1
    if slots.count > SequenceSet.minimumCapacity, count &* 8 < slots.count { rehash(capacity: slots.count / 2) }
    return true
  }

  /// Empties the set and gives back its storage.
  mutating func removeAll() {
    if slots.count == SequenceSet.minimumCapacity {
      for i in slots.indices { slots[i] = 0 }
    } else {
      slots = ContiguousArray(repeating: 0, count: SequenceSet.minimumCapacity)
      shift = UInt64(64 - SequenceSet.minimumCapacity.trailingZeroBitCount)
    }
    count = 0
  }

  private mutating func rehash(capacity: Int) {
    let old = slots
    slots = ContiguousArray(repeating: 0, count: capacity)
    shift = UInt64(64 - capacity.trailingZeroBitCount)
    let mask = capacity &- 1
    for key in old where key != 0 {
      var i = home(key)
      while slots[i] != 0 { i = (i &+ 1) & mask }
      slots[i] = key
    }
  }
}
