/// Hashes that are the same in every process and on every machine.
///
/// Swift's `Hasher` is seeded randomly per process, so it must never decide a seed or an order.
public enum StableHash {
  /// 64-bit FNV-1a of the UTF-8 bytes of `text`.
  public static func fnv1a64(_ text: String) -> UInt64 { fnv1a64(bytes: text.utf8) }

  /// 64-bit FNV-1a of raw bytes.
  public static func fnv1a64<Bytes: Sequence>(bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
      hash ^= UInt64(byte)
      hash &*= 0x0000_0100_0000_01b3
    }
    return hash
  }

  /// One step of SplitMix64 (Steele, Lea and Flood 2014): a bijective mixer of 64-bit values.
  @inlinable
  public static func splitMix64(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9e37_79b9_7f4a_7c15
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }
}

/// The SplitMix64 generator: used only to expand one 64-bit seed into a generator's full state.
public struct SplitMix64: Sendable {
  /// The generator's state: the seed plus the golden-ratio increment once per draw.
  public private(set) var state: UInt64
  /// A generator started at `seed`.
  public init(seed: UInt64) { state = seed }
  /// The next 64-bit value.
  public mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }
}
