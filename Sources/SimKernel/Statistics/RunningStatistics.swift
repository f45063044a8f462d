/// Count, mean, variance, minimum and maximum of a stream of observations, in one pass.
///
/// Welford's algorithm: numerically stable where the naive sum of squares cancels badly.
/// - Complexity: O(1) per observation, O(1) memory.
///
/// The result of ``merge(_:)`` equals that of adding the same observations one by one only up to
/// rounding, so merge in a fixed order (by replication, by entity index) for identical output.
public struct RunningStatistics: Sendable, Equatable {
  /// The number of observations.
  public private(set) var count: Int = 0
  /// Their mean (0 before the first).
  public private(set) var mean: Double = 0
  /// Sum of squared deviations from the mean.
  private var m2: Double = 0
  /// The smallest observation (+infinity before the first).
  public private(set) var minimum: Double = .infinity
  /// The largest observation (-infinity before the first).
  public private(set) var maximum: Double = -.infinity

  /// No observations yet.
  public init() {}

  /// Adds one observation.
  @inlinable
  public mutating func add(_ x: Double) {
    addObservation(x)
  }

  @usableFromInline
  mutating func addObservation(_ x: Double) {
    count += 1
    let delta = x - mean
    mean += delta / Double(count)
    m2 += delta * (x - mean)
    if x < minimum { minimum = x }
    if x > maximum { maximum = x }
  }

  /// Folds in another set of observations (Chan et al.'s parallel formula).
  public mutating func merge(_ other: RunningStatistics) {
    guard other.count > 0 else { return }
    guard count > 0 else {
      self = other
      return
    }
    let total = Double(count + other.count)
    let delta = other.mean - mean
    mean += delta * Double(other.count) / total
    m2 += other.m2 + delta * delta * Double(count) * Double(other.count) / total
    count += other.count
    minimum = min(minimum, other.minimum)
    maximum = max(maximum, other.maximum)
  }

  /// The sample variance (divisor n - 1); NaN with fewer than two observations.
  public var variance: Double { count > 1 ? m2 / Double(count - 1) : .nan }
  /// The sample standard deviation.
  public var standardDeviation: Double { variance.squareRoot() }
  /// The sum of all observations.
  public var sum: Double { mean * Double(count) }

  /// Forgets everything (the end of a warm-up period).
  public mutating func reset() { self = RunningStatistics() }
}
