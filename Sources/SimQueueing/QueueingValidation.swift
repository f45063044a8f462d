import SimKernel

/// The queueing model checked against closed forms: each case a network with a known answer.
///
/// This is both a test of the kernel (events, random streams, statistics) and a table users can
/// read: simulated mean and 95% confidence interval over replications next to the theory.
public enum QueueingValidation {
  /// One comparison: a simulated metric against its theoretical value.
  public struct Check: Sendable {
    public var system: String
    public var quantity: String
    public var parameters: QueueingParameters
    /// The metric of the queueing model that estimates `quantity`.
    public var metric: String
    public var theory: Double
    /// Derived checks (Little's law) compare two metrics of the same run instead of theory.
    public var derived: (@Sendable (Metrics) -> Double)?
  }

  /// One row of the validation table.
  public struct Row: Sendable {
    public var system: String
    public var quantity: String
    public var theory: Double
    public var interval: ConfidenceInterval
    public var inside: Bool { interval.contains(theory) }
    /// |simulated mean - theory| / theory.
    public var relativeError: Double { abs(interval.mean - theory) / abs(theory) }
  }

  /// The standard cases: M/M/1, M/M/c waiting by Erlang C (c = 1, 2, 8), M/D/1, M/M/c/c, a two-station tandem, Little's law.
  public static func standardChecks() throws(ValueError) -> [Check] {
    let s = "station."
    let mm1 = QueueingParameters.singleStation(arrivalRate: 0.8, service: .exponential(mean: 1))
    let mm2 = QueueingParameters.singleStation(arrivalRate: 1.6, service: .exponential(mean: 1), servers: 2)
    let mm8 = QueueingParameters.singleStation(arrivalRate: 6.4, service: .exponential(mean: 1), servers: 8)
    let md1 = QueueingParameters.singleStation(arrivalRate: 0.8, service: .constant(1))
    let loss = QueueingParameters.singleStation(arrivalRate: 4, service: .exponential(mean: 1), servers: 5, capacity: 5)
    let tandem = QueueingParameters(
      sources: [.init(name: "arrivals", interarrival: .exponential(mean: 2), routing: [.init(to: "first")])],
      stations: [
        .init(name: "first", service: .exponential(mean: 1), routing: [.init(to: "second")]),
        .init(name: "second", service: .exponential(mean: 1.25)),
      ])
    return [
      Check(
        system: "M/M/1 rho=0.8", quantity: "mean response (s)", parameters: mm1, metric: s + "station.response_mean",
        theory: try QueueingTheory.mmcMeanResponse(lambda: 0.8, mu: 1, servers: 1)),
      Check(
        system: "M/M/1 rho=0.8", quantity: "p90 response (s)", parameters: mm1, metric: s + "station.response_p90",
        theory: try QueueingTheory.mm1ResponseQuantile(lambda: 0.8, mu: 1, probability: 0.9)),
      Check(
        system: "M/M/1 rho=0.8", quantity: "mean wait (s)", parameters: mm1, metric: s + "station.wait_mean",
        theory: try QueueingTheory.mmcMeanWait(lambda: 0.8, mu: 1, servers: 1)),
      Check(
        system: "M/M/2 rho=0.8", quantity: "mean wait (s)", parameters: mm2, metric: s + "station.wait_mean",
        theory: try QueueingTheory.mmcMeanWait(lambda: 1.6, mu: 1, servers: 2)),
      Check(
        system: "M/M/8 rho=0.8", quantity: "mean wait (s)", parameters: mm8, metric: s + "station.wait_mean",
        theory: try QueueingTheory.mmcMeanWait(lambda: 6.4, mu: 1, servers: 8)),
      Check(
        system: "M/D/1 rho=0.8", quantity: "mean wait (s)", parameters: md1, metric: s + "station.wait_mean",
        theory: try QueueingTheory.mg1MeanWait(lambda: 0.8, meanService: 1, serviceSCV: 0)),
      Check(
        system: "M/M/5/5 a=4", quantity: "loss (Erlang B)", parameters: loss, metric: s + "station.loss_fraction",
        theory: try QueueingTheory.lossProbability(lambda: 4, mu: 1, servers: 5)),
      Check(
        system: "tandem M/M/1 x2", quantity: "end-to-end mean (s)", parameters: tandem, metric: "network.response_mean",
        theory: try QueueingTheory.tandemMeanResponse(lambda: 0.5, stations: [(1, 1), (0.8, 1)])),
      Check(
        system: "M/M/1 rho=0.8", quantity: "Little: L - lambda*W", parameters: mm1,
        metric: s + "station.mean_in_system",
        theory: 0,
        derived: { m in
          m["station.station.mean_in_system"]! - m["station.station.throughput"]! * m["station.station.response_mean"]!
        }),
    ]
  }

  /// Runs every check for `replications` replications of length `duration` (after `warmup`)
  /// and returns one row per check. Replications of a case share nothing but the seed scheme.
  public static func run(
    checks: [Check], replications: Int, duration: SimTime, warmup: SimTime, seed: UInt64, jobs: Int
  ) throws(ValueError) -> [Row] {
    guard replications >= 2 else {
      throw ValueError("a confidence interval needs at least 2 replications, got \(replications)", key: "replications")
    }
    // Distinct parameter sets are simulated once per replication and shared by their checks.
    var networks: [QueueingParameters] = []
    for check in checks where !networks.contains(check.parameters) { networks.append(check.parameters) }
    let runs = networks.count * replications
    let contexts = (0..<replications).map {
      RunContext(duration: duration, warmup: warmup, streams: RandomStreams(experimentSeed: seed, replication: $0))
    }
    let frozen = networks
    let results: [Result<Metrics, ValueError>] = parallelMap(count: runs, jobs: jobs) { i in
      let network = frozen[i / replications]
      let context = contexts[i % replications]
      return Result { () throws(ValueError) -> Metrics in try QueueingNetwork.run(network, context: context) }
    }
    var rows: [Row] = []
    for check in checks {
      let n = networks.firstIndex(of: check.parameters)!
      var values: [Double] = []
      for r in 0..<replications {
        let metrics = try results[n * replications + r].get()
        values.append(check.derived?(metrics) ?? metrics[check.metric] ?? .nan)
      }
      rows.append(
        Row(
          system: check.system, quantity: check.quantity, theory: check.theory,
          interval: ConfidenceInterval(samples: values)))
    }
    return rows
  }
}
