/// Each host's page cache as seen by files written once and read back soon, as a MapReduce map's
/// output is: every byte a host reads from or writes to its disks passes through its cache
/// (buffered I/O), and the kernel evicts the least recently used pages first. For files read
/// back at most once, least recently used is oldest first, so a file's newest
/// `capacity - (bytes through since it was written)` bytes are still cached and the rest is gone.
///
/// Each host keeps one counter, the bytes that have passed through its cache; a file is stamped
/// with the counter when its last byte went through. Nothing is kept per file here: a caller
/// keeps the stamp with what it already holds for the file. Reads served from the cache do not
/// move the counter (they refresh pages that are read once anyway).
public struct PageCache: Sendable {
  /// The bytes of a host's memory the page cache may hold (the same for every host).
  public let capacity: Double
  private var through: [Double]

  /// Empty caches for `hosts` hosts, each holding `capacity` bytes (a negative capacity counts as 0).
  public init(hosts: Int, capacity: Double) {
    self.capacity = max(0, capacity)
    through = Array(repeating: 0, count: hosts)
  }

  /// `bytes` went through `host`'s cache (read from or written to its disks); the counter after
  /// them is the stamp of a file whose last bytes they were.
  @discardableResult
  public mutating func pass(_ bytes: Double, host: HostID) -> Double {
    through[Int(host.index)] += max(0, bytes)
    return through[Int(host.index)]
  }

  /// The share of a file of `bytes` stamped `stamp` on `host` still cached: its newest
  /// `capacity - (through - stamp)` bytes, at most all of it.
  public func cachedFraction(bytes: Double, stamp: Double, host: HostID) -> Double {
    guard bytes > 0 else { return 1 }
    let left = capacity - (through[Int(host.index)] - stamp)
    return min(1, max(0, left / bytes))
  }

  /// The host lost its memory (it crashed): nothing written before stays cached.
  public mutating func drop(host: HostID) { through[Int(host.index)] += capacity }
}
