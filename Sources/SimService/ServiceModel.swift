import Foundation
import SimKernel
import SimModel
import SimPlatform

/// A stateless (or sticky-session) service behind a load balancer with an HPA-style autoscaler:
/// `model: service`.
public enum ServiceModel: SimulationModel {
  public static let name = "service"
  public static let documentation: String? = "docs/models/service.md"
  public static let summary =
    "instances behind a load balancer (round robin, random, least connections, power of d, consistent hash),"
    + " stateless or sticky sessions, health checks, HPA-style autoscaling; latency, utilisation spread, cost"
  public static let usesPlatform = true
  public static let judgesSteadyState = true
  public static let headlineMetrics = [
    "service.latency_p99", "service.rejected", "service.failed", "service.utilization_spread",
    "service.instance_seconds",
  ]
  public static let metrics: [MetricInfo] = [
    MetricInfo(
      ["service.latency_*"], .duration,
      "client send to its answer, answered requests: mean, p50, p99, p999 (series: p99 of each interval)"),
    MetricInfo(
      ["service.requests", "service.served", "service.rejected", "service.failed", "service.in_flight"], .count,
      unit: "requests",
      "after the warm-up: made; answered; rejected (no instance in rotation, or an instance's queue_limit full);"
        + " failed (sent to a dead or terminated instance, or lost in it); still on their way at the end"
        + " (series: rejected and failed in each interval)"),
    MetricInfo(["service.throughput"], .rate, unit: "requests/s", "requests answered per second"),
    MetricInfo(["service.sessions_lost"], .count, unit: "sessions", "sticky: live sessions whose instance lost them"),
    MetricInfo(
      ["service.utilization", "service.utilization_mean", "service.utilization_min", "service.utilization_max"],
      .fraction,
      "busy share of an instance's threads while in service, mean, least and most over instances that served"
        + " (series: all ready instances over each interval)"),
    MetricInfo(
      ["service.utilization_spread"], .fraction, "utilization_max - utilization_min: how evenly the balancer spreads"),
    MetricInfo(
      ["service.utilization_cv"], .ratio, "coefficient of variation of the instances' utilisations"),
    MetricInfo(
      [
        "service.instances", "service.instances_mean", "service.instances_max", "service.ready_instances",
        "service.ready_instances_mean",
      ], .level, unit: "instances",
      "instances billed (starting, running, draining) and ready (running): time-average and most (series: now)"),
    MetricInfo(
      ["service.instance_seconds"], .level, unit: "instance-seconds",
      "cost: the integral of billed instances over the measured time"),
    MetricInfo(["service.scale_outs", "service.scale_ins"], .count, unit: "decisions", "autoscaler decisions"),
    MetricInfo(
      ["service.queue_at_least_*"], .fraction,
      "time-average share of ready instances with at least k requests in them (k = 1...8; the supermarket"
        + " model's s_k)"),
  ]

  public static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> ServiceParameters {
    try ServiceParameters.decode(&reader, input: input)
  }

  public static func run(_ parameters: ServiceParameters, context: RunContext) throws(ValueError) -> RunOutput {
    try runOnPlatform(parameters.platform, faults: parameters.faults, context: context) { simulator, platform in
      ServiceCluster(parameters: parameters, platform: platform, simulator: simulator, context: context)
    }
  }
}

/// Closed forms the simulation is checked against.
public enum ServiceTheory {
  /// M/M/1: the mean response time 1 / (mu - lambda).
  public static func mm1Response(arrivalRate lambda: Double, serviceRate mu: Double) -> Double { 1 / (mu - lambda) }

  /// The supermarket model's mean-field limit (Mitzenmacher 2001, Vvedenskaya et al. 1996): the
  /// share of queues with at least k customers when each arrival joins the shortest of d chosen
  /// at random, s_k = rho^((d^k - 1) / (d - 1)); rho^k for d = 1 (M/M/1).
  public static func supermarketTail(rho: Double, d: Int, k: Int) -> Double {
    guard d > 1 else { return pow(rho, Double(k)) }
    return pow(rho, (pow(Double(d), Double(k)) - 1) / Double(d - 1))
  }
}

extension ServiceCluster: PlatformWorkload {
  var timeseries: TimeSeries { series }

  func watchSteadyState(_ monitor: SteadyStateMonitor) {
    monitor.rate("service.throughput") { [unowned self] in Double(servedTotal) }
    monitor.mean(
      "service.latency", sum: { [unowned self] in latencySumTotal }, count: { [unowned self] in Double(servedTotal) })
  }

  func metrics() -> Metrics {
    let now = simulator.now
    let measured = max(0, (now - warmup).seconds)
    var m = Metrics()
    m.set("service.latency_mean", latency.count > 0 ? latency.mean : .nan)
    m.set("service.latency_p50", latency.percentile(50))
    m.set("service.latency_p99", latency.percentile(99))
    m.set("service.latency_p999", latency.percentile(99.9))
    m.set("service.requests", Double(offered))
    m.set("service.served", Double(served))
    m.set("service.rejected", Double(rejected))
    m.set("service.failed", Double(failed))
    m.set("service.in_flight", Double(inFlight))
    m.set("service.throughput", measured > 0 ? Double(served) / measured : .nan)
    m.set("service.sessions_lost", Double(sessionsLost))
    var utilizations: [Double] = []
    for i in 0..<p.maxInstances {
      accrue(i)
      let seconds = readyTime[i] - readyAtWarmup[i]
      if seconds > 0 { utilizations.append((busyArea[i] - busyAtWarmup[i]) / (Double(p.threads) * seconds)) }
    }
    if utilizations.isEmpty {
      for name in ["mean", "min", "max", "spread", "cv"] { m.set("service.utilization_\(name)", .nan) }
    } else {
      let mean = utilizations.reduce(0, +) / Double(utilizations.count)
      let variance = utilizations.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(utilizations.count)
      let low = utilizations.min()!
      let high = utilizations.max()!
      m.set("service.utilization_mean", mean)
      m.set("service.utilization_min", low)
      m.set("service.utilization_max", high)
      m.set("service.utilization_spread", high - low)
      m.set("service.utilization_cv", mean > 0 ? variance.squareRoot() / mean : .nan)
    }
    m.set("service.instances_mean", billed.average(until: now))
    m.set("service.instances_max", billed.maximum)
    m.set("service.ready_instances_mean", ready.average(until: now))
    m.set("service.instance_seconds", billed.average(until: now) * measured)
    m.set("service.scale_outs", Double(scaleOuts))
    m.set("service.scale_ins", Double(scaleIns))
    let readyMean = ready.average(until: now)
    for k in 1...ServiceParameters.tailDepth {
      m.set("service.queue_at_least_\(k)", readyMean > 0 ? atLeast[k - 1].average(until: now) / readyMean : .nan)
    }
    return m
  }
}
