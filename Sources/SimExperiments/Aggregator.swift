import Foundation
import SimKernel

/// Assembles the per-run records of a plan into the result files, in run order:
/// `runs.csv`, `summary.csv`, `timeseries.csv` and `manifest.json`.
///
/// The CSVs depend only on the records, never on wall time, thread count or shard split, so they
/// are byte-identical for the same config. Each record is read once; time series are streamed
/// from record to file, so memory grows only with the runs' metrics, not their time series.
public struct Aggregator {
  public let plan: ExperimentPlan
  public let directory: String

  public init(plan: ExperimentPlan, directory: String) {
    self.plan = plan
    self.directory = directory
  }

  /// Runs of the plan with no complete, matching record.
  public func missingRuns() -> [Int] {
    plan.runs.filter { RunRecord.read(run: $0.index, from: directory)?.specHash != $0.specHash }.map(\.index)
  }

  /// Per (point, metric): the interval over replications.
  public struct Summary: Sendable {
    public var metrics: [String]
    /// intervals[point][metric index]
    public var intervals: [[ConfidenceInterval]]
    /// The least and greatest value over the point's runs, [point][metric index] (NaN if none).
    public var ranges: [[(minimum: Double, maximum: Double)]] = []
    /// For a category metric: how many of the point's runs reported each code, [point][metric index].
    public var categories: [[[Double: Int]]] = []
    /// Per point: whether every replication reached a steady state ("yes", "no"), or nil where
    /// the model judges none (a batch job).
    public var steady: [String?] = []
    /// One line per point that is not steady: which signal, how, in how many replications.
    public var steadyWarnings: [String] = []
    /// `outputs.metrics` patterns that no run reported anything for (a misspelt name), located.
    public var metricWarnings: [ConfigWarning] = []
    /// Per point, where it stands against `precision:` (empty without one).
    public var precision: [PointPrecision] = []
    /// One line per point that did not meet `precision:` (at the cap, or not judgeable).
    public var precisionWarnings: [String] = []
    /// How many records each build of bdsim made (its commit; `unknown` for records that do not
    /// say), in order of first appearance.
    public var madeBy: [(commit: String, runs: Int)] = []

    /// A note when some records were made by another build than this one (kept by `--resume`):
    /// the results may not be what this build computes if the model changed since.
    public var provenanceNote: String? {
      let other = madeBy.filter { $0.commit != BDSimVersion.commit }
      guard !other.isEmpty else { return nil }
      let runs = other.reduce(0) { $0 + $1.runs }
      let total = madeBy.reduce(0) { $0 + $1.runs }
      let builds = other.map {
        "\($0.runs) by \($0.commit == "unknown" ? "an unrecorded build" : String($0.commit.prefix(12)))"
      }
      return
        "\(runs) of \(total) results were made by another build of bdsim (\(builds.joined(separator: ", ")); this is"
        + " \(BDSimVersion.commit.prefix(12))) and kept by --resume: if the model changed since, run again without"
        + " --resume (or with a new --out) to remake them"
    }
  }

  /// A warning for each `outputs.metrics` pattern that matches none of the names the runs
  /// reported (metrics or time series), with the nearest reported name.
  func unmatchedPatterns(reported: Set<String>) -> [ConfigWarning] {
    let outputs = plan.config.outputs
    let names = reported.sorted()
    var warnings: [ConfigWarning] = []
    for (i, pattern) in outputs.metrics.enumerated() where !names.contains(where: { globMatch(pattern, $0) }) {
      var message = "no run reported a metric matching '\(pattern)': its column is empty"
      if let near = closestMatch(to: pattern, among: names) { message += "; did you mean '\(near)'?" }
      message += " (`bdsim models \(plan.config.model.name)` lists what the model reports)"
      warnings.append(
        ConfigWarning(
          file: plan.config.file, location: i < outputs.metricLocations.count ? outputs.metricLocations[i] : .unknown,
          keyPath: "outputs.metrics.\(i)", message: message))
    }
    return warnings
  }

  /// The run-level steady-state verdict (``SteadyStateMonitor``): kept whatever
  /// `outputs.metrics` selects, since a result without it cannot be trusted.
  static let alwaysKept: Set<String> = ["steady_state.ok", "steady_state.truncation_s", "steady_state.warmup_s"]

  /// Whether a metric passes the config's `outputs.metrics` patterns.
  func keeps(_ metric: String) -> Bool {
    let patterns = plan.config.outputs.metrics
    return patterns.isEmpty || patterns.contains { globMatch($0, metric) } || Self.alwaysKept.contains(metric)
  }

  /// Per point, what its runs' steady-state signals say (from every metric of the records, kept
  /// or not).
  struct SteadyTally {
    var judged = 0
    var unsteady = 0
    /// Per signal, in order of first report: replications rising, falling, settling late.
    var signals: [(name: String, rising: Int, falling: Int, late: Int)] = []

    mutating func add(_ metrics: Metrics, duration: SimTime) {
      guard let ok = metrics["steady_state.ok"] else { return }
      judged += 1
      if ok != 1 { unsteady += 1 }
      let prefix = "steady_state."
      for (name, value) in metrics.entries where name.hasPrefix(prefix) {
        var signal: String
        let rising: Int
        let falling: Int
        let late: Int
        if name.hasSuffix(".trend") {
          signal = String(name.dropFirst(prefix.count).dropLast(".trend".count))
          (rising, falling, late) = (value > 0 ? 1 : 0, value < 0 ? 1 : 0, 0)
        } else if name.hasSuffix(".truncation_s"), name != "steady_state.truncation_s" {
          signal = String(name.dropFirst(prefix.count).dropLast(".truncation_s".count))
          // Half-way (MSER's bound); the batch before it ends 1% of the run earlier.
          (rising, falling, late) = (0, 0, value > 0.495 * duration.seconds ? 1 : 0)
        } else {
          continue
        }
        if let i = signals.firstIndex(where: { $0.name == signal }) {
          signals[i].rising += rising
          signals[i].falling += falling
          signals[i].late += late
        } else {
          signals.append((signal, rising, falling, late))
        }
      }
    }

    func warning(point: ExperimentPlan.Point) -> String? {
      guard unsteady > 0 else { return nil }
      let at =
        point.assignments.isEmpty
        ? "" : " (\(point.assignments.map { "\($0.path)=\($0.value.compactText)" }.joined(separator: ", ")))"
      let end = point.duration.formatted
      var what: [String] = []
      for s in signals {
        if s.rising > 0 { what.append("\(s.name) still rising at the end of \(end) (\(s.rising) of \(judged) runs)") }
        if s.falling > 0 {
          what.append("\(s.name) still falling at the end of \(end) (\(s.falling) of \(judged) runs)")
        }
        if s.late > 0, s.rising == 0, s.falling == 0 {
          what.append("\(s.name) still settling half-way through \(end) (\(s.late) of \(judged) runs)")
        }
      }
      // A scheduled fault is a transient by design: the question is whether the run settled again.
      let faulted =
        point.definition.contains("\"faults\":") && !point.definition.contains("\"faults\":null")
        && !point.definition.contains("\"faults\":[]")
      let advice =
        faulted
        ? "the point has faults, a transient by design: lengthen the run after the last one to measure the state it"
          + " settles to"
        : "run longer or set warmup (warmup: auto truncates by the detected point)"
      return "point \(point.index)\(at): \(what.joined(separator: "; ")): results are not steady; \(advice)"
    }
  }

  /// Writes every result file; every run's record must be present.
  @discardableResult
  public func write(commandLine: [String]) throws -> Summary {
    let sweptPaths = plan.config.sweep.paths
    // One pass over the records: time series stream to their file; the (few) metrics of each run
    // are kept until every metric column is known, in order of first appearance.
    var metrics: [String] = []
    var kept: [[(name: String, value: Double)]] = []
    kept.reserveCapacity(plan.runs.count)
    var walls = [Double](repeating: .nan, count: plan.runs.count)
    var madeBy: [(commit: String, runs: Int)] = []
    var tallies = [SteadyTally](repeating: SteadyTally(), count: plan.points.count)
    var reported = Set<String>()
    var series = CSVFile(header: ["run", "time_s", "metric", "value"])
    // Temporary names of their own: shards sharing a directory may aggregate at the same moment.
    // A failure part-way (disk full) removes them and leaves the previous result files as they were.
    let seriesFile = try PendingFile(for: directory + "/timeseries.csv")
    try seriesFile.write(series.takeText())
    for (position, run) in plan.runs.enumerated() {
      guard let record = RunRecord.read(run: run.index, from: directory), record.specHash == run.specHash else {
        throw ExperimentError("run \(run.index) has no result in \(directory)/runs; run again with --resume")
      }
      walls[position] = record.wallSeconds
      let commit = record.bdsimCommit ?? "unknown"
      if let i = madeBy.firstIndex(where: { $0.commit == commit }) {
        madeBy[i].runs += 1
      } else {
        madeBy.append((commit, 1))
      }
      tallies[run.point].add(record.output.metrics, duration: plan.points[run.point].duration)
      for name in record.output.metrics.names { reported.insert(name) }
      for sample in record.output.timeseries.samples { reported.insert(sample.metric) }
      let entries = record.output.metrics.entries.filter { keeps($0.name) }
      for entry in entries where !metrics.contains(entry.name) { metrics.append(entry.name) }
      kept.append(entries)
      for sample in record.output.timeseries.samples where keeps(sample.metric) {
        series.append([String(run.index), formatNumber(sample.time.seconds), sample.metric, formatNumber(sample.value)])
      }
      try seriesFile.write(series.takeText())
    }
    // Metrics named in outputs.metrics come in the order the patterns are listed.
    let patterns = plan.config.outputs.metrics
    if !patterns.isEmpty {
      let rank = { (name: String) in patterns.firstIndex { globMatch($0, name) } ?? patterns.count }
      metrics = metrics.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(
        \.element)
    }
    let columnOf = Dictionary(uniqueKeysWithValues: metrics.enumerated().map { ($1, $0) })
    var runs = CSVFile(header: ["run", "point", "replication", "seed"] + sweptPaths + metrics)
    var statistics = [[RunningStatistics]](
      repeating: [RunningStatistics](repeating: RunningStatistics(), count: metrics.count), count: plan.points.count)
    let isCategory = metrics.map { plan.config.model.catalog.info($0)?.kind == .category }
    var categories = [[[Double: Int]]](
      repeating: [[Double: Int]](repeating: [:], count: metrics.count), count: plan.points.count)
    for (run, entries) in zip(plan.runs, kept) {
      var values = [String](repeating: "", count: metrics.count)
      for (name, value) in entries {
        let column = columnOf[name]!
        values[column] = formatNumber(value)
        if value.isFinite { statistics[run.point][column].add(value) }
        if isCategory[column], value.isFinite { categories[run.point][column][value, default: 0] += 1 }
      }
      let point = plan.points[run.point]
      runs.append(
        [String(run.index), String(run.point), String(run.replication), String(run.seed)]
          + point.assignments.map(\.value.compactText) + values)
    }

    // With precision: each point's standing, from the same statistics as its interval.
    var precision: [PointPrecision] = []
    if let target = plan.config.precision {
      let column = columnOf[target.metric]
      precision = plan.points.map { point in
        PointPrecision.assess(
          point: point.index, replications: plan.replicationCounts[point.index],
          statistics: column.map { statistics[point.index][$0] } ?? RunningStatistics(), target: target.target)
      }
    }
    let precisionColumns = plan.config.precision == nil ? [] : ["replications", "precision_met"]
    var summary = CSVFile(
      header: ["point"] + sweptPaths + ["metric", "n", "mean", "stddev", "ci95_low", "ci95_high"] + precisionColumns)
    var intervals: [[ConfidenceInterval]] = []
    for point in plan.points {
      var row: [ConfidenceInterval] = []
      for (column, metric) in metrics.enumerated() {
        let s = statistics[point.index][column]
        let ci = ConfidenceInterval(
          count: s.count, mean: s.count > 0 ? s.mean : .nan, standardDeviation: s.standardDeviation)
        row.append(ci)
        let cells = [
          String(s.count), formatNumber(ci.mean), formatNumber(s.count > 1 ? s.standardDeviation : .nan),
          formatNumber(ci.lower), formatNumber(ci.upper),
        ]
        let standing =
          precision.isEmpty
          ? [] : [String(precision[point.index].replications), precision[point.index].met ? "1" : "0"]
        summary.append(
          [String(point.index)] + point.assignments.map(\.value.compactText) + [metric] + cells + standing)
      }
      intervals.append(row)
    }
    // Every CSV is written in full before any replaces its predecessor.
    let runsFile = try PendingFile(for: directory + "/runs.csv")
    try runsFile.write(runs.takeText())
    let summaryFile = try PendingFile(for: directory + "/summary.csv")
    try summaryFile.write(summary.takeText())
    try runsFile.commit()
    try summaryFile.commit()
    try seriesFile.commit()
    try writeAtomically(
      manifest(commandLine: commandLine, walls: walls, metrics: metrics, precision: precision, madeBy: madeBy),
      to: directory + "/manifest.json")
    return Summary(
      metrics: metrics, intervals: intervals,
      ranges: statistics.map { $0.map { $0.count > 0 ? ($0.minimum, $0.maximum) : (.nan, .nan) } },
      categories: categories,
      steady: tallies.map { $0.judged == 0 ? nil : $0.unsteady == 0 ? "yes" : "no" },
      steadyWarnings: zip(tallies, plan.points).compactMap { $0.warning(point: $1) },
      metricWarnings: unmatchedPatterns(reported: reported), precision: precision,
      precisionWarnings: plan.config.precision.map { target in
        zip(precision, plan.points).compactMap { $0.warning(point: $1, precision: target) }
      } ?? [], madeBy: madeBy)
  }

  func manifest(
    commandLine: [String], walls: [Double], metrics: [String], precision: [PointPrecision] = [],
    madeBy: [(commit: String, runs: Int)] = []
  ) -> String {
    let config = plan.config
    var out = "{\n"
    out += "  \"name\": \(jsonString(config.name)),\n"
    out += "  \"model\": \(jsonString(config.model.name)),\n"
    out += "  \"bdsim_version\": \(jsonString(BDSimVersion.string)),\n"
    out += "  \"bdsim_commit\": \(jsonString(BDSimVersion.commit)),\n"
    // The builds that made the records (--resume keeps records of earlier builds).
    let made = madeBy.map { "\(jsonString($0.commit)): \($0.runs)" }.joined(separator: ", ")
    out += "  \"records_made_by\": {\(made)},\n"
    out += "  \"config_git_commit\": \(gitCommit(of: config.file).map(jsonString) ?? "null"),\n"
    out += "  \"command_line\": [\(commandLine.map(jsonString).joined(separator: ", "))],\n"
    out += "  \"config_file\": \(jsonString(config.file)),\n"
    out += "  \"overrides\": [\(config.overrides.map(jsonString).joined(separator: ", "))],\n"
    out += "  \"config_sha256\": \(jsonString(plan.configDigest)),\n"
    out += "  \"config\": \(config.root.canonicalJSON),\n"
    out += "  \"seed\": \(config.seed),\n"
    out += "  \"seeds\": \(jsonString(config.seedMode.rawValue)),\n"
    out += "  \"replications\": \(config.replications),\n"
    out += "  \"points\": \(plan.points.count),\n"
    // What each column of runs.csv is (the model's catalog, bdsim models NAME).
    let catalog = config.model.catalog
    let units = metrics.map { "    \(jsonString($0)): \(MetricFormat.json(catalog.info($0)))" }
    out += "  \"metrics\": {\n" + units.joined(separator: ",\n") + (units.isEmpty ? "" : "\n") + "  },\n"
    // What plots/plot.py draws (the config's plots: with their defaults), when it declares any.
    if let spec = PlotSpec.json(config) { out += "  \"plot_spec\": \(spec),\n" }
    if let target = plan.config.precision {
      let kind: String
      let width: Double
      switch target.target {
      case .relative(let r): (kind, width) = ("relative_half_width", r)
      case .absolute(let a): (kind, width) = ("absolute_half_width", a)
      }
      out += "  \"precision\": {\"metric\": \(jsonString(target.metric)), \"\(kind)\": \(formatNumber(width)), "
      out += "\"max_replications\": \(target.maxReplications), \"batch\": \(target.batch), \"points\": [\n"
      out +=
        precision.map { p in
          let verdict: String
          switch p.verdict {
          case .met: verdict = "met"
          case .wide: verdict = "wide"
          case .missing: verdict = "missing"
          case .zeroMean: verdict = "zero_mean"
          }
          func number(_ x: Double) -> String { x.isFinite ? formatNumber(x) : "null" }
          return "    {\"point\": \(p.point), \"replications\": \(p.replications), \"n\": \(p.count), "
            + "\"mean\": \(number(p.mean)), \"half_width\": \(number(p.halfWidth)), \"met\": \(p.met), "
            + "\"verdict\": \"\(verdict)\"}"
        }.joined(separator: ",\n") + "\n  ]},\n"
    }
    out += "  \"runs\": [\n"
    let lines = zip(plan.runs, walls).map { run, wall -> String in
      return "    {\"run\": \(run.index), \"point\": \(run.point), \"replication\": \(run.replication), "
        + "\"seed\": \(run.seed), \"spec_sha256\": \(jsonString(run.specHash)), \"wall_s\": \(wall.isFinite ? formatNumber(wall) : "null")}"
    }
    out += lines.joined(separator: ",\n") + "\n  ]\n}\n"
    return out
  }
}

/// Rows of comma-separated values, RFC 4180 quoting, accumulated and handed out as text.
public struct CSVFile {
  private var text = ""

  public init(header: [String]) { append(header) }

  public mutating func append(_ fields: [String]) {
    text += fields.map(csvField).joined(separator: ",") + "\n"
  }

  public mutating func takeText() -> String {
    defer { text = "" }
    return text
  }
}

/// Matches `*` as any run of characters; everything else literally.
func globMatch(_ pattern: String, _ text: String) -> Bool { MetricInfo.glob(pattern, text) }

/// The commit of the git checkout the config file lies in, if there is one (and git to ask).
///
/// It is the config's, not bdsim's (that is ``BDSimVersion/commit``), and not the current
/// directory's: a config kept in a repository of experiments records that repository's commit.
func gitCommit(of configFile: String) -> String? {
  var directory = (configFile as NSString).deletingLastPathComponent
  if directory.isEmpty { directory = "." }
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = ["git", "-C", directory, "rev-parse", "HEAD"]
  let pipe = Pipe()
  process.standardOutput = pipe
  process.standardError = FileHandle.nullDevice
  do { try process.run() } catch { return nil }
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  guard process.terminationStatus == 0 else { return nil }
  let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  return text.count == 40 ? text : nil
}

/// An error of the experiments layer that is not about a config's text (missing runs, I/O).
public struct ExperimentError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
