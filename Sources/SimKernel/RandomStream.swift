import CGSL

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where every random stream of a run gets its seed: (experiment seed, replication, stream name).
///
/// A stream's seed depends on nothing else (not on which other streams exist, nor the order
/// they are made in, nor the sweep point), so adding a component never shifts another's draws,
/// and replication r draws the same numbers at every sweep point (common random numbers).
///
/// Every random draw of a model comes from a stream made here, from the ``RunContext/streams`` of
/// its run, never from Swift's `random`, `SystemRandomNumberGenerator` or the wall clock. Give each
/// component its own stream name (one per host, per client, per purpose) so that a draw added in
/// one place does not move the draws of another.
///
/// ```swift
/// let arrivals = context.streams.stream("arrivals")
/// let sizes = context.streams.stream("client.\(index).sizes")
/// let gap = SimTime(seconds: arrivals.exponential(mean: 1 / rate))
/// ```
public struct RandomStreams: Sendable, Hashable {
  /// The experiment's `seed` (from the config, or `--seed`).
  public let experimentSeed: UInt64
  /// The replication's index from 0 (with `seeds: common`, the same at every sweep point).
  public let replication: Int

  /// The streams of replication `replication` of an experiment seeded with `experimentSeed`.
  public init(experimentSeed: UInt64, replication: Int = 0) {
    self.experimentSeed = experimentSeed
    self.replication = replication
  }

  /// The seed of the replication: SplitMix64 mixes of (experiment seed, replication).
  public var replicationSeed: UInt64 {
    StableHash.splitMix64(
      experimentSeed ^ StableHash.splitMix64(UInt64(truncatingIfNeeded: replication) &+ 0x5851_f42d_4c95_7f2d))
  }

  /// The 64-bit seed of the stream called `name`.
  public func seed(for name: String) -> UInt64 {
    StableHash.splitMix64(replicationSeed ^ StableHash.fnv1a64(name))
  }

  /// A new generator for the stream called `name`.
  public func stream(_ name: String) -> RandomStream {
    RandomStream(seed: seed(for: name), name: name)
  }
}

/// One independent stream of random numbers: a GSL Mersenne Twister (mt19937).
///
/// The generator's whole 19937-bit state is filled from SplitMix64 of the 64-bit seed (GSL's own
/// `gsl_rng_set` would keep only 32 bits of it). Draws go through GSL's distributions.
/// A stream belongs to one run on one thread. The sequence of draws is fixed by the seed, so the
/// order in which a model draws (not only how many times) is part of its results.
public final class RandomStream {
  /// The name the stream was made with (its seed was derived from it), for messages.
  public let name: String
  /// The 64-bit seed the generator's state was filled from.
  public let seed: UInt64
  @usableFromInline let rng: UnsafeMutablePointer<gsl_rng>

  /// A generator seeded from `seed` (its whole mt19937 state, from SplitMix64 of it). Models take
  /// theirs from ``RandomStreams/stream(_:)`` instead, so the seed follows from the run and the name.
  public init(seed: UInt64, name: String = "") {
    GSL.configureOnce()
    self.name = name
    self.seed = seed
    guard let rng = gsl_rng_alloc(bdsim_rng_type_mt19937()) else {
      fatalError("GSL could not allocate a random number generator (out of memory)")
    }
    self.rng = rng
    var expander = SplitMix64(seed: seed)
    var words = [UInt32](repeating: 0, count: 624)
    for i in 0..<624 { words[i] = UInt32(truncatingIfNeeded: expander.next() >> 32) }
    let filled = words.withUnsafeBufferPointer { bdsim_rng_fill_mt19937(rng, $0.baseAddress, 624) }
    if filled == 0 {
      // Another GSL build with a different state layout: fall back to its 32-bit seeding.
      gsl_rng_set(rng, UInt(truncatingIfNeeded: seed ^ (seed >> 32)))
    }
  }

  deinit { gsl_rng_free(rng) }

  /// A uniform draw from [0, 1).
  @inlinable public func uniform() -> Double { gsl_rng_uniform(rng) }

  /// A uniform draw from (0, 1): never exactly 0.
  @inlinable public func uniformPositive() -> Double { gsl_rng_uniform_pos(rng) }

  /// A uniform integer in 0..<n (n > 0).
  @inlinable public func uniformInt(_ n: Int) -> Int {
    precondition(n > 0, "uniformInt needs a positive bound")
    if n <= 0xFFFF_FFFF {
      return Int(gsl_rng_uniform_int(rng, UInt(n)))
    }
    // mt19937 yields 32 bits a draw: larger ranges combine two draws, with rejection.
    let limit = UInt64.max - (UInt64.max % UInt64(n) &+ 1) % UInt64(n)
    while true {
      let high = UInt64(gsl_rng_get(rng)) << 32
      let value = high | UInt64(gsl_rng_get(rng))
      if value <= limit { return Int(value % UInt64(n)) }
    }
  }

  /// True with probability `p`.
  @inlinable public func bernoulli(_ p: Double) -> Bool { gsl_rng_uniform(rng) < p }

  /// An exponential draw with the given mean, by inversion: -mean x ln U, U uniform on (0, 1).
  ///
  /// GSL's `gsl_ran_exponential` computes the same inversion as -mean x log1p(-U); glibc's log1p
  /// is about twice as slow as log, and exponential draws are on the path of most events.
  @inlinable public func exponential(mean: Double) -> Double { -mean * log(gsl_rng_uniform_pos(rng)) }

  /// A normal draw (GSL's ziggurat); it can be negative, so a model that needs a duration clamps it.
  @inlinable public func normal(mean: Double, standardDeviation: Double) -> Double {
    mean + gsl_ran_gaussian_ziggurat(rng, standardDeviation)
  }

  /// A lognormal draw: exp of a normal(mu, sigma).
  @inlinable public func lognormal(mu: Double, sigma: Double) -> Double { gsl_ran_lognormal(rng, mu, sigma) }

  /// A Pareto (type I) draw: `scale` is the minimum value, `shape` the tail index.
  @inlinable public func pareto(shape: Double, scale: Double) -> Double { gsl_ran_pareto(rng, shape, scale) }

  /// A Weibull draw: `scale` times a standard Weibull of tail index `shape`.
  @inlinable public func weibull(shape: Double, scale: Double) -> Double { gsl_ran_weibull(rng, scale, shape) }

  /// A Poisson draw with the given mean.
  @inlinable public func poisson(mean: Double) -> Int { mean > 0 ? Int(gsl_ran_poisson(rng, mean)) : 0 }

  /// A binomial draw: successes in `trials` independent trials of probability `probability`.
  @inlinable public func binomial(trials: Int, probability: Double) -> Int {
    trials > 0 && probability > 0 ? Int(gsl_ran_binomial(rng, min(1, probability), UInt32(trials))) : 0
  }

  /// A gamma draw: mean `shape * scale`.
  @inlinable public func gamma(shape: Double, scale: Double) -> Double { gsl_ran_gamma(rng, shape, scale) }

  /// A Zipf-like draw over 0..<n is left to models (they precompute a table with ``discrete(_:)``).
  /// Returns a draw from a fixed discrete distribution made by ``DiscreteTable``.
  public func discrete(_ table: DiscreteTable) -> Int { Int(gsl_ran_discrete(rng, table.table)) }
}

/// A precomputed table for drawing index i with probability weights[i] / sum (Walker's alias method).
public final class DiscreteTable {
  let table: UnsafeMutablePointer<gsl_ran_discrete_t>
  /// The number of weights: draws are in `0..<count`.
  public let count: Int

  /// Fails if weights are empty, negative, not finite or all zero.
  public init(weights: [Double]) throws(ValueError) {
    guard !weights.isEmpty else { throw ValueError("a discrete distribution needs at least one weight") }
    guard weights.allSatisfy({ $0.isFinite && $0 >= 0 }), weights.contains(where: { $0 > 0 }) else {
      throw ValueError("discrete weights must be finite, not negative, and not all zero")
    }
    GSL.configureOnce()
    guard let table = weights.withUnsafeBufferPointer({ gsl_ran_discrete_preproc($0.count, $0.baseAddress) }) else {
      throw ValueError("GSL could not build a discrete table for \(weights.count) weights")
    }
    self.table = table
    self.count = weights.count
  }

  deinit { gsl_ran_discrete_free(table) }
}

/// Process-wide GSL settings.
enum GSL {
  /// Turns GSL's abort-on-error handler off, once: BDSim checks return codes instead.
  static func configureOnce() { _ = configured }
  private static let configured: Bool = {
    gsl_set_error_handler_off()
    return true
  }()
}
