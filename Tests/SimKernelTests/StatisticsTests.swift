import Foundation
import Testing

@testable import SimKernel

@Suite struct StatisticsTests {
  @Test func welfordMatchesTwoPassAndMerges() {
    let values = (0..<1000).map { Double($0 % 37) * 1.5 + 1e9 }  // large offset: naive sums cancel
    var all = RunningStatistics()
    var left = RunningStatistics()
    var right = RunningStatistics()
    for (i, v) in values.enumerated() {
      all.add(v)
      if i < 400 { left.add(v) } else { right.add(v) }
    }
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
    #expect(abs(all.mean - mean) < 1e-6)
    #expect(abs(all.variance - variance) / variance < 1e-9)
    left.merge(right)
    #expect(left.count == 1000 && abs(left.mean - mean) < 1e-6 && abs(left.variance - variance) / variance < 1e-6)
    #expect(all.minimum == 1e9 && all.maximum == 1e9 + 54)
  }

  @Test func timeWeightedAverageByHand() {
    // 2 for 1 s, 4 for 3 s, 0 for 4 s: (2 + 12 + 0) / 8 = 1.75.
    var q = TimeWeightedAverage(initialValue: 2, at: .zero)
    q.update(4, at: .seconds(1))
    q.update(0, at: .seconds(4))
    #expect(q.average(until: .seconds(8)) == 1.75)
    #expect(q.maximum == 4)
    q.reset(at: .seconds(8))
    q.add(3, at: .seconds(9))
    #expect(q.average(until: .seconds(10)) == 1.5)
  }

  @Test func aCountRecordsWhatThatManyRecordsWould() {
    // 3 x 1 ms, 2 x 5 ms, 0 x 9 ms (nothing), 1 x 2 ms: the same bits as six single records.
    var grouped = LatencyHistogram()
    var single = LatencyHistogram()
    for (ms, n) in [(1, 3), (5, 2), (9, 0), (2, 1)] {
      grouped.record(.milliseconds(Int64(ms)), count: n)
      for _ in 0..<n { single.record(.milliseconds(Int64(ms))) }
    }
    #expect(grouped.count == 6)
    #expect(grouped.statistics == single.statistics)
    #expect(grouped.maximum == 0.005)
    // Ranks 1-3 are 1 ms, 4 is 2 ms, 5-6 are 5 ms (within the histogram's 0.1%).
    #expect(abs(grouped.percentile(50) - 0.001) <= 1e-6)
    #expect(abs(grouped.percentile(60) - 0.002) <= 2e-6)
    #expect(abs(grouped.percentile(90) - 0.005) <= 5e-6)
    for p in [10.0, 50, 60, 66.7, 90, 100] { #expect(grouped.percentile(p) == single.percentile(p)) }
  }

  @Test func histogramPercentilesAreWithinAThousandthOfExact() {
    var histogram = LatencyHistogram()
    var exact: [Double] = []
    let stream = RandomStream(seed: 3)
    for _ in 0..<50_000 {
      let latency = SimTime(seconds: stream.lognormal(mu: log(0.002), sigma: 1))
      histogram.record(latency)
      exact.append(latency.seconds)
    }
    exact.sort()
    for p in [50.0, 90, 99, 99.9] {
      // Within the bucket precision (three significant digits) of an order statistic next to
      // the nominal rank (rank conventions differ by one or two at the tail).
      let rank = Int((p / 100 * Double(exact.count)).rounded(.up)) - 1
      let low = exact[max(0, rank - 2)] * 0.999
      let high = exact[min(exact.count - 1, rank + 2)] * 1.001
      let value = histogram.percentile(p)
      #expect(value >= low && value <= high, "p\(p): \(value) not in [\(low), \(high)]")
    }
    #expect(histogram.maximum == exact.last!)
    #expect(abs(histogram.mean - exact.reduce(0, +) / Double(exact.count)) < 1e-12)
    histogram.reset()
    #expect(histogram.count == 0 && histogram.percentile(50).isNaN)
  }

  @Test func studentTQuantilesMatchTables() {
    #expect(abs(StudentT.quantile(probability: 0.975, degreesOfFreedom: 9) - 2.262157) < 1e-5)
    #expect(abs(StudentT.quantile(probability: 0.975, degreesOfFreedom: 1) - 12.706205) < 1e-5)
    #expect(abs(StudentT.quantile(probability: 0.975, degreesOfFreedom: 1e6) - 1.959966) < 1e-5)
  }

  @Test func confidenceIntervalByHand() {
    let ci = ConfidenceInterval(samples: [1, 2, 3, 4, 5])
    // mean 3, s = sqrt(2.5), t(0.975, 4) = 2.776445.
    #expect(ci.mean == 3)
    #expect(abs(ci.halfWidth - 2.776445 * 2.5.squareRoot() / 5.0.squareRoot()) < 1e-5)
    #expect(ConfidenceInterval(samples: [7]).halfWidth.isNaN)
  }

  /// 95% intervals from independent normal samples cover the true mean about 95% of the time.
  @Test func confidenceIntervalsHaveTheirNominalCoverage() {
    let stream = RandomStream(seed: 11)
    var covered = 0
    let trials = 2000
    for _ in 0..<trials {
      let samples = (0..<10).map { _ in stream.normal(mean: 5, standardDeviation: 2) }
      if ConfidenceInterval(samples: samples).contains(5) { covered += 1 }
    }
    // Binomial(2000, 0.95): sd ≈ 9.7; 4 sd either side.
    #expect(abs(covered - 1900) < 40, "coverage \(covered) of \(trials)")
  }

  @Test func batchMeansKeepsBoundedMemoryAndCoversAnAR1Mean() {
    // An autocorrelated AR(1) series with mean 10: naive CIs are too narrow, batch means are not.
    var batches = BatchMeans(batches: 20)
    let stream = RandomStream(seed: 8)
    var x = 10.0
    for _ in 0..<200_000 {
      x = 10 + 0.9 * (x - 10) + stream.normal(mean: 0, standardDeviation: 1)
      batches.add(x)
    }
    #expect(batches.batchMeanValues.count >= 20 && batches.batchMeanValues.count < 40)
    let ci = batches.confidenceInterval()
    #expect(ci.contains(10))
    #expect(ci.halfWidth < 0.2)
  }
}
