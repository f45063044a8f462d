import Histogram

/// Latency percentiles (p50 ... p99.9, max) with bounded relative error, via HdrHistogram.
///
/// Values are durations recorded in nanoseconds with three significant digits, so a reported
/// percentile is within 0.1% of the exact order statistic. Memory is fixed by the range, not
/// by the number of observations. Exact count, mean and extremes are kept alongside.
///
/// This is how a model reports a latency distribution without keeping one value per request:
///
/// ```swift
/// var responseTimes = LatencyHistogram()
/// responseTimes.record(simulator.now - request.arrival)          // per completion
/// for (name, seconds) in responseTimes.standardPercentiles {     // at the end
///   metrics.set("response_time_\(name)", seconds)
/// }
/// ```
public struct LatencyHistogram: Sendable {
  private var histogram: Histogram<UInt64>
  /// Exact count, mean, variance and extremes of the recorded latencies, in seconds.
  public private(set) var statistics = RunningStatistics()

  /// An empty histogram (1 ns resolution at the low end, three significant digits, growing its range
  /// as larger values arrive).
  public init() {
    histogram = Histogram<UInt64>(
      lowestDiscernibleValue: 1, highestTrackableValue: 1 << 40, numberOfSignificantValueDigits: .three)
    histogram.autoResize = true
  }

  /// Records one latency; a negative one counts as zero.
  ///
  /// - Complexity: O(1) (the buckets grow only when a value beyond the current range arrives).
  public mutating func record(_ latency: SimTime) {
    let ns = UInt64(max(0, latency.nanoseconds))
    _ = histogram.record(ns)
    statistics.add(Double(ns) / 1e9)
  }

  /// Records `count` equal latencies: the same result as `count` calls of `record(_:)` (the
  /// running statistics still take each one, so their floating-point sums are unchanged), with
  /// one histogram update.
  public mutating func record(_ latency: SimTime, count: Int) {
    guard count > 0 else { return }
    let ns = UInt64(max(0, latency.nanoseconds))
    _ = histogram.record(ns, count: UInt64(count))
    let seconds = Double(ns) / 1e9
    for _ in 0..<count { statistics.add(seconds) }
  }

  /// The number of latencies recorded.
  public var count: Int { statistics.count }
  /// The mean in seconds (exact, not from the buckets).
  public var mean: Double { statistics.mean }

  /// The value in seconds below which `percentile` percent of observations fall (0...100).
  public func percentile(_ percentile: Double) -> Double {
    guard count > 0 else { return .nan }
    return Double(histogram.valueAtPercentile(percentile)) / 1e9
  }

  /// The largest observation in seconds (exact).
  public var maximum: Double { count > 0 ? statistics.maximum : .nan }

  /// The standard percentiles BDSim reports, in seconds, named as in CSV columns.
  public var standardPercentiles: [(name: String, seconds: Double)] {
    [
      ("p50", percentile(50)), ("p90", percentile(90)), ("p99", percentile(99)), ("p999", percentile(99.9)),
      ("max", maximum),
    ]
  }

  /// Folds in another histogram's observations.
  public mutating func merge(_ other: LatencyHistogram) {
    histogram.add(other.histogram)
    statistics.merge(other.statistics)
  }

  /// Forgets every observation (the end of a warm-up period).
  public mutating func reset() {
    histogram.reset()
    statistics.reset()
  }
}
