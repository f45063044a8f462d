import Foundation
import SimKernel

/// `bdsim compare`: one metric side by side across result directories, or across the levels of
/// one swept parameter, with differences and their confidence intervals.
///
/// When two sets of runs used the same seeds replication by replication (common random numbers,
/// the default), the difference is taken run by run and its interval comes from the paired
/// differences, which is usually far narrower; otherwise Welch's unpaired interval is used.
public enum Compare {
  /// One row of runs.csv: its replication, seed, swept values and the metric.
  struct Observation {
    var replication: Int
    var seed: String
    var value: Double
  }

  /// A comparison of one group against a baseline.
  public struct Difference: Sendable {
    public var interval: ConfidenceInterval
    public var paired: Bool
  }

  /// Difference b - a: paired when every replication of both has the same seed.
  static func difference(_ a: [Observation], _ b: [Observation]) -> Difference {
    let byReplication = Dictionary(a.map { ($0.replication, $0) }, uniquingKeysWith: { first, _ in first })
    let pairs = b.compactMap { x -> Double? in
      guard let y = byReplication[x.replication], y.seed == x.seed else { return nil }
      return x.value - y.value
    }
    if pairs.count == a.count, pairs.count == b.count, pairs.count >= 2 {
      return Difference(interval: ConfidenceInterval(samples: pairs), paired: true)
    }
    var sa = RunningStatistics()
    var sb = RunningStatistics()
    for x in a { sa.add(x.value) }
    for x in b { sb.add(x.value) }
    let va = sa.variance / Double(sa.count)
    let vb = sb.variance / Double(sb.count)
    let se = (va + vb).squareRoot()
    let df = (va + vb) * (va + vb) / (va * va / Double(sa.count - 1) + vb * vb / Double(sb.count - 1))
    let half = df.isFinite && df > 0 ? StudentT.quantile(probability: 0.975, degreesOfFreedom: df) * se : .nan
    var interval = ConfidenceInterval(count: min(sa.count, sb.count), mean: sb.mean - sa.mean, standardDeviation: .nan)
    interval.halfWidth = half
    return Difference(interval: interval, paired: false)
  }

  struct Table {
    var directory: String
    var sweptColumns: [String]
    /// Observations per label (the swept values joined), in order of first appearance.
    var groups: [(label: [String], observations: [Observation])]
  }

  static func load(_ directory: String, metric: String) throws -> Table {
    let path = directory + "/runs.csv"
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ExperimentError("no \(path): is \(directory) a result directory of bdsim run?")
    }
    let rows = parseCSV(String(decoding: data, as: UTF8.self))
    guard let header = rows.first, let replicationColumn = header.firstIndex(of: "replication"),
      let seedColumn = header.firstIndex(of: "seed")
    else { throw ExperimentError("\(path) is not a runs.csv") }
    guard let metricColumn = header.firstIndex(of: metric) else {
      let metrics = Array(header.dropFirst(4))
      var hint = ""
      if let near = closestMatch(to: metric, among: metrics) { hint = "; did you mean '\(near)'?" }
      throw ExperimentError("no metric '\(metric)' in \(path)\(hint)")
    }
    // Swept columns sit between seed and the first metric; a metric name has a dot or is known.
    let sweptColumns = Array(header[(seedColumn + 1)...]).prefix { isSweptColumn($0) }
    var table = Table(directory: directory, sweptColumns: Array(sweptColumns), groups: [])
    for row in rows.dropFirst() where row.count == header.count {
      let label = sweptColumns.indices.map { row[seedColumn + 1 + $0 - sweptColumns.startIndex] }
      let observation = Observation(
        replication: Int(row[replicationColumn]) ?? 0, seed: row[seedColumn], value: Double(row[metricColumn]) ?? .nan)
      if let i = table.groups.firstIndex(where: { $0.label == label }) {
        table.groups[i].observations.append(observation)
      } else {
        table.groups.append((label, [observation]))
      }
    }
    return table
  }

  /// The comparison as a text table and as CSV.
  public static func run(directories: [String], metric: String, by parameter: String?) throws -> (
    text: String, csv: String
  ) {
    let tables = try directories.map { try load($0, metric: metric) }
    var header: [String] = []
    var rows: [[String]] = []
    var csv = CSVFile(header: [
      "label", "group", "n", "mean", "ci95_low", "ci95_high", "diff", "diff_ci95_low", "diff_ci95_high", "paired",
    ])
    func summary(_ observations: [Observation]) -> ConfidenceInterval {
      ConfidenceInterval(samples: observations.map(\.value).filter(\.isFinite))
    }
    func cell(_ ci: ConfidenceInterval) -> String {
      ci.halfWidth.isFinite
        ? "\(SummaryTable.significant(ci.mean)) ± \(SummaryTable.significant(ci.halfWidth))"
        : SummaryTable.significant(ci.mean)
    }
    func diffCell(_ d: Difference) -> String {
      cell(d.interval) + (d.paired ? " (paired)" : "")
    }
    if let parameter {
      let key = isSweptColumn(parameter) ? parameter : "params." + parameter
      let table = tables[0]
      guard let column = table.sweptColumns.firstIndex(of: key) else {
        throw ExperimentError(
          "'\(key)' is not swept in \(table.directory); swept: \(table.sweptColumns.joined(separator: ", "))")
      }
      var levels: [String] = []
      for group in table.groups where !levels.contains(group.label[column]) { levels.append(group.label[column]) }
      let others = table.sweptColumns.indices.filter { $0 != column }
      header =
        others.map { table.sweptColumns[$0] } + levels.map { "\(key)=\($0)" }
        + levels.dropFirst().map { "diff vs \(levels[0]) at \($0)" }
      var contexts: [[String]] = []
      for group in table.groups {
        let context = others.map { group.label[$0] }
        if !contexts.contains(context) { contexts.append(context) }
      }
      for context in contexts {
        func observations(_ level: String) -> [Observation] {
          table.groups.first { g in g.label[column] == level && others.map { g.label[$0] } == context }?.observations
            ?? []
        }
        var row = context
        let base = observations(levels[0])
        for level in levels {
          let ci = summary(observations(level))
          row.append(cell(ci))
          let d = level != levels[0] ? difference(base, observations(level)) : nil
          csv.append(csvRow(label: context.joined(separator: " "), group: "\(key)=\(level)", ci, d))
        }
        for level in levels.dropFirst() { row.append(diffCell(difference(base, observations(level)))) }
        rows.append(row)
      }
    } else {
      let first = tables[0]
      header =
        first.sweptColumns + tables.map(\.directory)
        + tables.dropFirst().map { "diff \($0.directory) - \(first.directory)" }
      var labels: [[String]] = []
      for table in tables {
        for group in table.groups where !labels.contains(group.label) { labels.append(group.label) }
      }
      for label in labels {
        var row = label
        let base = first.groups.first { $0.label == label }?.observations ?? []
        for table in tables {
          let observations = table.groups.first { $0.label == label }?.observations ?? []
          let ci = summary(observations)
          row.append(observations.isEmpty ? "-" : cell(ci))
          let compared = table.directory != first.directory && !base.isEmpty && !observations.isEmpty
          let d = compared ? difference(base, observations) : nil
          csv.append(csvRow(label: label.joined(separator: " "), group: table.directory, ci, d))
        }
        for table in tables.dropFirst() {
          let observations = table.groups.first { $0.label == label }?.observations ?? []
          row.append(base.isEmpty || observations.isEmpty ? "-" : diffCell(difference(base, observations)))
        }
        rows.append(row)
      }
    }
    let text = "\(metric): mean ± 95% CI half-width\n" + TextTable.render(header: header, rows: rows)
    return (text, csv.takeText())
  }
}

/// One row of compare.csv: a group's interval, and its difference from the baseline if any.
private func csvRow(label: String, group: String, _ ci: ConfidenceInterval, _ d: Compare.Difference?) -> [String] {
  let own = [label, group, String(ci.count), formatNumber(ci.mean), formatNumber(ci.lower), formatNumber(ci.upper)]
  guard let d else { return own + ["", "", "", ""] }
  return own + [
    formatNumber(d.interval.mean), formatNumber(d.interval.lower), formatNumber(d.interval.upper), String(d.paired),
  ]
}

/// Splits CSV text into rows of fields (RFC 4180 quoting).
func parseCSV(_ text: String) -> [[String]] {
  var rows: [[String]] = []
  var row: [String] = []
  var field = ""
  var quoted = false
  // Inside a quoted field, a quote is either the first of an escaped pair or the closing one.
  var pendingQuote = false
  for c in text {
    if quoted {
      if pendingQuote {
        pendingQuote = false
        if c == "\"" {
          field.append("\"")
          continue
        }
        quoted = false  // that quote closed the field; c is read below as unquoted text
      } else {
        if c == "\"" { pendingQuote = true } else { field.append(c) }
        continue
      }
    }
    switch c {
    case "\"": quoted = true
    case ",":
      row.append(field)
      field = ""
    case "\n", "\r\n":
      row.append(field)
      rows.append(row)
      row = []
      field = ""
    default: field.append(c)
    }
  }
  if !field.isEmpty || !row.isEmpty || quoted {
    row.append(field)
    rows.append(row)
  }
  return rows
}

/// Whether a runs.csv column is a swept key (they sit between `seed` and the metrics).
func isSweptColumn(_ name: String) -> Bool {
  name.hasPrefix("params.") || name.hasPrefix("platform.") || name.hasPrefix("faults") || name == "duration"
    || name == "warmup"
}
