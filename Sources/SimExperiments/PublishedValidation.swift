import Foundation
import SimKernel
import SimModel

/// A published measurement's value as a config writes it: a plain number (`821557`, `0.96`), a
/// percentage (`43.9%`, held as the fraction 0.439) or a duration (`45.5ms`, held in seconds).
public struct PublishedValue: Sendable, Equatable {
  public enum Unit: Sendable, Equatable {
    case number
    case percent
    case duration
  }

  /// In base units: seconds for a duration, a fraction for a percentage.
  public var value: Double
  public var unit: Unit

  public init(value: Double, unit: Unit) {
    self.value = value
    self.unit = unit
  }

  static let example = "write a number (0.96, 821557), a percentage (43.9%) or a duration (45.5ms)"

  /// Reads `821557`, `0.96`, `43.9%` or `45.5ms`. Numbers must be finite; durations lie within the
  /// clock's 292 years (``QuantityKind/duration``).
  public static func parse(_ text: String) throws(ValueError) -> PublishedValue {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if trimmed.hasSuffix("%") {
      guard let number = Double(trimmed.dropLast().trimmingCharacters(in: .whitespaces)), number.isFinite else {
        throw ValueError("'\(trimmed)' is not a percentage", hint: example)
      }
      return PublishedValue(value: number / 100, unit: .percent)
    }
    if let number = Double(trimmed) {
      guard number.isFinite else { throw ValueError("'\(trimmed)' is not a finite number", hint: example) }
      return PublishedValue(value: number, unit: .number)
    }
    // A leading digit and a unit: a duration, or nothing.
    guard trimmed.first.map({ $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" }) == true else {
      throw ValueError("'\(trimmed)' is not a number, a percentage or a duration", hint: example)
    }
    do { return PublishedValue(value: try Quantity.parse(trimmed, as: .duration), unit: .duration) } catch {
      throw ValueError("'\(trimmed)' is not a number, a percentage or a duration: \(error.message)", hint: example)
    }
  }

  /// Whether a tolerance written as `other` measures the same thing (durations against durations;
  /// numbers and percentages are both plain numbers).
  func isComparable(with other: Unit) -> Bool { (unit == .duration) == (other == .duration) }

  /// A value of this unit as the tables print it: a duration in the unit the published value reads
  /// best in (us, ms or s), a percentage as a percentage, a number with four significant digits.
  /// `trimmed` drops trailing zeros (`20ms`, not `20.00ms`), for the numbers a config wrote.
  func format(_ x: Double, trimmed: Bool = false) -> String {
    guard x.isFinite else { return "-" }
    func digits(_ y: Double) -> String {
      var text = SummaryTable.significant(y)
      if trimmed, text.contains("."), !text.contains("e") {
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
      }
      return text
    }
    switch unit {
    case .number: return digits(x)
    case .percent: return digits(100 * x) + "%"
    case .duration:
      let magnitude = abs(value)
      let (scale, symbol) = magnitude != 0 && magnitude < 1e-3 ? (1e6, "us") : magnitude < 1 ? (1e3, "ms") : (1, "s")
      return digits(x * scale) + symbol
    }
  }
}

/// How far from the published value a simulated mean may lie and still pass.
public enum PublishedTolerance: Sendable, Equatable {
  /// A fraction of the published value (`tolerance: 20%` is 0.2).
  case relative(Double)
  /// A distance in the value's own units (`tolerance_absolute: 0.02`, `2%` or `1ms`).
  case absolute(Double)

  /// The widest relative tolerance: 100% accepts anything from zero to twice the published value,
  /// and a wider one judges nothing.
  public static let maximumRelative = 1.0
}

/// One comparison of a simulated metric with a published number.
public struct PublishedCheck: Sendable {
  public var name: String
  public var metric: String
  /// The sweep point whose mean is compared.
  public var point: Int
  /// With `relative_to`: the point whose mean divides the first one's.
  public var baseline: Int?
  public var published: PublishedValue
  public var tolerance: PublishedTolerance
  /// The point a constant was fitted to: shown, not counted as a prediction.
  public var calibrated: Bool
  /// Where `metric` is written, for an error if the runs do not report it.
  public var metricLocation: SourceLocation
  public var keyPath: String
  /// With `relative_to_metric`: the metric whose mean (at the `relative_to` point, else at the
  /// same point) divides the first one's: a ratio of two metrics, such as first to later
  /// iteration times.
  public var baselineMetric: String? = nil
  public var baselineMetricLocation: SourceLocation? = nil

  /// A ratio of two points' means is a plain number whatever the metric measures.
  public var unit: PublishedValue.Unit { published.unit }
}

/// The `published:` section of an experiment: the measurements of a real system the experiment
/// reproduces, and how close the simulation must come (see docs/VALIDATION.md).
public struct PublishedSection: Sendable {
  /// The publication cited.
  public var source: String
  /// Which constant was fitted to which single published number, or "none".
  public var calibration: String
  public var checks: [PublishedCheck]

  /// The most checks one experiment may have: each is a row of the validation table, and a
  /// published result with more numbers than this is several results (one YAML each).
  public static let maximumChecks = 100

  /// Reads and checks the section against the experiment's sweep and kept metrics: every check
  /// selects exactly one sweep point (two with `relative_to`) and names a metric the experiment keeps.
  init(_ node: ConfigNode, sweep: Sweep, metricPatterns: [String]) throws(ConfigError) {
    var reader = try ConfigReader(node, path: "published")
    for key in ["source", "calibration", "checks"] { _ = reader.has(key) }
    try reader.finish()
    source = try reader.string("source").trimmingCharacters(in: .whitespaces)
    guard !source.isEmpty else {
      throw reader.error("source", "the source is empty", hint: "cite the publication: authors, title, venue, year")
    }
    calibration = try reader.string("calibration").trimmingCharacters(in: .whitespaces)
    guard !calibration.isEmpty else {
      throw reader.error(
        "calibration", "the calibration is empty",
        hint: "say which constant was fitted to which single published number, or write 'none'")
    }
    guard reader.has("checks") else {
      throw reader.error(
        nil, "missing required key 'checks'", hint: "add e.g. 'checks: [{name: ..., metric: ..., ...}]'")
    }
    let items = try reader.list("checks")
    guard !items.isEmpty else {
      throw reader.error("checks", "the list of checks is empty", hint: "give at least one check")
    }
    guard items.count <= Self.maximumChecks else {
      throw reader.error(
        "checks", "\(items.count) checks are more than the \(Self.maximumChecks) an experiment may have",
        hint: "a published result with more numbers than that is several results: one YAML each")
    }
    let points = sweep.points()
    var checks: [PublishedCheck] = []
    for (i, item) in items.enumerated() {
      let check = try Self.readCheck(
        item, path: "published.checks.\(i)", sweep: sweep, points: points,
        metricPatterns: metricPatterns)
      if let earlier = checks.first(where: { $0.name == check.name }) {
        throw ConfigError(
          location: item["name"]?.location ?? item.location, keyPath: "published.checks.\(i).name",
          message: "the check name '\(check.name)' is used twice",
          hint: "\(earlier.keyPath) has it: name each check apart")
      }
      if check.calibrated, calibration.lowercased() == "none" {
        throw ConfigError(
          location: item["calibrated"]?.location ?? item.location, keyPath: "published.checks.\(i).calibrated",
          message: "the check is marked calibrated, but published.calibration is 'none'",
          hint: "state the calibration: which constant was fitted to this number")
      }
      checks.append(check)
    }
    self.checks = checks
  }

  static let checkKeys = [
    "name", "metric", "where", "relative_to", "relative_to_metric", "published", "tolerance", "tolerance_absolute",
    "calibrated",
  ]

  static func readCheck(
    _ node: ConfigNode, path: String, sweep: Sweep, points: [Sweep.Point], metricPatterns: [String]
  ) throws(ConfigError) -> PublishedCheck {
    var reader = try ConfigReader(node, path: path)
    guard !node.isNull else {
      throw ConfigError(
        location: node.location, keyPath: path, message: "the check is empty",
        hint: "give name, metric, published and tolerance")
    }
    for key in checkKeys { _ = reader.has(key) }
    try reader.finish()
    /// A required key's text; missing, an example of what it takes.
    func text(_ key: String, _ what: String, example: String) throws(ConfigError) -> String {
      guard reader.has(key) else {
        throw reader.error(nil, "missing required key '\(key)' (\(what))", hint: "add e.g. '\(key): \(example)'")
      }
      return try reader.string(key)
    }
    let name = try text("name", "what the check compares", example: "\"3x replication acks=1 / no replication\"")
      .trimmingCharacters(in: .whitespaces)
    guard !name.isEmpty else { throw reader.error("name", "the check's name is empty") }
    /// A metric the check names (`metric`, `relative_to_metric`): one, in full, kept by the experiment.
    func checked(_ key: String, _ metric: String) throws(ConfigError) -> String {
      if metric.contains("*") {
        throw reader.error(
          key, "'\(metric)' is a pattern; a check compares one metric", hint: "name the metric in full")
      }
      if let problem = ExperimentConfig.metricPatternProblem(metric) {
        throw reader.error(key, problem.message, hint: problem.hint)
      }
      if !metricPatterns.isEmpty, !metricPatterns.contains(where: { globMatch($0, metric) }) {
        var hint = "add it to outputs.metrics"
        if let near = closestMatch(to: metric, among: metricPatterns) { hint = "did you mean '\(near)'? or " + hint }
        throw reader.error(key, "outputs.metrics does not keep '\(metric)'", hint: hint)
      }
      return metric
    }
    let metric = try checked(
      "metric", try text("metric", "the simulated metric", example: "broker.produce_throughput_records"))
    var baselineMetric: String?
    if reader.has("relative_to_metric") {
      baselineMetric = try checked("relative_to_metric", try reader.string("relative_to_metric"))
    }
    let publishedText = try text("published", "the published value", example: "0.96, 43.9% or 45.5ms")
    let published: PublishedValue
    do { published = try PublishedValue.parse(publishedText) } catch {
      throw reader.error("published", error.message, hint: error.hint)
    }
    let tolerance = try readTolerance(&reader, published: published)
    let calibrated = try reader.bool("calibrated", default: false)
    let whereNode = reader.node("where")
    let point = try select(whereNode, key: "where", path: path, in: reader, sweep: sweep, points: points)
    var baseline: Int?
    if let relative = reader.node("relative_to") {
      let other = try select(relative, key: "relative_to", path: path, in: reader, sweep: sweep, points: points)
      guard other != point || (baselineMetric != nil && baselineMetric != metric) else {
        throw reader.error(
          "relative_to", "relative_to selects the same point as where, so the ratio is 1",
          hint: "select the point the published ratio divides by")
      }
      baseline = other
    }
    if baselineMetric == metric, baseline == nil {
      throw reader.error(
        "relative_to_metric", "relative_to_metric names the check's own metric at the same point, so the ratio is 1",
        hint: "name the metric the published ratio divides by, or select another point with relative_to")
    }
    func location(_ key: String) -> SourceLocation? { node.entries?.first { $0.key == key }?.value.location }
    return PublishedCheck(
      name: name, metric: metric, point: point, baseline: baseline, published: published, tolerance: tolerance,
      calibrated: calibrated, metricLocation: location("metric") ?? node.location, keyPath: path,
      baselineMetric: baselineMetric, baselineMetricLocation: location("relative_to_metric"))
  }

  /// `tolerance: 20%` (relative, above 0% and at most 100%) or `tolerance_absolute: 0.02`
  /// (positive, in the published value's units), exactly one of them.
  static func readTolerance(_ reader: inout ConfigReader, published: PublishedValue) throws(ConfigError)
    -> PublishedTolerance
  {
    let hasRelative = reader.has("tolerance")
    let hasAbsolute = reader.has("tolerance_absolute")
    if hasRelative && hasAbsolute {
      throw reader.error(
        "tolerance_absolute", "both tolerance and tolerance_absolute are given",
        hint: "keep one: tolerance is relative to the published value (20%), tolerance_absolute is in its units")
    }
    if hasRelative {
      let text = try reader.string("tolerance").trimmingCharacters(in: .whitespaces)
      guard text.hasSuffix("%"), let percent = Double(text.dropLast().trimmingCharacters(in: .whitespaces)),
        percent.isFinite
      else {
        throw reader.error(
          "tolerance", "'\(text)' is not a percentage",
          hint: "write the relative tolerance as a percentage (20%), or an absolute one as tolerance_absolute: \(text)")
      }
      guard percent > 0, percent / 100 <= PublishedTolerance.maximumRelative else {
        throw reader.error(
          "tolerance", "\(text) is out of range: expected more than 0% and at most 100%",
          hint: "100% already accepts anything from zero to twice the published value")
      }
      guard published.value != 0 else {
        throw reader.error(
          "tolerance", "the published value is 0, so a relative tolerance accepts only 0",
          hint: "give tolerance_absolute instead")
      }
      return .relative(percent / 100)
    }
    guard hasAbsolute else {
      throw reader.error(
        nil, "missing 'tolerance' (or 'tolerance_absolute')",
        hint: "add e.g. 'tolerance: 20%' (relative to the published value) or 'tolerance_absolute: 0.02'")
    }
    let text = try reader.string("tolerance_absolute")
    let value: PublishedValue
    do { value = try PublishedValue.parse(text) } catch {
      throw reader.error("tolerance_absolute", error.message, hint: error.hint)
    }
    guard published.isComparable(with: value.unit) else {
      throw reader.error(
        "tolerance_absolute",
        published.unit == .duration
          ? "the published value is a duration, so the tolerance must be one" : "the published value is not a duration",
        hint: published.unit == .duration ? "e.g. tolerance_absolute: 1ms" : "e.g. tolerance_absolute: 0.02 or 2%")
    }
    guard value.value > 0 else {
      throw reader.error("tolerance_absolute", "the tolerance must be positive, got '\(text)'")
    }
    return .absolute(value.value)
  }

  /// The one sweep point a `where` (or `relative_to`) mapping selects; without one, the
  /// experiment's only point.
  static func select(
    _ node: ConfigNode?, key: String, path: String, in reader: ConfigReader, sweep: Sweep, points: [Sweep.Point]
  ) throws(ConfigError) -> Int {
    let swept = sweep.paths
    guard let node else {
      guard points.count == 1 else {
        throw reader.error(
          nil, "missing 'where': the sweep has \(points.count) points, and a check compares one",
          hint:
            "select it by its swept values, e.g. where: {\(swept[0]): \(points[0].assignments[0].value.compactText)}")
      }
      return 0
    }
    guard let entries = node.entries, !entries.isEmpty else {
      let found = node.entries == nil ? node.kindDescription : "an empty mapping"
      throw reader.error(
        key, "expected a mapping of swept keys to values, found \(found)",
        hint: swept.isEmpty ? "the experiment sweeps nothing: leave \(key) out" : "e.g. \(key): {\(swept[0]): ...}")
    }
    var selected = points
    for entry in entries {
      let keyPath = "\(path).\(key).\(entry.key)"
      guard swept.contains(entry.key) else {
        var hint =
          swept.isEmpty
          ? "the experiment sweeps nothing: leave \(key) out" : "swept keys: \(swept.joined(separator: ", "))"
        if let near = swept.first(where: { $0.hasSuffix("." + entry.key) }) ?? closestMatch(to: entry.key, among: swept)
        {
          hint = "did you mean '\(near)'? " + hint
        }
        throw ConfigError(
          location: entry.keyLocation, keyPath: keyPath,
          message: "'\(entry.key)' is not a swept parameter of this experiment", hint: hint)
      }
      let values = points.compactMap { point in point.assignments.first { $0.path == entry.key }?.value }
      guard values.contains(where: { sameScalar($0, entry.value) }) else {
        var levels: [String] = []
        for value in values.map(\.compactText) where !levels.contains(value) { levels.append(value) }
        throw ConfigError(
          location: entry.value.location, keyPath: keyPath,
          message: "'\(entry.key)' never takes the value '\(entry.value.compactText)'",
          hint: "its values are: \(levels.joined(separator: ", "))")
      }
      selected = selected.filter { point in
        point.assignments.contains { $0.path == entry.key && sameScalar($0.value, entry.value) }
      }
    }
    let described = entries.map { "\($0.key)=\($0.value.compactText)" }.joined(separator: ", ")
    guard !selected.isEmpty else {
      throw reader.error(
        key, "no sweep point has \(described)", hint: "the sweep's zip groups or exclusions leave out that combination")
    }
    guard selected.count == 1 else {
      let others = swept.filter { path in !entries.contains { $0.key == path } }
      throw reader.error(
        key,
        "\(described) selects \(selected.count) sweep points (\(selected.map { String($0.index) }.joined(separator: ", "))), not one",
        hint: "add the other swept keys to tell them apart: \(others.joined(separator: ", "))")
    }
    return selected[0].index
  }

  /// Whether two values are the same scalar: numbers numerically (2 is 2.0), anything else as written.
  static func sameScalar(_ a: ConfigNode, _ b: ConfigNode) -> Bool {
    if let x = a.scalarText.flatMap({ Double($0) }), let y = b.scalarText.flatMap({ Double($0) }) { return x == y }
    return a.compactText == b.compactText
  }
}

/// `bdsim validate-published`: the experiments of experiments/validation/ run as `bdsim run
/// --resume` runs them, and each check of their `published:` sections judged.
public enum PublishedValidation {
  public enum Verdict: String, Sendable {
    case pass
    case fail = "FAIL"
    case calibrated
  }

  /// One row of the table.
  public struct Row: Sendable {
    public var experiment: String
    /// The section's source and calibration, cited under the Markdown table.
    public var source: String
    public var calibration: String
    public var check: PublishedCheck
    /// The metric's mean at the selected point, or the ratio of the two points' means.
    public var simulated: Double
    /// The 95% interval: the summary's ci95 bounds, or for a ratio the smallest and largest ratio
    /// of two values inside the two points' intervals (NaN when unknown).
    public var lower: Double
    public var upper: Double
    /// simulated - published (absolute tolerance) or that over the published value (relative).
    public var error: Double
    public var verdict: Verdict
  }

  /// The config files of the arguments: a file as given, a directory's *.yaml in sorted order;
  /// no argument means experiments/validation.
  public static func configFiles(_ arguments: [String]) throws(ExperimentError) -> [String] {
    var files: [String] = []
    for argument in arguments.isEmpty ? ["experiments/validation"] : arguments {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
        throw ExperimentError("\(argument): no such file or directory")
      }
      guard isDirectory.boolValue else {
        files.append(argument)
        continue
      }
      let names = (try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []
      let yaml = names.filter { $0.hasSuffix(".yaml") && !$0.hasPrefix(".") }.sorted()
      guard !yaml.isEmpty else { throw ExperimentError("\(argument): no *.yaml experiment in this directory") }
      let prefix = argument.hasSuffix("/") ? argument : argument + "/"
      files += yaml.map { prefix + $0 }
    }
    return files
  }

  /// Judges each check against an experiment's summary (the intervals ``Aggregator/write(commandLine:)``
  /// returns). A metric the runs do not report is the config's mistake, located at the check.
  public static func evaluate(
    _ section: PublishedSection, experiment: String, file: String, summary: Aggregator.Summary
  ) throws(ConfigError) -> [Row] {
    var rows: [Row] = []
    for check in section.checks {
      /// The column of a metric the check names; one the runs do not report is located at the check.
      func column(_ metric: String, key: String, location: SourceLocation) throws(ConfigError) -> Int {
        guard let m = summary.metrics.firstIndex(of: metric) else {
          var hint = "the runs report \(summary.metrics.count) metrics"
          if let near = closestMatch(to: metric, among: summary.metrics) { hint = "did you mean '\(near)'?" }
          throw ConfigError(
            file: file, location: location, keyPath: check.keyPath + "." + key,
            message: "the runs report no metric '\(metric)'", hint: hint)
        }
        return m
      }
      let m = try column(check.metric, key: "metric", location: check.metricLocation)
      let a = summary.intervals[check.point][m]
      var simulated = a.mean
      var lower = a.lower
      var upper = a.upper
      if check.baseline != nil || check.baselineMetric != nil {
        let divisor = try check.baselineMetric.map { (name: String) throws(ConfigError) -> Int in
          try column(
            name, key: "relative_to_metric", location: check.baselineMetricLocation ?? check.metricLocation)
        }
        let b = summary.intervals[check.baseline ?? check.point][divisor ?? m]
        simulated = a.mean / b.mean
        (lower, upper) = ratioInterval(a, b)
      }
      let published = check.published.value
      let difference = simulated - published
      let error: Double
      let bound: Double
      switch check.tolerance {
      case .relative(let fraction):
        error = difference / published
        bound = fraction * abs(published)
      case .absolute(let distance):
        error = difference
        bound = distance
      }
      let verdict: Verdict =
        check.calibrated ? .calibrated : (simulated.isFinite && abs(difference) <= bound ? .pass : .fail)
      rows.append(
        Row(
          experiment: experiment, source: section.source, calibration: section.calibration, check: check,
          simulated: simulated, lower: lower, upper: upper, error: error,
          verdict: verdict))
    }
    return rows
  }

  /// A conservative interval for a / b: the smallest and largest ratio of a value inside a's
  /// interval to one inside b's (b's must exclude zero). When both intervals hold, so does this
  /// one: its coverage is at least 90% (Bonferroni), and with common seeds, which pair the points,
  /// the ratio's own interval would be narrower still. NaN when either interval is unknown.
  public static func ratioInterval(_ a: ConfidenceInterval, _ b: ConfidenceInterval) -> (Double, Double) {
    let bounds = [a.lower, a.upper, b.lower, b.upper]
    guard bounds.allSatisfy(\.isFinite), b.lower > 0 || b.upper < 0 else { return (.nan, .nan) }
    let corners = [a.lower / b.lower, a.lower / b.upper, a.upper / b.lower, a.upper / b.upper]
    return (corners.min()!, corners.max()!)
  }

  public static let header = [
    "experiment", "check", "published", "simulated", "95% CI", "tolerance", "error", "verdict",
  ]

  /// The table's cells: values in the published value's units (durations in us, ms or s).
  public static func cells(_ row: Row) -> [String] {
    let unit = row.check.published
    let tolerance: String
    let error: String
    switch row.check.tolerance {
    case .relative(let fraction):
      tolerance = "±" + PublishedValue(value: fraction, unit: .percent).format(fraction, trimmed: true)
      error = row.error.isFinite ? String(format: "%+.1f%%", 100 * row.error) : "-"
    case .absolute(let distance):
      tolerance = "±" + absolute(distance, unit, trimmed: true)
      error = row.error.isFinite ? (row.error >= 0 ? "+" : "-") + absolute(abs(row.error), unit) : "-"
    }
    let interval =
      row.lower.isFinite && row.upper.isFinite ? "[\(unit.format(row.lower)), \(unit.format(row.upper))]" : "-"
    var check = row.check.name
    if row.check.baseline != nil || row.check.baselineMetric != nil { check += " (ratio)" }
    return [
      row.experiment, check, unit.format(unit.value, trimmed: true), unit.format(row.simulated), interval, tolerance,
      error, row.verdict.rawValue,
    ]
  }

  /// A distance in the value's units: percentage points for a percentage.
  static func absolute(_ x: Double, _ unit: PublishedValue, trimmed: Bool = false) -> String {
    guard unit.unit == .percent else { return unit.format(x, trimmed: trimmed) }
    return PublishedValue(value: x, unit: .number).format(100 * x, trimmed: trimmed) + " pts"
  }

  /// "N of M predictions pass; K calibrated (not counted)".
  public static func countLine(_ rows: [Row]) -> String {
    let judged = rows.filter { $0.verdict != .calibrated }
    let passed = judged.filter { $0.verdict == .pass }.count
    let calibrated = rows.count - judged.count
    return "\(passed) of \(judged.count) predictions pass; \(calibrated) calibrated (not counted)"
  }

  /// The table as CSV: the printed cells, then the raw numbers in base units (seconds, fractions).
  public static func csv(_ rows: [Row]) -> String {
    var file = CSVFile(header: [
      "experiment", "check", "metric", "published", "simulated", "ci95", "tolerance", "error", "verdict",
      "published_value", "simulated_value", "ci95_low", "ci95_high",
    ])
    for row in rows {
      let c = cells(row)
      file.append(
        [c[0], c[1], row.check.metric, c[2], c[3], c[4], c[5], c[6], c[7]]
          + [row.check.published.value, row.simulated, row.lower, row.upper].map(formatNumber))
    }
    return file.takeText()
  }

  /// The table as Markdown, with the count line under it, then each experiment's source and
  /// calibration.
  public static func markdown(_ rows: [Row]) -> String {
    func line(_ cells: [String]) -> String {
      "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
    }
    var lines = [line(header), "|" + String(repeating: " --- |", count: header.count)]
    lines += rows.map { line(cells($0)) }
    lines += ["", countLine(rows) + ".", ""]
    var cited: [String] = []
    for row in rows where !cited.contains(row.experiment) {
      cited.append(row.experiment)
      let sentence = { (text: String) in text.hasSuffix(".") ? text : text + "." }
      lines.append("- \(row.experiment): \(sentence(row.source)) Calibration: \(sentence(row.calibration))")
    }
    return lines.joined(separator: "\n")
  }

  public static let beginMarker = "<!-- validation-table:begin -->"
  public static let endMarker = "<!-- validation-table:end -->"

  /// `document` with the text between the markers replaced by `table`; the rest stays byte for byte.
  public static func replacingTable(in document: String, with table: String, file: String) throws(ExperimentError)
    -> String
  {
    guard let begin = document.range(of: beginMarker),
      let end = document.range(of: endMarker, range: begin.upperBound..<document.endIndex)
    else {
      throw ExperimentError(
        "\(file): error: no '\(beginMarker)' followed by '\(endMarker)' to put the table between "
          + "(add the two marker lines where the table goes)")
    }
    return String(document[..<begin.upperBound]) + "\n" + table + "\n" + String(document[end.lowerBound...])
  }
}

extension PublishedValidation {
  /// What running one validation experiment gave.
  public struct Outcome: Sendable {
    public var rows: [Row]
    /// Runs done now, and runs whose records were already in the result directory.
    public var completed: Int
    public var reused: Int
    /// SIGINT stopped the runs: no rows.
    public var interrupted: Bool
  }

  /// Loads and plans a validation experiment, every sweep point decoded; an experiment without a
  /// `published:` section is refused (it has nothing to validate).
  public static func plan(file: String, models: ModelRegistry) throws(ConfigError) -> (ExperimentPlan, PublishedSection)
  {
    let experiment = try ExperimentConfig.load(path: file, models: models)
    guard let section = experiment.published else {
      throw ConfigError(
        file: file, location: SourceLocation(line: 1, column: 1), keyPath: "published",
        message: "the experiment has no published: section, so there is nothing to validate",
        hint: "add one (see docs/VALIDATION.md), or keep the file out of the validation set")
    }
    return (try ExperimentPlan(experiment), section)
  }

  /// Loads `file`, runs its runs as `bdsim run FILE --resume` does (results in its outputs.dir, so
  /// records already there are reused), writes the result files and judges its checks.
  /// `announce` gets the experiment's one progress line before it runs.
  public static func run(
    file: String, jobs: Int, models: ModelRegistry, progress: Progress? = nil, announce: (String) -> Void = { _ in }
  ) throws -> Outcome {
    let (plan, section) = try plan(file: file, models: models)
    let experiment = plan.config
    for warning in plan.warnings { writeStandardError("\(warning)\n") }
    let directory = experiment.outputs.directory
    try Experiment.claim(directory, plan: plan, replace: false)
    let toRun = Aggregator(plan: plan, directory: directory).missingRuns().count
    announce(
      "\(experiment.name): \(plan.points.count) points x \(experiment.replications) replications = \(plan.runs.count) runs, "
        + (toRun == 0 ? "all reused from \(directory)" : "\(toRun) to run in \(directory)") + ", \(jobs) jobs")
    let outcome = try Experiment.execute(plan, directory: directory, jobs: jobs, resume: true, progress: progress)
    if outcome.interrupted {
      return Outcome(rows: [], completed: outcome.completed, reused: outcome.skipped, interrupted: true)
    }
    let summary = try Aggregator(plan: outcome.plan, directory: directory).write(commandLine: CommandLine.arguments)
    if let note = summary.provenanceNote { writeStandardError("note: \(experiment.name): \(note)\n") }
    let rows = try evaluate(section, experiment: experiment.name, file: file, summary: summary)
    return Outcome(rows: rows, completed: outcome.completed, reused: outcome.skipped, interrupted: false)
  }
}
