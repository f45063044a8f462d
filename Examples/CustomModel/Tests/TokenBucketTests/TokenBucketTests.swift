import SimKernel
import SimModel
import Testing

@testable import TokenBucket

/// The model against what can be computed by hand: the bucket's bound, a bucket that never
/// empties (the pool alone is M/M/4, Erlang C), a bucket of one token (a renewal process), and
/// one that never refills.
@Suite struct TokenBucketTests {
  func run(_ params: [(String, String)], seconds: Int64 = 2000, seed: UInt64 = 1) throws -> Metrics {
    let model = AnyModel(TokenBucketModel.self)
    let parameters = try model.decode(.mapping(params.map { ($0.0, .scalar($0.1)) }))
    let context = RunContext(duration: .seconds(seconds), streams: RandomStreams(experimentSeed: seed))
    return try model.run(parameters, context: context).metrics
  }

  /// A bucket never lets through more than its burst plus its rate times the run.
  @Test(arguments: [("50/s", "1"), ("80/s", "10"), ("100/s", "100")])
  func admittedNeverExceedsBurstPlusRateTimesTime(rate: String, burst: String) throws {
    let m = try run([("rate", rate), ("burst", burst)], seconds: 200)
    let bound = Double(burst)! + Double(rate.dropLast(2))! * 200
    #expect(m["limiter.admitted"]! <= bound)
    #expect(m["limiter.offered"]! > m["limiter.admitted"]!)
  }

  /// With tokens far faster than requests, nothing is rejected and the pool is M/M/4 with
  /// lambda = 100/s, mu = 50/s: a = 2, rho = 0.5, P(wait) = (a^4/4!)/(1 - rho) / (1 + 2 + 2 + 4/3
  /// + (a^4/4!)/(1 - rho)) = (4/3)/(23/3) = 4/23, W = 1/mu + P(wait)/(c mu - lambda) = 0.02 +
  /// 0.04/23 = 0.0217391 s; the servers are busy half the time.
  @Test func aBucketThatNeverEmptiesLeavesAnMMcQueue() throws {
    let m = try run([("rate", "1e6/s"), ("burst", "1e6")])
    #expect(m["limiter.rejected_fraction"] == 0)
    #expect(abs(m["pool.response_mean"]! - 0.0217391) / 0.0217391 < 0.02)
    #expect(abs(m["pool.utilisation"]! - 0.5) < 0.01)
    #expect(abs(m["limiter.admitted_rate"]! - 100) < 1.5)
  }

  /// A bucket of one token: after each admission it is empty for exactly 1/r, then the next
  /// arrival (exponential, mean 1/lambda) takes the new token, so admissions are a renewal
  /// process of mean cycle 1/r + 1/lambda: r lambda / (r + lambda) a second (33.3/s for r = 50,
  /// lambda = 100; 66.7/s for r = 200).
  @Test(arguments: [(50.0, 100.0 / 3), (200.0, 200.0 / 3)])
  func aBucketOfOneTokenAdmitsRLambdaOverRPlusLambda(rate: Double, admitted: Double) throws {
    let m = try run([("rate", "\(rate)/s"), ("burst", "1")])
    #expect(abs(m["limiter.admitted_rate"]! - admitted) / admitted < 0.01)
  }

  /// A bucket of one token that refills once in 10^6 s lets exactly the first request through.
  @Test func aBucketThatNeverRefillsAdmitsItsBurst() throws {
    let m = try run([("rate", "1e-6/s"), ("burst", "1")], seconds: 100)
    #expect(m["limiter.admitted"] == 1)
  }

  @Test func aBadBurstIsALocatedError() throws {
    let model = AnyModel(TokenBucketModel.self)
    let error = try #require(throws: ConfigError.self) {
      _ = try model.decode(.mapping([("burst", .scalar("0.5", at: SourceLocation(line: 3, column: 10)))]))
    }
    #expect(error.keyPath == "params.burst" && error.location.line == 3)
  }
}
