import SimKernel
import SimModel
import Testing

@testable import SimCDN

@Suite struct CDNTests {
  /// One region, one edge, fixed 1-byte objects: the independent reference model.
  static func irm(objects: Int, alpha: Double, capacity: Double, policy: EdgeCache.Policy) -> CDNParameters {
    var p = CDNParameters()
    p.objects = objects
    p.objectSize = .constant(1)
    p.zipfExponent = alpha
    p.edges = [
      .init(
        name: "e1", cacheSize: capacity, policy: policy, ttl: nil, originLatency: .milliseconds(50),
        originBandwidth: 1e9)
    ]
    p.regions = [.init(name: "r1", rate: 10_000, edges: [0], latency: [.milliseconds(10)], host: 2)]
    p.originHost = 1
    return p
  }

  static func run(_ p: CDNParameters, seed: UInt64 = 1, replication: Int = 0, seconds: Int64 = 10, warmup: Int64 = 2)
    throws -> Metrics
  {
    let context = RunContext(
      duration: .seconds(seconds), warmup: .seconds(warmup),
      streams: RandomStreams(experimentSeed: seed, replication: replication))
    return try CDNModel.run(p, context: context).metrics
  }

  /// LRU under IRM against Che's approximation, and FIFO against its Che-like form: the 95%
  /// interval over 4 replications (widened by 0.003, Che's own error for a catalogue of 2,000,
  /// Fricker et al. 2012) contains the closed form, and the interval is narrow enough to mean it.
  @Test(arguments: [
    (0.8, 100.0, EdgeCache.Policy.lru), (1.0, 20.0, .lru), (1.2, 200.0, .lru), (0.8, 100.0, .fifo),
  ])
  func cacheUnderIRMMatchesCheApproximation(alpha: Double, capacity: Double, policy: EdgeCache.Policy) throws {
    let p = Self.irm(objects: 2000, alpha: alpha, capacity: capacity, policy: policy)
    var samples: [Double] = []
    var theory = Double.nan
    for r in 0..<4 {
      let m = try Self.run(p, replication: r)
      samples.append(m["cdn.hit_ratio"]!)
      theory = policy == .lru ? m["theory.che_hit_ratio"]! : m["theory.fifo_hit_ratio"]!
    }
    let ci = ConfidenceInterval(samples: samples)
    #expect(theory > 0.1 && theory < 0.9)
    #expect(abs(ci.mean - theory) <= ci.halfWidth + 0.003, "alpha \(alpha) C \(capacity) \(policy): \(ci) vs \(theory)")
    #expect(ci.halfWidth < 0.01)
  }

  @Test func cheApproximationByHand() {
    // Uniform popularity over n objects, cache C: T solves n(1 - exp(-T/n)) = C, hit = C/n.
    let q = CacheTheory.zipf(100, 0)
    let hit = CacheTheory.hitRatio(popularity: q, sizes: Array(repeating: 1, count: 100), capacity: 25)
    #expect(abs(hit - 0.25) < 1e-9)
    #expect(CacheTheory.hitRatio(popularity: q, sizes: Array(repeating: 1, count: 100), capacity: 100) == 1)
  }

  /// A cache of the whole catalogue misses only each object's first request.
  @Test func wholeCatalogueCacheMissesOnlyFirstRequests() throws {
    var p = Self.irm(objects: 100, alpha: 0, capacity: 100, policy: .lru)
    p.regions[0].rate = 1000
    let m = try Self.run(p, seconds: 10, warmup: 0)
    // 10,000 uniform requests over 100 objects: every object is asked for (P(not) ~ 100 e^-100).
    #expect(m["cdn.misses"] == 100)
    #expect(m["cdn.hits"]! + m["cdn.misses"]! + m["cdn.failed"]! == m["cdn.requests"]!)
    #expect(m["cdn.bytes_from_cache"]! + m["cdn.bytes_from_origin"]! == m["cdn.bytes_served"]!)
  }

  /// LFU is the best policy under IRM with equal sizes: above LRU, which is above FIFO.
  @Test func lfuBeatsLRUBeatsFIFOUnderIRM() throws {
    let hit = { (policy: EdgeCache.Policy) throws -> Double in
      try Self.run(Self.irm(objects: 2000, alpha: 0.8, capacity: 100, policy: policy))["cdn.hit_ratio"]!
    }
    let (lfu, lru, fifo) = (try hit(.lfu), try hit(.lru), try hit(.fifo))
    #expect(lfu > lru + 0.02 && lru > fifo + 0.01, "lfu \(lfu) lru \(lru) fifo \(fifo)")
  }

  /// Two regions on two edges; e1's host down for 2 s (a platform fault): west fails over to e2
  /// (cold for it), e1 comes back empty. The hit ratio falls, nothing fails while e2 is up, and
  /// with no e2 to fail over to west's requests in the outage fail (about rate x 2 s).
  @Test func edgeFailureFailsOverAndNeverRaisesTheHitRatio() throws {
    var p = Self.irm(objects: 2000, alpha: 0.8, capacity: 200, policy: .lru)
    p.edges.append(p.edges[0])
    p.edges[1].name = "e2"
    p.edges[1].host = 3
    p.regions = [
      .init(name: "west", rate: 2000, edges: [0, 1], latency: [.milliseconds(10), .milliseconds(40)], host: 4),
      .init(name: "east", rate: 2000, edges: [1, 0], latency: [.milliseconds(10), .milliseconds(40)], host: 5),
    ]
    let healthy = try Self.run(p)
    p.faults = [.hostCrash(at: .seconds(5), host: 0, duration: .seconds(2))]
    let failed = try Self.run(p)
    #expect(failed["cdn.hit_ratio"]! < healthy["cdn.hit_ratio"]!)
    #expect(failed["cdn.failed"] == 0)
    #expect(failed["cdn.latency_mean.west"]! > healthy["cdn.latency_mean.west"]!)
    p.regions[0].edges = [0]
    p.regions[0].latency = [.milliseconds(10)]
    let lost = try Self.run(p)["cdn.failed"]!
    // Poisson(4000): within 5 standard deviations.
    #expect(abs(lost - 4000) < 5 * 63.3, "\(lost)")
  }

  /// A flush empties the cache: the hit ratio over the run falls, and TTL expiry refetches.
  @Test func flushAndTTLCostHits() throws {
    var p = Self.irm(objects: 2000, alpha: 0.8, capacity: 200, policy: .lru)
    let base = try Self.run(p)["cdn.hit_ratio"]!
    p.flushes = [.init(edge: 0, at: .seconds(5))]
    #expect(try Self.run(p)["cdn.hit_ratio"]! < base)
    p.flushes = []
    p.edges[0].ttl = .milliseconds(10)
    let ttl = try Self.run(p)["cdn.hit_ratio"]!
    #expect(ttl < base - 0.05, "ttl \(ttl) base \(base)")
  }

  /// New objects taking the top ranks (churn) cost hits: each is a compulsory miss and pushes
  /// the cached ones down; the same seed gives the same metrics.
  @Test func churnCostsHitsAndRunsAreDeterministic() throws {
    var p = Self.irm(objects: 2000, alpha: 0.8, capacity: 200, policy: .lru)
    let base = try Self.run(p)
    #expect(try Self.run(p) == base)
    p.churnRate = 500
    let churned = try Self.run(p)["cdn.hit_ratio"]!
    #expect(churned < base["cdn.hit_ratio"]! - 0.01, "churn \(churned) base \(base["cdn.hit_ratio"]!)")
  }

  /// One object asked for at rate 100/s with a max-age of 100 ms: each miss is followed by the
  /// requests of the next 100 ms (10 on average) as hits, so the hit ratio is
  /// lambda T / (1 + lambda T) = 10/11 (renewal: one miss a cycle).
  @Test func ttlExpiryGivesLambdaTOverOnePlusLambdaT() throws {
    var p = Self.irm(objects: 1, alpha: 0, capacity: 1, policy: .lru)
    p.regions[0].rate = 100
    p.edges[0].ttl = .milliseconds(100)
    var samples: [Double] = []
    for r in 0..<4 { samples.append(try Self.run(p, replication: r, seconds: 500, warmup: 0)["cdn.hit_ratio"]!) }
    let ci = ConfidenceInterval(samples: samples)
    #expect(abs(ci.mean - 10.0 / 11) <= max(ci.halfWidth, 0.003), "\(ci)")
  }

  /// A miss over the platform network, by hand (links of 25 us; 1.25e9 B/s host links): the
  /// region's round trip inside rack1 (2 x 2 links) 0.1 ms + the request's leg to the origin in
  /// rack2 (host link, two uplinks, host link) 0.1 ms + 1 ms service + 1e6 / 1.25e9 s = 0.8 ms +
  /// the answer's 0.1 ms = 2.1 ms.
  @Test func aMissCrossesThePlatformNetwork() throws {
    var p = Self.irm(objects: 1, alpha: 0, capacity: 0, policy: .lru)
    p.objectSize = .constant(1e6)
    p.regions[0].rate = 1
    p.regions[0].latency = []
    p.edges[0].originLatency = nil
    p.edges[0].originBandwidth = nil
    p.platform.hostLink = 1.25e9
    p.originHost = 4
    p.originService = .constant(0.001)
    let m = try Self.run(p, seconds: 100, warmup: 0)
    #expect(m["cdn.hits"] == 0 && m["cdn.misses"]! > 50)
    #expect(abs(m["cdn.latency_mean"]! - 0.0021) < 2e-5, "\(m["cdn.latency_mean"]!)")
  }

  @Test func cacheNeverHoldsMoreThanItsSize() {
    let cache = EdgeCache(capacity: 10, policy: .lfu, objects: 50)
    let stream = RandomStream(seed: 3)
    for _ in 0..<5000 {
      let o = stream.uniformInt(50)
      if cache.contains(o) { cache.touch(o) } else { cache.insert(o, size: Double(1 + o % 4), now: .zero) }
      #expect(cache.used <= 10)
    }
    cache.insert(7, size: 11, now: .zero)  // larger than the cache: not cached
    #expect(!cache.contains(7))
  }

  @Test func badParametersGetLocatedErrors() {
    let model = AnyModel(CDNModel.self)
    let edges = ConfigNode(.sequence([.mapping([("name", .scalar("e1"))])]))
    let region = ConfigNode.mapping([("edges", ConfigNode(.sequence([.scalar("e9")])))])
    #expect {
      _ = try model.decode(.mapping([("edges", edges), ("regions", ConfigNode(.sequence([region])))]))
    } throws: { error in
      (error as? ConfigError)?.message.contains("'e9' is not an edge") == true
    }
    #expect(throws: ConfigError.self) { _ = try model.decode(.mapping([("objects", .scalar("0"))])) }
    #expect(throws: ConfigError.self) { _ = try model.decode(.mapping([("zipf_exponent", .scalar("1e300"))])) }
  }
}
