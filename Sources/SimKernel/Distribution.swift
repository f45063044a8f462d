#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A probability distribution of a non-negative quantity, as a config names it.
///
/// Values are in base units (seconds for durations, bytes for sizes): `exponential(mean: 0.005)`
/// is an exponential with a 5 ms mean when it describes a duration. Parameters are checked by
/// ``validate()``; a distribution read by ``parse(_:as:baseDirectory:)`` is already valid.
///
/// Spelled in configs as, for example:
///
///     5ms                                 constant
///     const(5ms)                          constant
///     uniform(1ms, 3ms)                   uniform(low:, high:)
///     exp(5ms)  exp(mean: 5ms)  exp(rate: 200/s)
///     normal(mean: 10ms, sd: 2ms)         (clamped at 0 when drawn as a duration)
///     lognormal(median: 5ms, sigma: 0.5)  lognormal(mean: 5ms, cv: 2)  lognormal(mu: -5.3, sigma: 0.5)
///     pareto(shape: 1.5, scale: 1ms)      pareto(shape: 2.5, mean: 5ms)
///     weibull(shape: 1.5, scale: 5ms)
///     gamma(shape: 2, scale: 5ms)         gamma(shape: 2, mean: 10ms)
///     erlang(k: 3, mean: 6ms)
///     mixture(0.9 * exp(1ms), 0.1 * exp(100ms))
///     empirical([1ms, 2ms, 2ms, 7ms])     empirical(file: "latencies.csv")
public indirect enum Distribution: Sendable, Equatable {
  /// Always the same value, in base units.
  case constant(Double)
  /// Uniform between `low` and `high`, in base units.
  case uniform(low: Double, high: Double)
  /// Exponential with the given mean, in base units.
  case exponential(mean: Double)
  /// Normal with the given mean and standard deviation, in base units (it can draw negative values).
  case normal(mean: Double, standardDeviation: Double)
  /// exp(N(mu, sigma²)): `mu` is the log of the median in base units.
  case lognormal(mu: Double, sigma: Double)
  /// Pareto type I: values >= `scale`, tail index `shape`.
  case pareto(shape: Double, scale: Double)
  /// Weibull with tail index `shape` and `scale` in base units.
  case weibull(shape: Double, scale: Double)
  /// Gamma with `shape` and `scale` in base units (mean `shape * scale`).
  case gamma(shape: Double, scale: Double)
  /// The sum of `k` exponentials, with the given overall mean.
  case erlang(k: Int, mean: Double)
  /// Draws from a component chosen with probability proportional to its weight.
  case mixture([MixtureComponent])
  /// Draws one of the samples, each with equal probability (the empirical distribution).
  case empirical([Double])

  /// One weighted component of a ``Distribution/mixture(_:)``.
  public struct MixtureComponent: Sendable, Equatable {
    /// The component's relative weight (the weights need not sum to 1).
    public var weight: Double
    /// The distribution drawn when the component is chosen.
    public var distribution: Distribution
    /// A component drawn with probability `weight` over the sum of the weights.
    public init(weight: Double, distribution: Distribution) {
      self.weight = weight
      self.distribution = distribution
    }
  }

  /// The distribution's name as configs write it.
  public var name: String {
    switch self {
    case .constant: "const"
    case .uniform: "uniform"
    case .exponential: "exp"
    case .normal: "normal"
    case .lognormal: "lognormal"
    case .pareto: "pareto"
    case .weibull: "weibull"
    case .gamma: "gamma"
    case .erlang: "erlang"
    case .mixture: "mixture"
    case .empirical: "empirical"
    }
  }

  /// The largest standard deviation of a lognormal's logarithm: at sigma 10 the mean is already
  /// e^50 (5e21) times the median.
  public static let maximumSigma = 10.0
  /// Shapes of Pareto, Weibull and gamma distributions lie in this range: below 0.1 a Pareto or
  /// Weibull draw can overflow a Double; above 1e6 the distribution is a constant to 1e-3.
  public static let shapeRange = 0.1...1e6
  /// The most values an empirical distribution holds, inline or from a file: reading them is
  /// part of `validate`, which must answer well within a second.
  public static let maximumEmpiricalSamples = 100_000
  /// How far mixture weights may sum from 1 (rounding in written decimals).
  public static let mixtureWeightTolerance = 1e-6

  /// Checks every parameter; the error names the parameter and the value.
  ///
  /// With a `kind`, the distribution's mean and its 99.9999th percentile (see
  /// ``highQuantile``) must also lie within the kind's range (for durations, the 292 years of the
  /// clock), so that what its draws are converted into cannot overflow but with a one-in-a-million
  /// draw, which saturates (``sampleTime(_:)``).
  public func validate(as kind: QuantityKind? = nil) throws(ValueError) {
    try validateParameters()
    guard let kind else { return }
    let top = kind.range.upperBound
    let show = { (value: Double) in Quantity.format(value, as: kind) }
    if let mean, !(mean <= top) {
      throw ValueError(
        "\(name): the mean, \(show(mean)), is more than the largest \(kind.rawValue), \(kind.maximumText)",
        hint: "lower the distribution's scale or spread")
    }
    let quantile = highQuantile
    guard quantile <= top else {
      throw ValueError(
        "\(name): the 99.9999th percentile, \(show(quantile)), is more than the largest \(kind.rawValue), "
          + kind.maximumText, hint: "lower the distribution's scale or spread")
    }
  }

  /// An upper bound of the 99.9999th percentile (the value a draw exceeds once in a million),
  /// exact where there is a closed form; for gamma and Erlang the sub-gamma tail bound
  /// k·θ + θ·√(2k·t) + θ·t with t = ln 10^6; for a mixture the largest of its components'.
  public var highQuantile: Double {
    let t = 13.815510557964274  // ln 10^6
    let z = 4.753424308822899  // the standard normal's 1 - 1e-6 quantile
    switch self {
    case .constant(let value): return value
    case .uniform(_, let high): return high
    case .exponential(let mean): return mean * t
    case .normal(let mean, let sd): return mean + z * sd
    case .lognormal(let mu, let sigma): return exp(mu + z * sigma)
    case .pareto(let shape, let scale): return scale * pow(1e6, 1 / shape)
    case .weibull(let shape, let scale): return scale * pow(t, 1 / shape)
    case .gamma(let shape, let scale): return scale * (shape + (2 * shape * t).squareRoot() + t)
    case .erlang(let k, let mean):
      let shape = Double(k)
      return mean / shape * (shape + (2 * shape * t).squareRoot() + t)
    case .mixture(let components):
      return components.filter { $0.weight > 0 }.map(\.distribution.highQuantile).max() ?? 0
    case .empirical(let samples): return samples.max() ?? 0
    }
  }

  func validateParameters() throws(ValueError) {
    func positive(_ value: Double, _ key: String) throws(ValueError) {
      guard value.isFinite, value > 0 else {
        throw ValueError("\(name): '\(key)' must be > 0, got \(Quantity.shortest(value))", key: key)
      }
    }
    func nonNegative(_ value: Double, _ key: String) throws(ValueError) {
      guard value.isFinite, value >= 0 else {
        throw ValueError("\(name): '\(key)' must be >= 0, got \(Quantity.shortest(value))", key: key)
      }
    }
    switch self {
    case .constant(let value): try nonNegative(value, "value")
    case .uniform(let low, let high):
      try nonNegative(low, "low")
      try nonNegative(high, "high")
      guard high >= low else {
        throw ValueError(
          "uniform: 'high' (\(Quantity.shortest(high))) must be >= 'low' (\(Quantity.shortest(low)))", key: "high")
      }
    case .exponential(let mean): try positive(mean, "mean")
    case .normal(let mean, let sd):
      guard mean.isFinite else { throw ValueError("normal: 'mean' must be finite", key: "mean") }
      try nonNegative(sd, "sd")
    case .lognormal(let mu, let sigma):
      guard mu.isFinite else { throw ValueError("lognormal: 'mu' must be finite", key: "mu") }
      try nonNegative(sigma, "sigma")
      guard sigma <= Self.maximumSigma else {
        throw ValueError(
          "lognormal: 'sigma' must be at most \(Quantity.shortest(Self.maximumSigma)), got \(Quantity.shortest(sigma))",
          key: "sigma", hint: "at sigma 10 the mean is already 5e21 times the median")
      }
    case .pareto(let shape, let scale), .weibull(let shape, let scale), .gamma(let shape, let scale):
      try positive(shape, "shape")
      try positive(scale, "scale")
      guard Self.shapeRange.contains(shape) else {
        throw ValueError(
          "\(name): 'shape' must be between 0.1 and 1e6, got \(Quantity.shortest(shape))", key: "shape",
          hint: "a smaller shape makes draws overflow; a larger one is a constant")
      }
    case .erlang(let k, let mean):
      guard k >= 1, k <= 1_000_000 else {
        throw ValueError("erlang: 'k' must be a whole number from 1 to 1e6, got \(k)", key: "k")
      }
      try positive(mean, "mean")
    case .mixture(let components):
      guard !components.isEmpty else { throw ValueError("mixture: needs at least one component") }
      for component in components {
        try nonNegative(component.weight, "weight")
        try component.distribution.validateParameters()
      }
      guard components.contains(where: { $0.weight > 0 }) else {
        throw ValueError("mixture: at least one weight must be > 0", key: "weight")
      }
      let total = components.reduce(0) { $0 + $1.weight }
      guard abs(total - 1) <= Self.mixtureWeightTolerance else {
        throw ValueError(
          "mixture: the weights sum to \(Quantity.shortest((total * 1e9).rounded() / 1e9)), not 1", key: "weight",
          hint: "make them add up to 1, e.g. mixture(0.9 * exp(1ms), 0.1 * exp(100ms))")
      }
    case .empirical(let samples):
      guard !samples.isEmpty else { throw ValueError("empirical: needs at least one sample", key: "samples") }
      guard samples.count <= Self.maximumEmpiricalSamples else {
        throw ValueError(
          "empirical: \(samples.count) samples are more than the \(Self.maximumEmpiricalSamples) allowed",
          key: "samples", hint: "thin the samples or fit a distribution to them")
      }
      for sample in samples {
        guard sample.isFinite, sample >= 0 else {
          throw ValueError("empirical: samples must be finite and >= 0, got \(sample)", key: "samples")
        }
      }
    }
  }

  /// The mean, or nil where it is infinite (Pareto with shape <= 1).
  public var mean: Double? {
    switch self {
    case .constant(let value): return value
    case .uniform(let low, let high): return (low + high) / 2
    case .exponential(let mean): return mean
    case .normal(let mean, _): return mean
    case .lognormal(let mu, let sigma): return exp(mu + sigma * sigma / 2)
    case .pareto(let shape, let scale): return shape > 1 ? shape * scale / (shape - 1) : nil
    case .weibull(let shape, let scale): return scale * tgamma(1 + 1 / shape)
    case .gamma(let shape, let scale): return shape * scale
    case .erlang(_, let mean): return mean
    case .mixture(let components):
      let total = components.reduce(0) { $0 + $1.weight }
      var sum = 0.0
      for component in components where component.weight > 0 {
        guard let mean = component.distribution.mean else { return nil }
        sum += component.weight / total * mean
      }
      return sum
    case .empirical(let samples): return samples.reduce(0, +) / Double(samples.count)
    }
  }

  /// The squared coefficient of variation (variance / mean²), or nil where undefined.
  /// Queueing formulas (Pollaczek-Khinchine) need it.
  public var squaredCoefficientOfVariation: Double? {
    guard let mean, mean > 0 else { return nil }
    let variance: Double?
    switch self {
    case .constant: variance = 0
    case .uniform(let low, let high): variance = (high - low) * (high - low) / 12
    case .exponential(let m): variance = m * m
    case .normal(_, let sd): variance = sd * sd
    case .lognormal(let mu, let sigma): variance = (exp(sigma * sigma) - 1) * exp(2 * mu + sigma * sigma)
    case .pareto(let shape, let scale):
      variance = shape > 2 ? scale * scale * shape / ((shape - 1) * (shape - 1) * (shape - 2)) : nil
    case .weibull(let shape, let scale):
      let g1 = tgamma(1 + 1 / shape)
      variance = scale * scale * (tgamma(1 + 2 / shape) - g1 * g1)
    case .gamma(let shape, let scale): variance = shape * scale * scale
    case .erlang(let k, let m): variance = m * m / Double(k)
    case .mixture(let components):
      let total = components.reduce(0) { $0 + $1.weight }
      var secondMoment = 0.0
      for component in components where component.weight > 0 {
        guard let m = component.distribution.mean, let c2 = component.distribution.squaredCoefficientOfVariation
        else { return nil }
        secondMoment += component.weight / total * (m * m * (1 + c2))
      }
      variance = secondMoment - mean * mean
    case .empirical(let samples):
      variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(samples.count)
    }
    return variance.map { $0 / (mean * mean) }
  }

  /// One draw, in base units.
  ///
  /// It takes its random numbers from `stream` alone (one or more, depending on the distribution),
  /// so the same stream called in the same order gives the same values. A normal's draw can be
  /// negative: use ``sampleTime(_:)`` for a duration.
  @inlinable
  public func sample(_ stream: RandomStream) -> Double {
    switch self {
    case .constant(let value): return value
    case .uniform(let low, let high): return low + (high - low) * stream.uniform()
    case .exponential(let mean): return stream.exponential(mean: mean)
    case .normal(let mean, let sd): return stream.normal(mean: mean, standardDeviation: sd)
    case .lognormal(let mu, let sigma): return stream.lognormal(mu: mu, sigma: sigma)
    case .pareto(let shape, let scale): return stream.pareto(shape: shape, scale: scale)
    case .weibull(let shape, let scale): return stream.weibull(shape: shape, scale: scale)
    case .gamma(let shape, let scale): return stream.gamma(shape: shape, scale: scale)
    case .erlang(let k, let mean): return stream.gamma(shape: Double(k), scale: mean / Double(k))
    case .mixture(let components):
      let total = components.reduce(0) { $0 + $1.weight }
      var pick = stream.uniform() * total
      for component in components where component.weight > 0 {
        if pick < component.weight { return component.distribution.sample(stream) }
        pick -= component.weight
      }
      return components.last(where: { $0.weight > 0 })!.distribution.sample(stream)
    case .empirical(let samples): return samples[stream.uniformInt(samples.count)]
    }
  }

  /// One draw as a duration (the value in seconds, rounded to the nanosecond; negative draws of
  /// a normal are clamped to zero).
  @inlinable
  public func sampleTime(_ stream: RandomStream) -> SimTime {
    SimTime(seconds: sample(stream))
  }

  /// The distribution as a config would write it, with units of `kind`.
  public func formatted(as kind: QuantityKind) -> String {
    let q = { (value: Double) in Quantity.format(value, as: kind) }
    let n = { (value: Double) in Quantity.shortest(value) }
    switch self {
    case .constant(let value): return "const(\(q(value)))"
    case .uniform(let low, let high): return "uniform(low: \(q(low)), high: \(q(high)))"
    case .exponential(let mean): return "exp(mean: \(q(mean)))"
    case .normal(let mean, let sd): return "normal(mean: \(q(mean)), sd: \(q(sd)))"
    case .lognormal(let mu, let sigma): return "lognormal(mu: \(n(mu)), sigma: \(n(sigma)))"
    case .pareto(let shape, let scale): return "pareto(shape: \(n(shape)), scale: \(q(scale)))"
    case .weibull(let shape, let scale): return "weibull(shape: \(n(shape)), scale: \(q(scale)))"
    case .gamma(let shape, let scale): return "gamma(shape: \(n(shape)), scale: \(q(scale)))"
    case .erlang(let k, let mean): return "erlang(k: \(k), mean: \(q(mean)))"
    case .mixture(let components):
      let parts = components.map { "\(n($0.weight)) * \($0.distribution.formatted(as: kind))" }
      return "mixture(\(parts.joined(separator: ", ")))"
    case .empirical(let samples): return "empirical([\(samples.map(q).joined(separator: ", "))])"
    }
  }
}
