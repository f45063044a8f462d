import Foundation
import SimKernel

/// A config's `precision:` section: replications are added, in rounds, until the 95% Student-t
/// half-width of one metric is within a target at every sweep point, or a point reaches the cap.
///
///     precision:
///       metric: station.station.response_mean
///       relative_half_width: 5%       # or 0.05; or absolute_half_width: 0.2 instead
///       max_replications: 50
///       batch: 5                      # replications added per round (default: replications)
///
/// The decisions use only completed results, in replication order, so the same config always
/// stops at the same count whatever `--jobs` (docs/RUN-LENGTH.md).
public struct PrecisionTarget: Sendable, Equatable {
  /// The half-width asked for.
  public enum Target: Sendable, Equatable {
    /// A fraction of the mean's magnitude, in (0, 1).
    case relative(Double)
    /// In the metric's own unit, positive.
    case absolute(Double)
  }

  public var metric: String
  public var target: Target
  public var maxReplications: Int
  public var batch: Int

  /// Reads the section. `replications` is the config's initial count (at least 2 with a
  /// precision: a half-width needs two values), `replicationsLocation` where it is written,
  /// `metricPatterns` the config's `outputs.metrics` (the metric must be kept).
  static func decode(
    _ node: ConfigNode, replications: Int, replicationsNode: ConfigNode?, metricPatterns: [String]
  ) throws(ConfigError) -> PrecisionTarget {
    var reader = try ConfigReader(node, path: "precision")
    guard !node.isNull else {
      throw ConfigError(
        location: node.location, keyPath: "precision", message: "the precision section is empty",
        hint: "give metric, relative_half_width (or absolute_half_width) and max_replications, or leave it out")
    }
    let metric = try reader.string("metric")
    if let problem = ExperimentConfig.metricPatternProblem(metric) {
      throw reader.error("metric", problem.message, hint: problem.hint)
    }
    if metric.contains("*") {
      throw reader.error(
        "metric", "'\(metric)' is a pattern; precision is judged on one metric",
        hint: "name one metric the runs report, e.g. station.station.response_mean")
    }
    let kept =
      metricPatterns.isEmpty || metricPatterns.contains { globMatch($0, metric) }
      || Aggregator.alwaysKept.contains(metric)
    guard kept else {
      throw reader.error(
        "metric", "'\(metric)' is not among the metrics outputs.metrics keeps, so its results would not be written",
        hint: "add it to outputs.metrics, or judge one of the kept metrics")
    }
    let relativeGiven = reader.has("relative_half_width")
    let absoluteGiven = reader.has("absolute_half_width")
    let target: Target
    switch (relativeGiven, absoluteGiven) {
    case (true, true):
      throw reader.error(
        "absolute_half_width", "relative_half_width and absolute_half_width are alternatives, and both are given",
        hint:
          "keep one: relative_half_width (a fraction of the mean, e.g. 5%) or absolute_half_width (in the metric's unit)"
      )
    case (false, false):
      throw reader.error(
        nil, "missing the target: relative_half_width or absolute_half_width",
        hint: "add e.g. 'relative_half_width: 5%' (of the mean) or 'absolute_half_width: 0.01' (in the metric's unit)")
    case (true, false):
      target = .relative(try relativeWidth(&reader))
    case (false, true):
      let value = try reader.double("absolute_half_width")
      guard value > 0 else {
        throw reader.error(
          "absolute_half_width", "\(Quantity.shortest(value)) is not positive: a half-width of 0 is never met",
          hint: "give a positive width in the metric's own unit, e.g. 0.01")
      }
      target = .absolute(value)
    }
    if replications < 2 {
      throw ConfigError(
        location: replicationsNode?.location ?? node.location, keyPath: "replications",
        message: "precision needs at least 2 initial replications (a half-width needs two values), got \(replications)",
        hint: "set replications: 2 or more (5 to 10 gives a first interval worth judging)")
    }
    let maxReplications = try reader.int("max_replications", range: 1...ExperimentConfig.maximumReplications)
    guard maxReplications >= replications else {
      throw reader.error(
        "max_replications", "max_replications (\(maxReplications)) is less than replications (\(replications))",
        hint: "the cap counts the initial replications too: give \(replications) or more")
    }
    let batch = try reader.int(
      "batch", default: replications, range: 1...ExperimentConfig.maximumReplications)
    try reader.finish()
    return PrecisionTarget(metric: metric, target: target, maxReplications: maxReplications, batch: batch)
  }

  /// `0.05` or `5%`, in (0, 1).
  private static func relativeWidth(_ reader: inout ConfigReader) throws(ConfigError) -> Double {
    let key = "relative_half_width"
    guard let node = reader.node(key), let text = node.scalarText?.trimmingCharacters(in: .whitespaces) else {
      throw reader.error(key, "expected a fraction such as 0.05 or a percentage such as 5%")
    }
    let percent = text.hasSuffix("%")
    let number = percent ? String(text.dropLast()).trimmingCharacters(in: .whitespaces) : text
    guard let parsed = Double(number), parsed.isFinite else {
      throw reader.error(
        key, "expected a fraction such as 0.05 or a percentage such as 5%, got '\(text)'",
        hint: "the half-width as a share of the mean: 0.05 and 5% are the same")
    }
    let value = percent ? parsed / 100 : parsed
    guard value > 0, value < 1 else {
      throw reader.error(
        key, "'\(text)' is not between 0 and 1 (0% and 100%)",
        hint: percent || value < 1 ? "give e.g. 5% or 0.05" : "a fraction: 5% is 0.05, not 5")
    }
    return value
  }

  /// The target as written for people: `5%` or `0.2`.
  public var targetText: String {
    switch target {
    case .relative(let r): return Self.percent(r)
    case .absolute(let a): return Quantity.shortest(a)
    }
  }

  static func percent(_ fraction: Double) -> String {
    guard fraction.isFinite else { return "inf%" }
    let p = fraction * 100
    return (p == p.rounded() ? String(Int(p)) : String(format: p >= 10 ? "%.1f" : "%.2g", p)) + "%"
  }
}

/// Where one sweep point stands against the precision target, after its completed runs.
public struct PointPrecision: Sendable, Equatable {
  public enum Verdict: Sendable, Equatable {
    /// The half-width is within the target.
    case met
    /// Wider than the target (or fewer than two values): more replications would narrow it.
    case wide
    /// No run of the point reported a finite value of the metric.
    case missing
    /// The mean is 0: a relative half-width has nothing to be relative to.
    case zeroMean
  }

  public var point: Int
  /// Runs of the point so far.
  public var replications: Int
  /// Runs with a finite value of the metric.
  public var count: Int
  public var mean: Double
  public var halfWidth: Double
  public var verdict: Verdict

  public var met: Bool { verdict == .met }

  /// The judgement of a point from its metric's statistics over replications (finite values, in
  /// replication order: the same statistics the summary's interval comes from).
  static func assess(
    point: Int, replications: Int, statistics s: RunningStatistics, target: PrecisionTarget.Target
  ) -> PointPrecision {
    let ci = ConfidenceInterval(
      count: s.count, mean: s.count > 0 ? s.mean : .nan, standardDeviation: s.standardDeviation)
    var result = PointPrecision(
      point: point, replications: replications, count: s.count, mean: ci.mean, halfWidth: ci.halfWidth,
      verdict: .wide)
    if s.count == 0 {
      result.verdict = .missing
      return result
    }
    switch target {
    case .relative(let r):
      if ci.mean == 0 {
        result.verdict = .zeroMean
      } else if ci.halfWidth <= r * abs(ci.mean) {
        result.verdict = .met
      }
    case .absolute(let a):
      if ci.halfWidth <= a { result.verdict = .met }
    }
    return result
  }

  /// The half-width relative to the mean's magnitude.
  public var relativeHalfWidth: Double { halfWidth / abs(mean) }

  /// What the point reached, for the table: `2.1%`, `0.31` (absolute), `-`.
  func reached(_ target: PrecisionTarget.Target) -> String {
    switch verdict {
    case .missing, .zeroMean: return "-"
    case .met, .wide:
      guard halfWidth.isFinite else { return "-" }
      switch target {
      case .relative: return PrecisionTarget.percent(relativeHalfWidth)
      case .absolute: return SummaryTable.significant(halfWidth)
      }
    }
  }

  /// A sentence for a point that did not meet the target, or nil if it did.
  func warning(point: ExperimentPlan.Point, precision: PrecisionTarget) -> String? {
    let at =
      point.assignments.isEmpty
      ? "" : " (\(point.assignments.map { "\($0.path)=\($0.value.compactText)" }.joined(separator: ", ")))"
    let after = "after \(replications) replication\(replications == 1 ? "" : "s")"
    let capped = replications >= precision.maxReplications ? " (the cap, max_replications)" : ""
    switch verdict {
    case .met:
      return nil
    case .missing:
      return "point \(self.point)\(at): no run reported a value of \(precision.metric) \(after), so its precision "
        + "cannot be judged (is it a metric this model reports at this point? `bdsim models NAME` lists them)"
    case .zeroMean:
      return "point \(self.point)\(at): the mean of \(precision.metric) is 0 \(after), so a relative half-width "
        + "is undefined (asked \(precision.targetText)); use absolute_half_width for this metric"
    case .wide:
      let width: String
      switch precision.target {
      case .relative:
        width =
          halfWidth.isFinite
          ? "half-width \(PrecisionTarget.percent(relativeHalfWidth)) of the mean" : "no half-width (one value)"
      case .absolute:
        width = halfWidth.isFinite ? "half-width \(SummaryTable.significant(halfWidth))" : "no half-width (one value)"
      }
      return "point \(self.point)\(at): \(precision.metric) \(width) \(after)\(capped) (asked \(precision.targetText))"
    }
  }
}

extension ExperimentPlan {
  /// The replication counts the next round asks for, given each point's standing: a point wider
  /// than its target and below the cap gets `batch` more (at most up to the cap).
  static func nextCounts(_ standing: [PointPrecision], precision: PrecisionTarget) -> [Int] {
    standing.map { p in
      guard p.verdict == .wide, p.replications < precision.maxReplications else { return p.replications }
      return min(precision.maxReplications, p.replications + precision.batch)
    }
  }
}

extension Experiment {
  /// What ``execute(_:directory:jobs:shard:resume:progress:)`` did.
  public struct Execution: Sendable {
    /// The plan with every run that was decided on (the initial one without `precision:`).
    public var plan: ExperimentPlan
    /// Per point, where it stands against `precision:` (empty without it).
    public var precision: [PointPrecision]
    public var rounds: Int
    public var assigned: Int
    public var skipped: Int
    public var completed: Int
    public var interrupted: Bool
  }

  /// Runs a plan: its runs, and with `precision:` the further rounds it decides on. A round
  /// starts only when the one before has finished, and is decided from the records of finished
  /// runs alone (in replication order), so thread count and timing cannot change what is run.
  /// With `resume`, records already present with the same spec are used instead of running.
  public static func execute(
    _ plan: ExperimentPlan, directory: String, jobs: Int, shard: (index: Int, count: Int)? = nil,
    resume: Bool = false, progress: Progress? = nil
  ) throws -> Execution {
    guard let precision = plan.config.precision else {
      let outcome = try Runner(
        plan: plan, directory: directory, jobs: jobs, shard: shard, resume: resume, progress: progress
      ).run()
      return Execution(
        plan: plan, precision: [], rounds: 1, assigned: outcome.assigned, skipped: outcome.skipped,
        completed: outcome.completed, interrupted: outcome.interrupted)
    }
    guard shard == nil else {
      throw ExperimentError(
        "--shard: an experiment with precision: decides each round from all results of the one before, so it "
          + "cannot be split into shards; run it without --shard (--jobs N uses the cores of one machine)")
    }
    var execution = Execution(
      plan: plan, precision: [], rounds: 0, assigned: 0, skipped: 0, completed: 0, interrupted: false)
    var statistics = [RunningStatistics](repeating: RunningStatistics(), count: plan.points.count)
    var current = plan
    var fresh = plan.runs
    let cap = plan.points.count * precision.maxReplications
    while true {
      let runner = Runner(
        plan: current.restricted(to: fresh), directory: directory, jobs: jobs, resume: resume, progress: progress,
        round: Progress.Round(index: execution.rounds, earlier: execution.assigned, cap: cap))
      let outcome = try runner.run()
      execution.rounds += 1
      execution.assigned += outcome.assigned
      execution.skipped += outcome.skipped
      execution.completed += outcome.completed
      execution.plan = current
      if outcome.interrupted {
        execution.interrupted = true
        return execution
      }
      // The new runs' values, in (point, replication) order: fresh runs are in that order.
      for run in fresh {
        guard let record = RunRecord.read(run: run.index, from: directory), record.specHash == run.specHash else {
          throw ExperimentError("run \(run.index) has no result in \(directory)/runs; run again with --resume")
        }
        if let value = record.output.metrics[precision.metric], value.isFinite { statistics[run.point].add(value) }
      }
      execution.precision = plan.points.indices.map { p in
        PointPrecision.assess(
          point: p, replications: current.replicationCounts[p], statistics: statistics[p], target: precision.target)
      }
      let next = ExperimentPlan.nextCounts(execution.precision, precision: precision)
      if next == current.replicationCounts { return execution }
      let extended = plan.withReplications(next)
      fresh = extended.runs.filter { run in run.replication >= current.replicationCounts[run.point] }
      current = extended
    }
  }

  /// The plan a precision experiment's records decided on, replayed from the records of
  /// `directory` round by round without running anything, and the runs the next undecided round
  /// lacks (empty when every round is there). Used by `merge`.
  static func replayed(_ plan: ExperimentPlan, directory: String) -> (plan: ExperimentPlan, missing: [Int]) {
    guard let precision = plan.config.precision else {
      return (plan, Aggregator(plan: plan, directory: directory).missingRuns())
    }
    var statistics = [RunningStatistics](repeating: RunningStatistics(), count: plan.points.count)
    var current = plan
    var fresh = plan.runs
    while true {
      var missing: [Int] = []
      for run in fresh {
        guard let record = RunRecord.read(run: run.index, from: directory), record.specHash == run.specHash else {
          missing.append(run.index)
          continue
        }
        if let value = record.output.metrics[precision.metric], value.isFinite { statistics[run.point].add(value) }
      }
      if !missing.isEmpty { return (current, missing) }
      let standing = plan.points.indices.map { p in
        PointPrecision.assess(
          point: p, replications: current.replicationCounts[p], statistics: statistics[p], target: precision.target)
      }
      let next = ExperimentPlan.nextCounts(standing, precision: precision)
      if next == current.replicationCounts { return (current, []) }
      let extended = plan.withReplications(next)
      fresh = extended.runs.filter { run in run.replication >= current.replicationCounts[run.point] }
      current = extended
    }
  }
}
