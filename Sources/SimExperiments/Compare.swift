import Foundation
import SimKernel

/// `bdsim compare`: one metric side by side across result directories, across the levels of
/// one swept parameter, or between any two sweep points, with differences, ratios and percent
/// changes and their confidence intervals.
///
/// When two sets of runs used the same seeds replication by replication (common random numbers,
/// the default), the difference is taken run by run and its interval comes from the paired
/// differences, which is usually far narrower; otherwise Welch's unpaired interval is used.
///
/// The ratio is the ratio of the two means, mean(B) / mean(A), so that it agrees with the means
/// and the difference printed beside it; the percent change is 100 (ratio - 1). Its interval is
/// Fieller's, from the means' variances and (when paired) their covariance over replications,
/// with Student's t on the same degrees of freedom as the difference (n - 1 paired, Welch's
/// otherwise). Why not the others:
/// - the mean of per-replication ratios estimates another quantity (mean of B/A is not
///   mean(B)/mean(A): ratios 1/2 and 2/1 average to 1.25) and is dragged by any replication whose
///   baseline is near zero;
/// - the delta method's interval is symmetric and too narrow when the baseline's own interval is
///   wide relative to its mean, exactly when a ratio is least certain.
/// Fieller's interval is exact for normally distributed means (replication means are, nearly),
/// is asymmetric as a ratio's should be, and says "unbounded" when the baseline's mean is not
/// distinguishable from zero, where no finite interval is honest.
public enum Compare {
  /// One row of runs.csv: its replication, seed, swept values and the metric.
  struct Observation {
    var replication: Int
    var seed: String
    var value: Double
  }

  /// A ratio of means with its 95% interval; the bounds are infinite when it is unbounded.
  public struct Ratio: Sendable {
    public var estimate: Double
    public var lower: Double
    public var upper: Double

    /// The interval when the baseline's mean cannot be told from zero.
    public var unbounded: Bool { lower == -.infinity && upper == .infinity }
  }

  /// A comparison of one group against a baseline.
  public struct Difference: Sendable {
    public var interval: ConfidenceInterval
    public var paired: Bool
    /// mean(b) / mean(a) with Fieller's interval.
    public var ratio: Ratio
  }

  /// Fieller's 95% interval for `numerator / denominator`, two means with variances (of the
  /// means) `numeratorVariance`, `denominatorVariance` and covariance `covariance`, and t
  /// quantile `t`. Unbounded when the denominator's own interval contains zero; the estimate
  /// alone (NaN bounds) when there is no t (fewer than two replications).
  static func fieller(
    numerator: Double, denominator: Double, numeratorVariance: Double, denominatorVariance: Double,
    covariance: Double, t: Double
  ) -> Ratio {
    let estimate = numerator / denominator
    guard denominator != 0, estimate.isFinite else { return Ratio(estimate: .nan, lower: .nan, upper: .nan) }
    guard t.isFinite, numeratorVariance.isFinite, denominatorVariance.isFinite, covariance.isFinite else {
      return Ratio(estimate: estimate, lower: .nan, upper: .nan)
    }
    let d2 = denominator * denominator
    let g = t * t * denominatorVariance / d2
    guard g < 1 else { return Ratio(estimate: estimate, lower: -.infinity, upper: .infinity) }
    // The textbook form divides by the denominator's variance; this one does not, so a constant
    // baseline (variance 0) gives the plain interval of the numerator scaled by 1 / denominator.
    let centre = estimate - t * t * covariance / d2
    let discriminant =
      numeratorVariance - 2 * estimate * covariance + estimate * estimate * denominatorVariance
      - g * numeratorVariance + t * t * covariance * covariance / d2
    let half = t / abs(denominator) * max(0, discriminant).squareRoot()
    return Ratio(estimate: estimate, lower: (centre - half) / (1 - g), upper: (centre + half) / (1 - g))
  }

  /// Difference b - a and ratio b / a: paired when every replication of both has the same seed.
  static func difference(_ a: [Observation], _ b: [Observation]) -> Difference {
    let byReplication = Dictionary(a.map { ($0.replication, $0) }, uniquingKeysWith: { first, _ in first })
    let pairs = b.compactMap { x -> (a: Double, b: Double)? in
      guard let y = byReplication[x.replication], y.seed == x.seed else { return nil }
      return (y.value, x.value)
    }
    if pairs.count == a.count, pairs.count == b.count, pairs.count >= 2 {
      let n = Double(pairs.count)
      let meanA = pairs.map(\.a).reduce(0, +) / n
      let meanB = pairs.map(\.b).reduce(0, +) / n
      var varA = 0.0
      var varB = 0.0
      var cov = 0.0
      for p in pairs {
        varA += (p.a - meanA) * (p.a - meanA)
        varB += (p.b - meanB) * (p.b - meanB)
        cov += (p.a - meanA) * (p.b - meanB)
      }
      // Of the means: the sample (co)variances over n - 1, divided by n.
      let scale = 1 / ((n - 1) * n)
      let t = StudentT.quantile(probability: 0.975, degreesOfFreedom: n - 1)
      let ratio = fieller(
        numerator: meanB, denominator: meanA, numeratorVariance: varB * scale, denominatorVariance: varA * scale,
        covariance: cov * scale, t: t)
      return Difference(interval: ConfidenceInterval(samples: pairs.map { $0.b - $0.a }), paired: true, ratio: ratio)
    }
    var sa = RunningStatistics()
    var sb = RunningStatistics()
    for x in a { sa.add(x.value) }
    for x in b { sb.add(x.value) }
    let va = sa.variance / Double(sa.count)
    let vb = sb.variance / Double(sb.count)
    let se = (va + vb).squareRoot()
    let df = (va + vb) * (va + vb) / (va * va / Double(sa.count - 1) + vb * vb / Double(sb.count - 1))
    let t = df.isFinite && df > 0 ? StudentT.quantile(probability: 0.975, degreesOfFreedom: df) : .nan
    var interval = ConfidenceInterval(count: min(sa.count, sb.count), mean: sb.mean - sa.mean, standardDeviation: .nan)
    interval.halfWidth = t * se
    let ratio = fieller(
      numerator: sb.mean, denominator: sa.mean, numeratorVariance: vb, denominatorVariance: va, covariance: 0, t: t)
    return Difference(interval: interval, paired: false, ratio: ratio)
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

  /// Two sweep points to contrast, each as `KEY=VALUE` assignments (`--a ... --b ...`).
  public struct Contrast: Sendable {
    public var a: [String]
    public var b: [String]
    public init(a: [String], b: [String]) {
      self.a = a
      self.b = b
    }
  }

  /// A swept key as runs.csv names it: `servers` is `params.servers`.
  static func sweptKey(_ name: String) -> String { isSweptColumn(name) ? name : "params." + name }

  /// Whether a value written on the command line names a value of runs.csv (`2.0` is `2`).
  static func sameValue(_ given: String, _ recorded: String) -> Bool {
    if given == recorded { return true }
    if let x = Double(given), let y = Double(recorded) { return x == y }
    return false
  }

  /// `KEY=VALUE` arguments of `flag` read against the swept columns of `table`.
  static func assignments(_ items: [String], flag: String, table: Table) throws -> [(key: String, value: String)] {
    let example = "e.g. --a params.servers=1 --b params.servers=2"
    guard !items.isEmpty else { throw ExperimentError("\(flag) needs at least one KEY=VALUE (\(example))") }
    var result: [(key: String, value: String)] = []
    for item in items {
      guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
        throw ExperimentError("\(flag): '\(item)' is not KEY=VALUE (\(example))")
      }
      let key = sweptKey(String(item[..<equals]))
      let value = String(item[item.index(after: equals)...])
      guard table.sweptColumns.contains(key) else {
        var hint = "swept: \(table.sweptColumns.joined(separator: ", "))"
        if table.sweptColumns.isEmpty { hint = "nothing is swept there" }
        if let near = closestMatch(to: key, among: table.sweptColumns) { hint = "did you mean '\(near)'? " + hint }
        throw ExperimentError("\(flag): '\(key)' is not swept in \(table.directory) (\(hint))")
      }
      guard !result.contains(where: { $0.key == key }) else {
        throw ExperimentError("\(flag): '\(key)' is given twice (give each swept key once)")
      }
      result.append((key, value))
    }
    return result
  }

  /// The values `key` takes in `table`, in order of first appearance.
  static func levels(of key: String, in table: Table) -> [String] {
    guard let column = table.sweptColumns.firstIndex(of: key) else { return [] }
    var levels: [String] = []
    for group in table.groups where !levels.contains(group.label[column]) { levels.append(group.label[column]) }
    return levels
  }

  /// The comparison as a text table and as CSV.
  public static func run(
    directories: [String], metric: String, by parameter: String?, contrast: Contrast? = nil
  ) throws -> (text: String, csv: String) {
    if contrast != nil, parameter != nil {
      throw ExperimentError("--by and --a/--b cannot be combined (--by compares every level; --a/--b two points)")
    }
    if contrast != nil, directories.count > 2 {
      throw ExperimentError(
        "--a/--b take one result directory (both points from it) or two (A from the first, B from the second), "
          + "got \(directories.count)")
    }
    let tables = try directories.map { try load($0, metric: metric) }
    if contrast == nil, parameter == nil, let other = tables.first(where: { $0.sweptColumns != tables[0].sweptColumns })
    {
      func swept(_ table: Table) -> String {
        table.sweptColumns.isEmpty ? "nothing" : table.sweptColumns.joined(separator: ", ")
      }
      throw ExperimentError(
        "\(other.directory) sweeps \(swept(other)) but \(tables[0].directory) sweeps \(swept(tables[0])): directories "
          + "compared point by point must sweep the same keys (compare two points with --a KEY=VALUE... --b KEY=VALUE...)"
      )
    }
    var header: [String] = []
    var rows: [[String]] = []
    var preface = ""
    var csv = CSVFile(header: [
      "label", "group", "n", "mean", "ci95_low", "ci95_high", "diff", "diff_ci95_low", "diff_ci95_high", "paired",
      "ratio", "ratio_ci95_low", "ratio_ci95_high", "change_pct", "change_pct_ci95_low", "change_pct_ci95_high",
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
    func bounds(_ lower: Double, _ upper: Double, _ show: (Double) -> String) -> String {
      if lower == -.infinity && upper == .infinity { return " [unbounded]" }
      guard lower.isFinite, upper.isFinite else { return "" }
      return " [\(show(lower)), \(show(upper))]"
    }
    func ratioCell(_ d: Difference) -> String {
      let r = d.ratio
      guard r.estimate.isFinite else { return "-" }
      return SummaryTable.significant(r.estimate) + bounds(r.lower, r.upper, SummaryTable.significant)
    }
    func changeCell(_ d: Difference) -> String {
      let r = d.ratio
      guard r.estimate.isFinite else { return "-" }
      let percent = { (x: Double) in
        let text = SummaryTable.significant(100 * (x - 1))
        return x > 1 ? "+" + text : text
      }
      return percent(r.estimate) + "%" + bounds(r.lower, r.upper, percent)
    }
    /// The difference, ratio and change columns of one comparison, "-" when there is none.
    func comparisonCells(_ d: Difference?) -> [String] {
      guard let d else { return ["-", "-", "-"] }
      return [diffCell(d), ratioCell(d), changeCell(d)]
    }
    if let contrast {
      let tableA = tables[0]
      let tableB = tables.count == 2 ? tables[1] : tables[0]
      var a = try assignments(contrast.a, flag: "--a", table: tableA)
      var b = try assignments(contrast.b, flag: "--b", table: tableB)
      // A value neither side's table takes is the fault of the flag that wrote it.
      for (flag, written, table) in [("--a", a, tableA), ("--b", b, tableB)] {
        for (key, value) in written {
          let taken = levels(of: key, in: table)
          if !taken.contains(where: { sameValue(value, $0) }) {
            throw ExperimentError(
              "\(flag): no point of \(table.directory) has \(key)=\(value) (\(key) takes \(taken.joined(separator: ", ")))"
            )
          }
        }
      }
      // A key named on one side only is held at the same value on the other.
      for (key, value) in a where !b.contains(where: { $0.key == key }) {
        guard tableB.sweptColumns.contains(key) else {
          throw ExperimentError("--a: '\(key)' is not swept in \(tableB.directory), where --b's point is")
        }
        b.append((key, value))
      }
      for (key, value) in b where !a.contains(where: { $0.key == key }) {
        guard tableA.sweptColumns.contains(key) else {
          throw ExperimentError("--b: '\(key)' is not swept in \(tableA.directory), where --a's point is")
        }
        a.append((key, value))
      }
      // The keys named on neither side give one row per combination of their values.
      let context = tableA.sweptColumns.filter { key in !a.contains { $0.key == key } }
      let contextB = tableB.sweptColumns.filter { key in !b.contains { $0.key == key } }
      guard Set(context) == Set(contextB) else {
        throw ExperimentError(
          "--a/--b: \(tableA.directory) and \(tableB.directory) sweep different keys "
            + "(\(context.joined(separator: ", ")) against \(contextB.joined(separator: ", "))); "
            + "name each key that differs in --a or --b")
      }
      func matches(
        _ group: (label: [String], observations: [Observation]), _ table: Table,
        _ chosen: [(key: String, value: String)]
      ) -> Bool {
        chosen.allSatisfy { sameValue($0.value, group.label[table.sweptColumns.firstIndex(of: $0.key)!]) }
      }
      func contextValues(_ group: (label: [String], observations: [Observation]), _ table: Table) -> [String] {
        context.map { group.label[table.sweptColumns.firstIndex(of: $0)!] }
      }
      // Each side must name a point that exists: say which value is not taken, or which points are.
      for (flag, table, chosen) in [("--a", tableA, a), ("--b", tableB, b)] {
        guard !table.groups.contains(where: { matches($0, table, chosen) }) else { continue }
        let written = chosen.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        for (key, value) in chosen {
          let taken = levels(of: key, in: table)
          if !taken.contains(where: { sameValue(value, $0) }) {
            throw ExperimentError(
              "\(flag): no point of \(table.directory) has \(key)=\(value) (\(key) takes \(taken.joined(separator: ", ")))"
            )
          }
        }
        let existing = table.groups.map { g in
          chosen.map { "\($0.key)=\(g.label[table.sweptColumns.firstIndex(of: $0.key)!])" }.joined(separator: " ")
        }
        var distinct: [String] = []
        for point in existing where !distinct.contains(point) { distinct.append(point) }
        throw ExperimentError(
          "\(flag): no point of \(table.directory) has \(written) (excluded or zipped apart; points there: "
            + distinct.prefix(6).joined(separator: "; ") + (distinct.count > 6 ? "; ..." : "") + ")")
      }
      let nameA = a.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
      let nameB = b.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
      let whereA = tables.count == 2 ? "\(tableA.directory): " : ""
      let whereB = tables.count == 2 ? "\(tableB.directory): " : ""
      preface = "A: \(whereA)\(nameA)\nB: \(whereB)\(nameB)\n"
      header = context + ["A", "B", "diff B - A", "ratio B / A", "change B vs A"]
      var contexts: [[String]] = []
      for group in tableA.groups where matches(group, tableA, a) {
        let values = contextValues(group, tableA)
        if !contexts.contains(values) { contexts.append(values) }
      }
      for values in contexts {
        let base =
          tableA.groups.first { matches($0, tableA, a) && contextValues($0, tableA) == values }?.observations ?? []
        let other =
          tableB.groups.first { matches($0, tableB, b) && contextValues($0, tableB) == values }?.observations ?? []
        let d = other.isEmpty ? nil : difference(base, other)
        let label = values.joined(separator: " ")
        csv.append(csvRow(label: label, group: "A: \(whereA)\(nameA)", summary(base), nil))
        if !other.isEmpty { csv.append(csvRow(label: label, group: "B: \(whereB)\(nameB)", summary(other), d)) }
        rows.append(values + [cell(summary(base)), other.isEmpty ? "-" : cell(summary(other))] + comparisonCells(d))
      }
    } else if let parameter {
      let key = sweptKey(parameter)
      let table = tables[0]
      guard let column = table.sweptColumns.firstIndex(of: key) else {
        throw ExperimentError(
          "--by: '\(key)' is not swept in \(table.directory); swept: \(table.sweptColumns.joined(separator: ", "))")
      }
      let levels = levels(of: key, in: table)
      let others = table.sweptColumns.indices.filter { $0 != column }
      // One row per level, so that the table grows down, not across, with the levels.
      header =
        others.map { table.sweptColumns[$0] } + [
          key, "mean", "diff vs \(levels[0])", "ratio vs \(levels[0])", "change",
        ]
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
        let base = observations(levels[0])
        for level in levels {
          let own = observations(level)
          let ci = summary(own)
          let d = level != levels[0] ? difference(base, own) : nil
          csv.append(csvRow(label: context.joined(separator: " "), group: "\(key)=\(level)", ci, d))
          let comparison =
            level == levels[0] ? ["", "", ""] : comparisonCells(base.isEmpty || own.isEmpty ? nil : d)
          rows.append(context + [level, own.isEmpty ? "-" : cell(ci)] + comparison)
        }
      }
    } else {
      let first = tables[0]
      header = first.sweptColumns + ["directory", "mean", "diff vs \(first.directory)", "ratio", "change"]
      var labels: [[String]] = []
      for table in tables {
        for group in table.groups where !labels.contains(group.label) { labels.append(group.label) }
      }
      for label in labels {
        let base = first.groups.first { $0.label == label }?.observations ?? []
        for (index, table) in tables.enumerated() {
          let observations = table.groups.first { $0.label == label }?.observations ?? []
          let ci = summary(observations)
          let compared = table.directory != first.directory && !base.isEmpty && !observations.isEmpty
          let d = compared ? difference(base, observations) : nil
          csv.append(csvRow(label: label.joined(separator: " "), group: table.directory, ci, d))
          let comparison = index == 0 ? ["", "", ""] : comparisonCells(d)
          rows.append(label + [table.directory, observations.isEmpty ? "-" : cell(ci)] + comparison)
        }
      }
    }
    let text =
      preface + "\(metric): mean ± 95% CI half-width; ratio and change with Fieller's 95% interval\n"
      + TextTable.render(header: header, rows: rows)
    return (text, csv.takeText())
  }
}

/// One row of compare.csv: a group's interval, and its difference and ratio from the baseline if any.
private func csvRow(label: String, group: String, _ ci: ConfidenceInterval, _ d: Compare.Difference?) -> [String] {
  let own = [label, group, String(ci.count), formatNumber(ci.mean), formatNumber(ci.lower), formatNumber(ci.upper)]
  guard let d else { return own + Array(repeating: "", count: 10) }
  let r = d.ratio
  let percent = { (x: Double) in formatNumber(100 * (x - 1)) }
  return own + [
    formatNumber(d.interval.mean), formatNumber(d.interval.lower), formatNumber(d.interval.upper), String(d.paired),
    formatNumber(r.estimate), formatNumber(r.lower), formatNumber(r.upper),
    percent(r.estimate), percent(r.lower), percent(r.upper),
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
