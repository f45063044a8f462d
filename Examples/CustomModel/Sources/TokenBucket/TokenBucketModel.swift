import SimKernel
import SimModel
import SimPlatform

/// A token-bucket rate limiter in front of a pool of servers (`model: token_bucket`).
///
/// Requests arrive as a Poisson stream. The bucket holds at most `burst` tokens and fills at
/// `rate` tokens a second; a request that finds a whole token takes it and joins the pool's FIFO
/// queue, one that finds none is rejected (HTTP 429). Nothing is kept per request: counts, and
/// the pool's own streaming statistics.
public enum TokenBucketModel: SimulationModel {
  public struct Parameters: Sendable {
    var arrivalRate: Double
    var rate: Double
    var burst: Double
    var servers: Int
    var service: Distribution
  }

  public static let name = "token_bucket"
  public static let summary = "a token-bucket rate limiter (rate, burst) in front of a pool of servers"
  public static let documentation: String? = "Examples/CustomModel/README.md and docs/EXTENDING.md in BDSim"
  public static let headlineMetrics = ["limiter.rejected_fraction", "limiter.admitted_rate", "pool.response_p99"]
  public static let metrics: [MetricInfo] = [
    MetricInfo(["limiter.offered", "limiter.admitted"], .count, unit: "requests", "requests after the warm-up"),
    MetricInfo(["limiter.rejected_fraction"], .fraction, "requests that found no token"),
    MetricInfo(["limiter.admitted_rate"], .rate, unit: "requests/s", "requests let through per second"),
    MetricInfo(["pool.response_mean", "pool.response_p99"], .duration, "queueing plus service of admitted requests"),
    MetricInfo(["pool.utilisation"], .fraction, "time-average fraction of the servers busy"),
  ]

  public static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> Parameters {
    let arrivals = try reader.quantity(
      "arrival_rate", .rate, default: 100, range: 1e-6...1e7, help: "Poisson arrivals, requests per second")
    let rate = try reader.quantity("rate", .rate, default: 80, range: 1e-6...1e7, help: "tokens added per second")
    let burst = try reader.double("burst", default: 10, range: 1...1e9, help: "the bucket's size, tokens")
    let servers = try reader.int("servers", default: 4, range: 1...10_000, help: "servers behind the limiter")
    let service = try reader.distribution(
      "service", .duration, default: .exponential(mean: 0.02), help: "service time of one request")
    return Parameters(arrivalRate: arrivals, rate: rate, burst: burst, servers: servers, service: service)
  }

  public static func run(_ parameters: Parameters, context: RunContext) throws(ValueError) -> RunOutput {
    try context.validate()
    let simulator = Simulator()
    let limiter = Limiter(parameters, context: context, simulator: simulator)
    _ = simulator.run(until: context.duration)
    return RunOutput(metrics: limiter.metrics(seconds: context.measuredSeconds, now: simulator.now))
  }
}

/// The bucket and the arrivals: one event per arrival, and one at the end of the warm-up.
final class Limiter: EventHandler, ServerPoolObserver {
  let parameters: TokenBucketModel.Parameters
  let arrivals: RandomStream
  let services: RandomStream
  let pool: ServerPool
  var me = EntityID(0)
  var tokens: Double
  var filled = SimTime.zero
  var offered = 0
  var admitted = 0
  var response = LatencyHistogram()

  init(_ parameters: TokenBucketModel.Parameters, context: RunContext, simulator: Simulator) {
    self.parameters = parameters
    // Each stream by name: the same seed gives the same draws, whatever else the run does.
    arrivals = context.streams.stream("arrivals")
    services = context.streams.stream("service")
    pool = ServerPool(servers: parameters.servers, simulator: simulator)
    tokens = parameters.burst
    me = simulator.register(self)
    simulator.schedule(after: nextArrival(), to: me, kind: 0)
    if context.warmup > .zero { simulator.schedule(at: context.warmup, to: me, kind: 1) }
  }

  func nextArrival() -> SimTime { SimTime(seconds: arrivals.exponential(mean: 1 / parameters.arrivalRate)) }

  func handle(_ event: Event, in simulator: Simulator) {
    guard event.kind == 0 else {
      (offered, admitted, response) = (0, 0, LatencyHistogram())
      pool.resetStatistics()
      return
    }
    let now = simulator.now
    tokens = min(parameters.burst, tokens + parameters.rate * (now - filled).seconds)
    filled = now
    offered += 1
    if tokens >= 1 {
      tokens -= 1
      admitted += 1
      // The service time rides in the tag, so the response time needs nothing kept per request.
      let service = parameters.service.sampleTime(services)
      pool.submit(service: service, tag: service.nanoseconds, observer: self)
    }
    simulator.schedule(after: nextArrival(), to: me, kind: 0)
  }

  func requestServed(tag: Int64, waited: SimTime, in simulator: Simulator) {
    response.record(waited + SimTime(nanoseconds: tag))
  }

  func requestDropped(tag: Int64, reason: FailureReason, in simulator: Simulator) {}

  func metrics(seconds: Double, now: SimTime) -> Metrics {
    var m = Metrics()
    m.set("limiter.offered", Double(offered))
    m.set("limiter.admitted", Double(admitted))
    m.set("limiter.rejected_fraction", offered > 0 ? Double(offered - admitted) / Double(offered) : 0)
    m.set("limiter.admitted_rate", Double(admitted) / seconds)
    m.set("pool.response_mean", response.mean)
    m.set("pool.response_p99", response.percentile(99))
    m.set("pool.utilisation", pool.busyServers.average(until: now) / Double(parameters.servers))
    return m
  }
}
