import CGSL

/// A Student-t confidence interval for a mean, from independent observations (one per replication).
public struct ConfidenceInterval: Sendable, Equatable {
  /// The number of observations.
  public var count: Int
  /// Their mean.
  public var mean: Double
  /// Their sample standard deviation (divisor n - 1).
  public var standardDeviation: Double
  /// Half the width of the interval: mean ± halfWidth. NaN with fewer than two observations.
  public var halfWidth: Double
  /// The confidence level, as a fraction (0.95).
  public var level: Double

  /// The lower bound, `mean - halfWidth` (NaN with fewer than two observations).
  public var lower: Double { mean - halfWidth }
  /// The upper bound, `mean + halfWidth` (NaN with fewer than two observations).
  public var upper: Double { mean + halfWidth }

  /// Whether `value` lies inside the interval.
  public func contains(_ value: Double) -> Bool { value >= lower && value <= upper }

  /// The interval from summary statistics of `count` independent observations.
  public init(count: Int, mean: Double, standardDeviation: Double, level: Double = 0.95) {
    self.count = count
    self.mean = mean
    self.standardDeviation = standardDeviation
    self.level = level
    if count >= 2, standardDeviation.isFinite {
      let t = StudentT.quantile(probability: 0.5 + level / 2, degreesOfFreedom: Double(count - 1))
      halfWidth = t * standardDeviation / Double(count).squareRoot()
    } else {
      halfWidth = .nan
    }
  }

  /// The interval for the mean of `samples` (assumed independent and roughly normal in mean).
  public init<S: Sequence>(samples: S, level: Double = 0.95) where S.Element == Double {
    var statistics = RunningStatistics()
    for sample in samples { statistics.add(sample) }
    self.init(
      count: statistics.count, mean: statistics.mean, standardDeviation: statistics.standardDeviation, level: level)
  }
}

/// Student's t distribution, through GSL.
public enum StudentT {
  /// The quantile: P(T <= x) = probability, for ν degrees of freedom.
  public static func quantile(probability: Double, degreesOfFreedom: Double) -> Double {
    GSL.configureOnce()
    return gsl_cdf_tdist_Pinv(probability, degreesOfFreedom)
  }
}
