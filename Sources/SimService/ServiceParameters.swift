import Foundation
import SimKernel
import SimModel
import SimPlatform

/// A stateless (or sticky-session) service behind a load balancer, with an autoscaler.
///
/// Hosts in order: the first `max_instances` are the instance pool (one instance each at most),
/// the next one runs the balancer, the rest run clients (the balancer's host when there are none).
public struct ServiceParameters: Sendable, Equatable {
  public enum Policy: String, Sendable, Equatable, CaseIterable {
    case roundRobin = "round_robin"
    case random
    case leastConnections = "least_connections"
    case powerOfD = "power_of_d"
    case consistentHash = "consistent_hash"
  }

  public enum SessionMode: String, Sendable, Equatable { case stateless, sticky }

  public enum ScaleMetric: String, Sendable, Equatable {
    case utilization
    case requestRate = "request_rate"
  }

  public struct Autoscaling: Sendable, Equatable {
    public var metric = ScaleMetric.utilization
    /// Target mean utilisation of the ready instances (HPA `averageUtilization`), 0...1.
    public var targetUtilization = 0.6
    /// Target requests per second per ready instance (HPA `averageValue` of a Pods metric).
    public var targetRate = 100.0
    /// HPA `--horizontal-pod-autoscaler-tolerance`: no change while |metric/target - 1| <= it.
    public var tolerance = 0.1
    /// HPA `--horizontal-pod-autoscaler-sync-period`.
    public var syncPeriod = SimTime.seconds(15)
    /// The window the metric is averaged over (metrics-server's resolution window).
    public var metricsWindow = SimTime.seconds(30)
    /// HPA `behavior.scaleDown.stabilizationWindowSeconds`: scale in to the largest recommendation in it.
    public var scaleDownStabilization = SimTime.seconds(300)
    /// The least time between two scale-outs (AWS Auto Scaling `DefaultCooldown`); 0: none (HPA).
    public var cooldown = SimTime.zero
  }

  public var platform: PlatformSpec
  public var faults: [FaultSpec]
  /// Instances running at the start (and kept by the replica controller without autoscaling).
  public var instances = 4
  public var minInstances = 1
  public var maxInstances = 4
  /// Worker threads per instance (the ServerPool's servers).
  public var threads = 1
  /// Requests queued per instance beyond its threads before it rejects (nil: unbounded).
  public var queueLimit: Int?
  public var policy = Policy.random
  /// Instances sampled by power_of_d.
  public var choices = 2
  /// Tokens per instance on the consistent-hash ring.
  public var vnodes = 100
  public var service = Distribution.exponential(mean: 0.01)
  /// Requests per second, all clients together (Poisson).
  public var rate = 300.0
  /// A load spike: from `spikeAt` for `spikeFor` the rate is `spikeRate`.
  public var spikeAt: SimTime?
  public var spikeFor = SimTime.zero
  public var spikeRate = 0.0
  public var sessions = 1000
  /// nil: uniform; else the Zipf exponent of session popularity.
  public var sessionSkew: Double?
  public var sessionMode = SessionMode.stateless
  /// Stateless: the round trip to the session store, held on the worker thread.
  public var storeLatency = Distribution.exponential(mean: 0.0005)
  /// A session with no request for this long has expired (not counted lost).
  public var sessionTimeout = SimTime.seconds(1800)
  public var healthCheckInterval = SimTime.seconds(30)
  public var unhealthyThreshold = 2
  public var healthyThreshold = 5
  /// An instance the health checks took out is terminated and a replacement launched (an Auto
  /// Scaling group with ELB health checks, a Kubernetes controller); false: it stays registered
  /// and is put back when its host returns (a static target group).
  public var replaceUnhealthy = true
  /// nil: a fixed count of instances (failed ones replaced).
  public var autoscaling: Autoscaling?
  public var startupTime = Distribution.constant(30)
  /// Instances with at least 1...k requests in them are tracked as time averages (queue_at_least_k).
  static let tailDepth = 8
  /// Sync periods a window holds at most (each is a sample kept).
  static let maxWindowSamples = 10_000

  public init(platform: PlatformSpec, faults: [FaultSpec]) {
    self.platform = platform
    self.faults = faults
  }

  /// A spike is more users: its extra requests come from sessions of their own, as many more
  /// as the rate is higher (uniform among them), so new instances can take them.
  var spikeSessions: Int {
    guard spikeAt != nil, spikeRate > rate else { return 0 }
    return Int((Double(sessions) * (spikeRate - rate) / rate).rounded(.up))
  }

  /// The time-average rate at time `t`.
  func rate(at t: SimTime) -> Double {
    if let at = spikeAt, t >= at, t < at + spikeFor { return spikeRate }
    return rate
  }

  /// Requests per second at most: each is simulated with its messages one by one.
  static let maxRate = 1e6

  static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> ServiceParameters {
    let platform = try PlatformSpec.decode(input)
    var p = ServiceParameters(
      platform: platform, faults: try FaultSpec.decode(input.faults, spec: platform, baseDirectory: input.baseDirectory)
    )
    let hosts = platform.hostNames.count
    guard hosts >= 2 else {
      throw reader.error(
        nil, "the service needs at least 2 hosts (instances, then the balancer)",
        hint: "platform: {racks: 1, hosts_per_rack: 6}")
    }
    p.maxInstances = try reader.int(
      "max_instances", default: min(4, hosts - 1), range: 1...(hosts - 1),
      help:
        "instances at most (HPA maxReplicas); the first max_instances hosts are their pool, the next runs the balancer")
    p.minInstances = try reader.int(
      "min_instances", default: 1, range: 1...p.maxInstances, help: "instances at least (HPA minReplicas)")
    p.instances = try reader.int(
      "instances", default: p.maxInstances, range: p.minInstances...p.maxInstances,
      help: "instances running at the start (a fixed count without autoscaling)")
    p.threads = try reader.int(
      "threads", default: 1, range: 1...10_000, help: "worker threads per instance (requests served at once)")
    p.queueLimit = try reader.optionalInt(
      "queue_limit", range: 0...100_000_000,
      help: "requests an instance queues beyond its threads before it rejects (an accept backlog, NGINX"
        + " max_conns); none: unbounded")
    p.policy = Policy(
      rawValue: try reader.choice(
        "policy", Policy.allCases.map(\.rawValue), default: "random",
        help: "balancer: round_robin, random, least_connections (NGINX least_conn, Envoy LEAST_REQUEST with all"
          + " hosts), power_of_d (Envoy LEAST_REQUEST choice_count), consistent_hash on the session (Envoy RING_HASH)"))!
    p.choices = try reader.int(
      "d", default: 2, range: 1...p.maxInstances,
      help: "power_of_d: instances sampled per request, the least loaded taken (Envoy choice_count, default 2)")
    p.vnodes = try reader.int(
      "vnodes", default: 100, range: 1...10_000,
      help: "consistent_hash: tokens per instance on the ring (Envoy minimum_ring_size / instances)")
    guard p.vnodes * p.maxInstances <= 10_000_000 else {
      throw reader.error("vnodes", "\(p.vnodes) x \(p.maxInstances) instances is more than 10M ring tokens")
    }
    p.service = try reader.distribution(
      "service", .duration, default: .exponential(mean: 0.01), baseDirectory: input.baseDirectory,
      help: "a request's service time on a worker thread")
    try reader.checkDurations("service", p.service, maximumMean: 1e9)
    p.rate = try reader.quantity(
      "rate", .rate, default: 300, range: 1e-6...maxRate, help: "requests per second from all clients (Poisson)")
    var spike = try reader.mapping(
      "spike", help: "a load spike: {at, for, rate}; its extra requests come from new sessions (more users)")
    if spike.has("at") || spike.has("for") || spike.has("rate") {
      p.spikeAt = try spike.duration("at", default: .seconds(60), help: "when the spike starts")
      p.spikeFor = try spike.duration("for", default: .seconds(60), help: "how long it lasts")
      p.spikeRate = try spike.quantity(
        "rate", .rate, default: 2 * p.rate, range: 1e-6...maxRate, help: "requests per second during the spike")
    } else {
      _ = try spike.duration("at", default: .seconds(60), help: "when the spike starts")
      _ = try spike.duration("for", default: .seconds(60), help: "how long it lasts")
      _ = try spike.quantity("rate", .rate, default: 600, help: "requests per second during the spike")
    }
    try spike.finish()
    p.sessions = try reader.int("sessions", default: 1000, range: 1...10_000_000, help: "client sessions")
    if p.spikeAt != nil, p.spikeRate > p.rate {
      // Read after `sessions`: the spike's new sessions are sessions x (spike rate - rate) / rate.
      let extra = Double(p.sessions) * (p.spikeRate - p.rate) / p.rate
      guard extra <= 10_000_000 else {
        throw spike.error(
          "rate",
          "the spike's extra requests come from new sessions: \(Quantity.shortest(extra.rounded(.up))) more"
            + " is above 10M",
          hint: "raise rate or lower spike.rate or sessions")
      }
    }
    let popularity = try reader.choice(
      "session_distribution", ["uniform", "zipf"], default: "uniform", help: "which session a request belongs to")
    let skew = try reader.double(
      "session_skew", default: 1, range: 0...10, help: "Zipf exponent (session_distribution: zipf)")
    p.sessionSkew = popularity == "zipf" ? skew : nil
    p.sessionMode = SessionMode(
      rawValue: try reader.choice(
        "session_state", ["stateless", "sticky"], default: "stateless",
        help: "stateless: state in an external store (its latency on every request); sticky: state in the instance"
          + " (bound to it, lost when it dies or is scaled in)"))!
    p.storeLatency = try reader.distribution(
      "store_latency", .duration, default: .exponential(mean: 0.0005), baseDirectory: input.baseDirectory,
      help: "stateless: the session store's round trip per request (Redis GET+SET ~0.5 ms), on the worker thread")
    try reader.checkDurations("store_latency", p.storeLatency, maximumMean: 1e9)
    p.sessionTimeout = try reader.duration(
      "session_timeout", default: .seconds(1800), range: .milliseconds(1)...SimTime.max,
      help: "a session idle this long has expired (Tomcat's session-timeout default, 30 min)")
    p.healthCheckInterval = try reader.period(
      "health_check_interval", default: .seconds(30),
      help: "balancer health checks (AWS ELB HealthCheckIntervalSeconds, default 30 s)")
    p.unhealthyThreshold = try reader.int(
      "unhealthy_threshold", default: 2, range: 1...1000,
      help: "failed checks in a row before an instance is taken out (ELB UnhealthyThresholdCount, default 2)")
    p.healthyThreshold = try reader.int(
      "healthy_threshold", default: 5, range: 1...1000,
      help: "passed checks in a row before an instance taken out is put back (ELB HealthyThresholdCount, default 5;"
        + " a new instance needs one, as on an ALB)")
    p.replaceUnhealthy = try reader.bool(
      "replace_unhealthy", default: true,
      help: "an instance taken out by the checks is terminated and replaced (an Auto Scaling group with ELB health"
        + " checks); false: it stays registered and returns with its host (a static target group)")
    p.startupTime = try reader.distribution(
      "startup_time", .duration, default: .constant(30), baseDirectory: input.baseDirectory,
      help: "from launch to ready (a new instance serves nothing before)")
    try reader.checkDurations("startup_time", p.startupTime, maximumMean: 1e9)
    var scale = try reader.mapping(
      "autoscaling", help: "Kubernetes HPA-style autoscaling (absent or enabled: false: a fixed count)")
    let enabled = try scale.bool("enabled", default: false, help: "whether the autoscaler runs")
    var a = Autoscaling()
    a.metric = ScaleMetric(
      rawValue: try scale.choice(
        "metric", ["utilization", "request_rate"], default: "utilization",
        help:
          "utilization: mean busy share of the ready instances' threads; request_rate: requests/s per ready instance"))!
    a.targetUtilization = try scale.double(
      "target_utilization", default: 0.6, range: 0.01...1, help: "HPA target averageUtilization, as a fraction")
    a.targetRate = try scale.quantity(
      "target_rate", .rate, default: 100, range: 1e-6...maxRate, help: "target requests per second per instance")
    a.tolerance = try scale.double(
      "tolerance", default: 0.1, range: 0...10, help: "HPA tolerance: no change while |metric/target - 1| <= it")
    a.syncPeriod = try scale.period(
      "sync_period", default: .seconds(15), help: "how often the autoscaler decides (HPA sync period, 15 s)")
    a.metricsWindow = try scale.duration(
      "metrics_window", default: .seconds(30),
      help: "the metric is averaged over this window (at least one sync period)")
    guard a.metricsWindow >= a.syncPeriod else {
      throw scale.error("metrics_window", "metrics_window must be at least sync_period")
    }
    a.scaleDownStabilization = try scale.duration(
      "scale_down_stabilization", default: .seconds(300),
      help: "scale in only to the largest recommendation of this window (HPA stabilizationWindowSeconds, 300 s)")
    a.cooldown = try scale.duration(
      "cooldown", default: .zero,
      help: "the least time between scale-outs (AWS Auto Scaling DefaultCooldown, 300 s; HPA: 0)")
    for (key, window) in [("metrics_window", a.metricsWindow), ("scale_down_stabilization", a.scaleDownStabilization)]
    where window.nanoseconds / a.syncPeriod.nanoseconds > Int64(maxWindowSamples) {
      throw scale.error(
        key, "\(window.formatted) holds more than \(maxWindowSamples) sync periods",
        hint: "each sync period in the window is a sample kept; lengthen sync_period or shorten the window")
    }
    try scale.finish()
    p.autoscaling = enabled ? a : nil
    return p
  }

}
