import Foundation
import SimKernel
import SimModel

/// The operations behind `bdsim run`, `merge` and `verify`, on a result directory.
public enum Experiment {
  /// The file that records which config a result directory holds, written before any run.
  static let planFile = "experiment.json"

  /// Writes `DIR/experiment.json`: the normalised config, its file and overrides. Refuses a
  /// directory that holds results of a different config unless `replace` is set.
  public static func claim(_ directory: String, plan: ExperimentPlan, replace: Bool) throws {
    let path = directory + "/" + planFile
    if let existing = try? readPlanHeader(directory), existing.digest != plan.configDigest, !replace {
      throw ExperimentError(
        "\(directory) holds results of another config (sha256 \(existing.digest.prefix(12))...); "
          + "choose another --out, or delete the directory")
    }
    let text =
      "{\n  \"config_file\": \(jsonString(plan.config.file)),\n"
      + "  \"overrides\": [\(plan.config.overrides.map(jsonString).joined(separator: ", "))],\n"
      + "  \"config_sha256\": \(jsonString(plan.configDigest)),\n  \"config\": \(plan.config.root.canonicalJSON)\n}\n"
    try writeAtomically(text, to: path)
  }

  struct PlanHeader {
    var file: String
    var overrides: [String]
    var digest: String
    var config: ConfigNode
  }

  static func readPlanHeader(_ directory: String) throws -> PlanHeader {
    let path = directory + "/" + planFile
    guard let data = FileManager.default.contents(atPath: path),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let file = object["config_file"] as? String, let digest = object["config_sha256"] as? String,
      let overrides = object["overrides"] as? [String]
    else {
      throw ExperimentError("\(directory) is not a BDSim result directory (no readable \(planFile))")
    }
    // The config is canonical JSON, which is YAML: read it back with the config reader.
    let text = String(decoding: data, as: UTF8.self)
    let root = try YAMLLoader.parse(text, file: path)
    guard let config = root["config"] else { throw ExperimentError("\(path) has no config") }
    return PlanHeader(file: file, overrides: overrides, digest: digest, config: config)
  }

  /// Rebuilds the plan a result directory was made from.
  public static func plan(ofResults directory: String, models: ModelRegistry) throws -> ExperimentPlan {
    let header = try readPlanHeader(directory)
    let config = try ExperimentConfig.decode(
      header.config, file: header.file, models: models, overrides: header.overrides)
    let plan = try ExperimentPlan(config)
    guard plan.configDigest == header.digest else {
      throw ExperimentError("\(directory)/\(planFile) does not match its own digest: it was edited")
    }
    return plan
  }

  /// Copies the run records of shard directories into `output` and writes the result files.
  /// Every directory must hold the same config.
  public static func merge(
    _ directories: [String], into output: String, commandLine: [String], models: ModelRegistry
  ) throws -> (
    ExperimentPlan, Aggregator.Summary
  ) {
    guard let first = directories.first else { throw ExperimentError("merge needs at least one directory") }
    let plan = try plan(ofResults: first, models: models)
    for directory in directories.dropFirst() {
      let other = try readPlanHeader(directory)
      guard other.digest == plan.configDigest else {
        throw ExperimentError(
          "\(directory) holds another config than \(first) (sha256 differs); only shards of one experiment merge")
      }
    }
    try makeDirectories(output + "/runs")
    for directory in Set(directories + [output]) { TemporaryFiles.removeStale(in: directory) }
    if !directories.contains(output) { try claim(output, plan: plan, replace: false) }
    // With precision: the rounds' runs are known only round by round, from the records: copy
    // every record that belongs to a run the cap allows, then replay the rounds.
    let candidates =
      plan.config.precision == nil
      ? plan
      : plan.withReplications(
        [Int](repeating: plan.replicationCap, count: plan.points.count))
    for run in candidates.runs {
      if let present = RunRecord.read(run: run.index, from: output), present.specHash == run.specHash { continue }
      for directory in directories where directory != output {
        if let record = RunRecord.read(run: run.index, from: directory), record.specHash == run.specHash {
          try record.write(to: output)
          break
        }
      }
    }
    let (decided, missing) = replayed(plan, directory: output)
    let aggregator = Aggregator(plan: decided, directory: output)
    guard missing.isEmpty else {
      let rerun =
        ["bdsim", "run", plan.config.file, "--out", output, "--resume"]
        + plan.config.overrides.flatMap { ["--set", $0] }
      throw ExperimentError(
        "\(output): error: \(missing.count) of \(decided.runs.count) runs have no result in "
          + (directories.count == 1 ? "it" : "any of the \(directories.count) directories") + ": "
          + runList(missing) + " (run them with: \(rerun.map(shellQuote).joined(separator: " ")), "
          + "which also writes the result files; or re-run the shards that hold them, then merge again)")
    }
    return (decided, try aggregator.write(commandLine: commandLine))
  }

  /// Re-runs every run of a result directory from its recorded config and compares the CSVs
  /// byte for byte. Returns the names of the files that differ (empty: verified).
  public static func verify(_ directory: String, jobs: Int, models: ModelRegistry) throws -> [String] {
    let plan = try plan(ofResults: directory, models: models)
    let scratch = NSTemporaryDirectory() + "bdsim-verify-\(ProcessInfo.processInfo.processIdentifier)"
    try? FileManager.default.removeItem(atPath: scratch)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let execution = try execute(plan, directory: scratch, jobs: jobs)
    try Aggregator(plan: execution.plan, directory: scratch).write(commandLine: [])
    var differing: [String] = []
    for file in ["runs.csv", "summary.csv", "timeseries.csv"] {
      let original = FileManager.default.contents(atPath: directory + "/" + file)
      let again = FileManager.default.contents(atPath: scratch + "/" + file)
      if original == nil || original != again { differing.append(file) }
    }
    return differing
  }
}

/// Run indices as ranges: "run 4", "runs 3-5, 9".
public func runList(_ runs: [Int]) -> String {
  var parts: [String] = []
  var i = 0
  let sorted = runs.sorted()
  while i < sorted.count {
    var j = i
    while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
    parts.append(j == i ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
    i = j + 1
  }
  return (sorted.count == 1 ? "run " : "runs ") + parts.joined(separator: ", ")
}

/// A word as the shell reads it: unquoted if it is safe, else in single quotes.
public func shellQuote(_ word: String) -> String {
  if !word.isEmpty && word.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:,+".contains($0) }) { return word }
  return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// The table printed at the end of a run: swept parameters, then key metrics as mean ± CI
/// half-width in their units (``MetricFormat``), in blocks that fit `width`.
public enum SummaryTable {
  /// - Parameters:
  ///   - metrics: patterns of the metrics to show (`bdsim run --metrics`; `all` for every one);
  ///     nil: the first `maximumMetrics` of `outputs.metrics` if the config lists them, else the
  ///     model's headline metrics.
  ///   - width: the widest a line may be; wider tables are split into blocks of columns, each
  ///     repeating the swept parameters.
  public static func render(
    plan: ExperimentPlan, summary: Aggregator.Summary, metrics patterns: [String]? = nil, maximumMetrics: Int = 6,
    width: Int = 120
  ) -> String {
    var shown: [Int]
    if let patterns {
      shown =
        patterns == ["all"]
        ? Array(summary.metrics.indices)
        : summary.metrics.indices.filter { i in patterns.contains { globMatch($0, summary.metrics[i]) } }
    } else if plan.config.outputs.metrics.isEmpty {
      let headline = plan.config.model.headlineMetrics
      let rank = { (i: Int) in headline.firstIndex { globMatch($0, summary.metrics[i]) } ?? headline.count }
      shown = summary.metrics.indices.filter { rank($0) < headline.count }.sorted { (rank($0), $0) < (rank($1), $1) }
      if shown.isEmpty { shown = Array(summary.metrics.indices) }
    } else {
      shown = Array(summary.metrics.indices)
    }
    // The steady-state verdict is a column of its own, not a metric among the others.
    shown.removeAll { Aggregator.alwaysKept.contains(summary.metrics[$0]) }
    let available = shown.count
    if patterns == nil { shown = Array(shown.prefix(maximumMetrics)) }
    let judged = summary.steady.contains { $0 != nil }
    let catalog = plan.config.model.catalog
    let keys = plan.config.sweep.paths.map { $0.hasPrefix("params.") ? String($0.dropFirst(7)) : $0 }
    let keyRows = plan.points.map { point in point.assignments.map(\.value.compactText) }
    var columns: [(header: String, cells: [String])] = shown.map { m in
      let info = catalog.info(summary.metrics[m])
      return (
        summary.metrics[m],
        plan.points.map { point in
          MetricFormat.cell(
            info, interval: summary.intervals[point.index][m],
            range: summary.ranges.isEmpty ? (.nan, .nan) : summary.ranges[point.index][m],
            categories: summary.categories.isEmpty ? [:] : summary.categories[point.index][m])
        }
      )
    }
    if judged { columns.append(("steady", plan.points.map { summary.steady[$0.index] ?? "-" })) }
    if let precise = plan.config.precision.flatMap({ summary.precision.isEmpty ? nil : $0 }) {
      columns.append(("reps", plan.points.map { String(summary.precision[$0.index].replications) }))
      columns.append(
        (
          "±\(precise.metric)",
          plan.points.map { point in
            let standing = summary.precision[point.index]
            return "\(standing.reached(precise.target)) (\(standing.met ? "met" : "not met"))"
          }
        ))
    }
    // Blocks of columns, each as wide as fits after the swept parameters' columns.
    let keyWidth = keys.indices.reduce(0) { total, k in
      total + 2 + max(keys[k].count, keyRows.map { $0[k].count }.max() ?? 0)
    }
    var blocks: [[Int]] = [[]]
    var used = keyWidth
    for (c, column) in columns.enumerated() {
      let w = 2 + max(column.header.count, column.cells.map(\.count).max() ?? 0)
      if !blocks[blocks.count - 1].isEmpty, used + w > width {
        blocks.append([])
        used = keyWidth
      }
      blocks[blocks.count - 1].append(c)
      used += w
    }
    var parts: [String] = []
    for block in blocks {
      let header = keys + block.map { columns[$0].header }
      let rows = plan.points.indices.map { p in keyRows[p] + block.map { columns[$0].cells[p] } }
      parts.append(TextTable.render(header: header, rows: rows))
    }
    var table = parts.joined(separator: "\n\n")
    if patterns == nil, available > shown.count {
      table +=
        "\n(\(available - shown.count) more metrics in summary.csv; --metrics all, or --metrics PATTERN,... to show them)"
    }
    for pattern in patterns ?? [] where pattern != "all" && !summary.metrics.contains(where: { globMatch(pattern, $0) })
    {
      let near = closestMatch(to: pattern, among: summary.metrics).map { " (did you mean '\($0)'?)" } ?? ""
      table += "\n--metrics: '\(pattern)' matches no metric of these results\(near)"
    }
    for warning in summary.steadyWarnings { table += "\nnot steady: " + warning }
    for warning in summary.precisionWarnings { table += "\nnot precise: " + warning }
    return table
  }

  /// Four significant digits, no exponent for everyday magnitudes.
  public static func significant(_ value: Double) -> String {
    guard value.isFinite else { return value.isNaN ? "-" : "\(value)" }
    if value == 0 { return "0" }
    let magnitude = abs(value)
    if magnitude >= 1e7 || magnitude < 1e-4 { return String(format: "%.3e", value) }
    let decimals = max(0, 3 - Int(floor(log10(magnitude))))
    return String(format: "%.\(decimals)f", value)
  }
}

/// Plain-text tables with aligned columns.
public enum TextTable {
  public static func render(header: [String], rows: [[String]]) -> String {
    var widths = header.map(\.count)
    for row in rows {
      for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
    }
    func line(_ cells: [String]) -> String {
      var text = cells.enumerated().map { i, cell in
        cell + String(repeating: " ", count: max(0, widths[i] - cell.count))
      }
      .joined(separator: "  ")
      while text.hasSuffix(" ") { text.removeLast() }
      return text
    }
    var lines = [line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
    lines += rows.map(line)
    return lines.joined(separator: "\n")
  }
}
