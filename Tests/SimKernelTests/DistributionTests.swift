import Foundation
import Testing

@testable import SimKernel

@Suite struct DistributionTests {
  @Test(arguments: [
    ("5ms", Distribution.constant(0.005)),
    ("const(5ms)", .constant(0.005)),
    ("uniform(1ms, 3ms)", .uniform(low: 0.001, high: 0.003)),
    ("uniform(low: 1ms, high: 3ms)", .uniform(low: 0.001, high: 0.003)),
    ("exp(5ms)", .exponential(mean: 0.005)),
    ("exp(mean: 5ms)", .exponential(mean: 0.005)),
    ("exponential(rate: 200/s)", .exponential(mean: 0.005)),
    ("normal(mean: 10ms, sd: 2ms)", .normal(mean: 0.01, standardDeviation: 0.002)),
    ("pareto(shape: 1.5, scale: 1ms)", .pareto(shape: 1.5, scale: 0.001)),
    ("weibull(shape: 2, scale: 5ms)", .weibull(shape: 2, scale: 0.005)),
    ("gamma(shape: 2, scale: 5ms)", .gamma(shape: 2, scale: 0.005)),
    ("erlang(k: 3, mean: 6ms)", .erlang(k: 3, mean: 0.006)),
    ("empirical([1ms, 2ms, 2ms])", .empirical([0.001, 0.002, 0.002])),
    (
      "mixture(0.9 * exp(1ms), 0.1 * const(100ms))",
      .mixture([
        .init(weight: 0.9, distribution: .exponential(mean: 0.001)), .init(weight: 0.1, distribution: .constant(0.1)),
      ])
    ),
  ])
  func parsesEveryForm(text: String, expected: Distribution) throws {
    #expect(try Distribution.parse(text, as: .duration) == expected)
  }

  @Test func lognormalAcceptsMedianMeanAndRawParameters() throws {
    guard
      case .lognormal(let mu, let sigma) = try Distribution.parse("lognormal(median: 5ms, sigma: 0.5)", as: .duration)
    else {
      Issue.record("not a lognormal")
      return
    }
    #expect(abs(mu - log(0.005)) < 1e-12 && sigma == 0.5)
    let byMean = try Distribution.parse("lognormal(mean: 5ms, cv: 2)", as: .duration)
    #expect(abs(byMean.mean! - 0.005) < 1e-12)
    #expect(abs(byMean.squaredCoefficientOfVariation! - 4) < 1e-9)
  }

  @Test func formattedSpecsReadBackToTheSameDistribution() throws {
    let specs = [
      "exp(mean: 5ms)", "uniform(low: 1ms, high: 3ms)", "erlang(k: 3, mean: 6ms)", "pareto(shape: 1.5, scale: 1ms)",
      "mixture(0.9 * exp(mean: 1ms), 0.1 * const(100ms))", "empirical([1ms, 2ms])", "normal(mean: 10ms, sd: 2ms)",
    ]
    for spec in specs {
      let distribution = try Distribution.parse(spec, as: .duration)
      #expect(try Distribution.parse(distribution.formatted(as: .duration), as: .duration) == distribution)
    }
  }

  @Test(arguments: [
    ("exp(mean: -5ms)", "mean"), ("exp(mean: 0)", "mean"), ("uniform(3ms, 1ms)", "high"),
    ("normal(mean: 1ms, sd: -1ms)", "sd"), ("pareto(shape: 0, scale: 1ms)", "shape"),
    ("erlang(k: 2.5, mean: 1ms)", "k"),
    ("gamma(shape: 2, scael: 1ms)", "scael"), ("exp(rate: -3/s)", "rate"), ("weibull(shape: 1)", "scale"),
    ("pareto(shape: 0.5, mean: 1ms)", "shape"), ("lognormal(median: 1ms, sigma: -1)", "sigma"),
  ])
  func badParametersNameTheParameter(text: String, key: String) {
    #expect {
      _ = try Distribution.parse(text, as: .duration)
    } throws: { error in
      let error = error as! ValueError
      return error.key == key && error.message.contains(key)
    }
  }

  @Test func unknownNamesSuggestTheNearestOne() {
    #expect {
      _ = try Distribution.parse("expo(5ms)", as: .duration)
    } throws: { error in
      let error = error as! ValueError
      return error.message.contains("unknown distribution 'expo'") && (error.hint ?? "").contains("did you mean 'exp'")
    }
  }

  @Test(arguments: [
    "exp(5ms", "exp(5ms))", "exp(,)", "exp(5ms, 3ms)", "5", "mixture(exp(1ms))", "lognormal(5ms, 1)", "[1, 2]",
  ])
  func malformedSpecsAreErrorsNotTraps(text: String) {
    #expect(throws: ValueError.self) { _ = try Distribution.parse(text, as: .duration) }
  }

  @Test func empiricalReadsAFileRelativeToTheConfig() throws {
    let directory = "/tmp/bdsim-tests-\(getpid())"
    mkdir(directory, 0o755)
    let path = directory + "/samples.csv"
    let file = fopen(path, "w")!
    fputs("latency\n1ms\n2ms\n# a comment\n3ms, 4ms\n", file)
    fclose(file)
    #expect(
      try Distribution.parse("empirical(file: \"samples.csv\")", as: .duration, baseDirectory: directory)
        == .empirical([0.001, 0.002, 0.003, 0.004]))
    #expect(throws: ValueError.self) {
      _ = try Distribution.parse("empirical(file: \"missing.csv\")", as: .duration, baseDirectory: directory)
    }
  }

  /// The sample mean of 200,000 draws lies within its 99.9% interval of the analytic mean.
  @Test(arguments: [
    "const(2ms)", "uniform(1ms, 3ms)", "exp(5ms)", "normal(mean: 10ms, sd: 2ms)", "lognormal(median: 5ms, sigma: 0.5)",
    "pareto(shape: 3.5, scale: 1ms)", "weibull(shape: 1.5, scale: 5ms)", "gamma(shape: 2, scale: 5ms)",
    "erlang(k: 4, mean: 8ms)", "mixture(0.9 * exp(1ms), 0.1 * exp(100ms))", "empirical([1ms, 2ms, 9ms])",
  ])
  func samplesHaveTheAnalyticMeanAndVariance(text: String) throws {
    let distribution = try Distribution.parse(text, as: .duration)
    let stream = RandomStream(seed: StableHash.fnv1a64(text))
    var statistics = RunningStatistics()
    let n = 200_000
    for _ in 0..<n { statistics.add(distribution.sample(stream)) }
    let mean = try #require(distribution.mean)
    let scv = try #require(distribution.squaredCoefficientOfVariation)
    let sd = (scv * mean * mean).squareRoot()
    let tolerance = 3.29 * sd / Double(n).squareRoot() + 1e-15
    #expect(abs(statistics.mean - mean) <= tolerance, "\(text): sample mean \(statistics.mean) vs \(mean)")
    if sd > 0 {
      // The sample sd within 5% (loose: heavy tails converge slowly).
      #expect(abs(statistics.standardDeviation / sd - 1) < 0.05, "\(text): sd \(statistics.standardDeviation) vs \(sd)")
    }
    #expect(statistics.minimum >= 0)
  }

  @Test func sizesAndPlainNumbersUseTheirOwnUnits() throws {
    #expect(try Distribution.parse("uniform(1KiB, 4KiB)", as: .size) == .uniform(low: 1024, high: 4096))
    #expect(try Distribution.parse("exp(2.5)", as: .number) == .exponential(mean: 2.5))
    #expect(throws: ValueError.self) { _ = try Distribution.parse("exp(2.5)", as: .duration) }
  }
}
