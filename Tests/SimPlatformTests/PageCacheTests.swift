import SimPlatform
import Testing

@Suite struct PageCacheTests {
  /// By hand, a 100-byte cache: a 40-byte file written (stamp 40) stays whole while up to 60
  /// more bytes pass; after 80 more, its newest 20 bytes are left (half); after 100 more, none;
  /// another host's traffic never touches it; a crash empties the host's cache.
  @Test func aFileKeepsItsNewestBytesUntilCapacityHasPassed() {
    let a = HostID(0)
    let b = HostID(1)
    var cache = PageCache(hosts: 2, capacity: 100)
    let stamp = cache.pass(40, host: a)
    #expect(stamp == 40)
    #expect(cache.cachedFraction(bytes: 40, stamp: stamp, host: a) == 1)
    cache.pass(60, host: a)
    #expect(cache.cachedFraction(bytes: 40, stamp: stamp, host: a) == 1)
    cache.pass(20, host: a)
    #expect(cache.cachedFraction(bytes: 40, stamp: stamp, host: a) == 0.5)
    cache.pass(1_000, host: b)
    #expect(cache.cachedFraction(bytes: 40, stamp: stamp, host: a) == 0.5)
    cache.pass(20, host: a)
    #expect(cache.cachedFraction(bytes: 40, stamp: stamp, host: a) == 0)
    let fresh = cache.pass(10, host: b)
    #expect(cache.cachedFraction(bytes: 10, stamp: fresh, host: b) == 1)
    cache.drop(host: b)
    #expect(cache.cachedFraction(bytes: 10, stamp: fresh, host: b) == 0)
    // A file larger than the cache keeps only the cache's worth of its tail.
    let big = cache.pass(400, host: a)
    #expect(cache.cachedFraction(bytes: 400, stamp: big, host: a) == 0.25)
  }
}
