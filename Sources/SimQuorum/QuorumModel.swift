import Foundation
import SimKernel
import SimModel
import SimPlatform

/// The replicated key-value store as a model configs can name: `model: quorum`.
public enum QuorumModel: SimulationModel {
  public static let name = "quorum"
  public static let documentation: String? = "docs/models/quorum.md"
  public static let summary =
    "replicated key-value store: N/R/W quorums, sloppy quorums and hinted handoff (AP) or Raft (CP); staleness, availability, CAP under partitions"
  public static let usesPlatform = true
  public static let judgesSteadyState = true
  public static let headlineMetrics = [
    "quorum.read_latency_p99", "quorum.write_latency_p99", "quorum.availability", "quorum.stale_read_fraction",
  ]
  public static let metrics: [MetricInfo] = [
    MetricInfo(
      ["quorum.read_latency_*", "quorum.write_latency_*"], .duration,
      "request start to the client's answer: mean, p50, p99, p999"),
    MetricInfo(
      ["quorum.requests", "quorum.reads_checked"], .count, unit: "requests",
      "requests made, reads checked for staleness"),
    MetricInfo(["quorum.availability"], .fraction, "requests answered successfully within request_timeout / requests"),
    MetricInfo(
      ["quorum.availability.*"], .fraction, "the same for one client group (e.g. per side of a partition)"),
    MetricInfo(
      ["quorum.stale_read_fraction"], .fraction,
      "successful reads returning a version older than the newest committed when they started"),
    MetricInfo(
      ["quorum.k_staleness_*"], .fraction, "share of those reads at most 0, 1, 2 committed versions behind"),
    MetricInfo(
      ["quorum.pbs_consistency.*"], .fraction,
      "PBS: P(a read starting exactly T after a write commits returns it or newer), T from visibility_t (probe reads)"
    ),
    MetricInfo(
      ["quorum.pbs_t_visibility_*"], .duration,
      "PBS t-visibility: the least t at which that P(consistent) reaches 0.99, 0.999, 0.9999 (pbs_targets)"),
    MetricInfo(
      ["quorum.pbs_probes"], .count, unit: "writes", "writes probed (each gives one exact time to consistency)"),
    MetricInfo(
      ["quorum.load_visibility.*"], .fraction,
      "client reads started between T and the next visibility_t after the newest commit: share fresh"
        + " (load-dependent)"),
    MetricInfo(
      ["quorum.load_visibility_999"], .duration,
      "the least bin edge (10 per decade) from which client reads are fresh with probability >= 0.999"
        + " (load-dependent)"),
    MetricInfo(
      ["quorum.conflicts"], .count, unit: "writes",
      "writes committed without their quorum having seen the newest committed write (AP)"),
    MetricInfo(
      ["quorum.writes_lost"], .count, unit: "writes",
      "acknowledged writes silently dropped by last-write-wins, or held by no node at the end"),
    MetricInfo(
      ["quorum.hint_backlog_mean", "quorum.hint_backlog"], .level, unit: "hints",
      "hints waiting to be handed over: time-average (series: no suffix)"),
    MetricInfo(["quorum.hint_backlog_max"], .count, unit: "hints", "the most hints waiting at once"),
    MetricInfo(
      ["quorum.convergence_seconds"], .duration,
      "from every node reaching every other again to all replicas agreeing (AP)"),
    MetricInfo(
      ["theory.stale_probability"], .fraction, "C(N-W, R)/C(N, R): a read of R random replicas misses W random ones"),
  ]

  public static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> QuorumParameters {
    try QuorumParameters.decode(&reader, input: input)
  }

  public static func run(_ parameters: QuorumParameters, context: RunContext) throws(ValueError) -> RunOutput {
    try runOnPlatform(parameters.platform, faults: parameters.faults, context: context) { simulator, platform in
      QuorumStore(parameters: parameters, platform: platform, simulator: simulator, context: context)
    }
  }
}

/// Closed forms the simulation is checked against.
public enum QuorumTheory {
  /// C(n, k).
  public static func binomial(_ n: Int, _ k: Int) -> Double {
    guard k >= 0, k <= n else { return 0 }
    var result = 1.0
    for i in 0..<min(k, n - k) { result = result * Double(n - i) / Double(i + 1) }
    return result
  }

  /// The probability that R replicas chosen at random miss all W that hold the newest write
  /// (Bailis et al., Probabilistically Bounded Staleness): C(N-W, R) / C(N, R); 0 when R + W > N.
  public static func staleProbability(n: Int, r: Int, w: Int) -> Double {
    binomial(n - w, r) / binomial(n, r)
  }

  /// E[X(k:n)], the k-th smallest of n exponential delays of mean `mean` (a quorum of k out of
  /// n answers): mean x (1/n + 1/(n-1) + ... + 1/(n-k+1)).
  public static func expectedOrderStatistic(k: Int, n: Int, mean: Double) -> Double {
    mean * (0..<k).reduce(0.0) { $0 + 1 / Double(n - $1) }
  }
}

extension QuorumStore: PlatformWorkload {
  var timeseries: TimeSeries { series }

  /// Throughput, latency and availability of the requests, and the hints a partition leaves to
  /// hand over (they pile up while a replica is unreachable and drain once it is back).
  func watchSteadyState(_ monitor: SteadyStateMonitor) {
    monitor.rate("quorum.throughput") { [unowned self] in Double(succeededTotal) }
    monitor.mean(
      "quorum.latency", sum: { [unowned self] in latencySumTotal }, count: { [unowned self] in Double(succeededTotal) })
    monitor.mean(
      "quorum.availability", sum: { [unowned self] in Double(succeededTotal) },
      count: { [unowned self] in Double(answeredTotal) })
    monitor.level("quorum.hint_backlog") { [unowned self] in Double(hintsPending) }
  }

  func metrics() -> Metrics {
    let now = simulator.now
    var m = Metrics()
    for (name, h) in [("read", readLatency), ("write", writeLatency)] {
      m.set("quorum.\(name)_latency_mean", h.count > 0 ? h.mean : .nan)
      m.set("quorum.\(name)_latency_p50", h.percentile(50))
      m.set("quorum.\(name)_latency_p99", h.percentile(99))
      m.set("quorum.\(name)_latency_p999", h.percentile(99.9))
    }
    let ok = succeeded.reduce(0, +)
    let total = ok + failed.reduce(0, +)
    m.set("quorum.requests", Double(total))
    m.set("quorum.availability", total > 0 ? Double(ok) / Double(total) : .nan)
    for (g, group) in p.clients.enumerated() {
      let n = succeeded[g] + failed[g]
      m.set("quorum.availability.\(group.name)", n > 0 ? Double(succeeded[g]) / Double(n) : .nan)
    }
    m.set("quorum.reads_checked", Double(reads))
    m.set("quorum.stale_read_fraction", reads > 0 ? Double(staleReads) / Double(reads) : .nan)
    var within = 0
    for k in 1...3 {
      within += behind[k - 1]
      m.set("quorum.k_staleness_\(k)", reads > 0 ? Double(within) / Double(reads) : .nan)
    }
    for (j, t) in p.visibilityTimes.enumerated() {
      let bin = visibilityExact[j]
      m.set("quorum.load_visibility.\(t.formatted)", bin.count > 0 ? Double(bin.fresh) / Double(bin.count) : .nan)
      m.set("quorum.pbs_consistency.\(t.formatted)", probes > 0 ? Double(probeConsistent[j]) / Double(probes) : .nan)
    }
    m.set("quorum.load_visibility_999", visibilityThreshold(0.999))
    m.set("quorum.pbs_probes", Double(probes))
    for target in p.pbsTargets {
      m.set("quorum.pbs_t_visibility_\(QuorumParameters.targetName(target))", pbsVisibility(target))
    }
    m.set("quorum.conflicts", Double(conflicts))
    m.set("quorum.writes_lost", Double(lostByLWW + neverPropagated()))
    m.set("quorum.hint_backlog_mean", backlog.average(until: now))
    m.set("quorum.hint_backlog_max", Double(backlogMax))
    m.set("quorum.convergence_seconds", convergence.last ?? .nan)
    m.set(
      "theory.stale_probability",
      QuorumTheory.staleProbability(n: p.replication, r: p.readQuorum, w: p.writeQuorum))
    return m
  }

  /// The least bin edge t such that reads started at least t after the newest commit returned it
  /// with probability >= `level` (0 if all did; NaN if no t does).
  func visibilityThreshold(_ level: Double) -> Double {
    var count = 0
    var fresh = 0
    var answer = Double.nan
    for bin in stride(from: visibilityCount.count - 1, through: 0, by: -1) {
      count += visibilityCount[bin]
      fresh += visibilityFresh[bin]
      guard count > 0 else { continue }
      if Double(fresh) / Double(count) >= level {
        answer = bin == 0 ? 0 : pow(10, Double(bin - 1) / 10 - 5)
      } else {
        break
      }
    }
    return answer
  }
}
