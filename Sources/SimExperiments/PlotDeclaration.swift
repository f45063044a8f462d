import Foundation
import SimKernel
import SimModel

/// One plot an experiment declares in its `plots:` list, drawn by `bdsim plot RESULT_DIR` (or
/// `plots/plot.py RESULT_DIR`) from the result directory alone:
///
///     plots:
///       - metric: broker.produce_latency_p99     # what the y axis shows (the catalog's unit)
///         x: params.acks                         # a swept key (default: the last swept one)
///         group: params.replication_factor       # one line or bar colour per value (default: the others)
///         where: {params.min_insync_replicas: 2} # only the points with these values
///         scale: log                             # of y: linear (default) or log
///         kind: bar                              # line, bar, timeseries or frontier (default: bar
///                                                #   when x has values that are not numbers, else line)
///         also: [broker.produce_latency_mean]    # more metrics, dashed (or hatched)
///         title: "Leader down 20 s"
///         out: plots/broker-durability.png       # default plots/NAME.png, or plots/NAME-METRIC.png
///
/// `kind: timeseries` draws `metric` and `also` as panels against simulated time (with `band`,
/// `xlim` and `replication`); `kind: frontier` puts every point at (mean of the metric `x`, mean
/// of `metric`), labelled by `label` and coloured by `group` (renamed by `names`).
///
/// The section describes how results are drawn, not what they are: it is left out of the config's
/// digest, so adding or editing a plot keeps a result directory's runs (``ExperimentConfig/resultDefinition``).
public struct PlotDeclaration: Sendable {
  public enum Kind: String, Sendable, CaseIterable {
    case line, bar, timeseries, frontier
  }

  public var metric: String
  public var also: [String]
  /// A swept key (line, bar), a metric (frontier), nil (timeseries).
  public var x: String?
  public var group: [String]
  /// Swept key and the value (as runs.csv writes it) the points must have.
  public var slices: [(path: String, value: String)]
  public var logY: Bool
  public var logX: Bool
  /// nil: bar when an x value is not a number, else line (decided when drawing).
  public var kind: Kind?
  public var title: String?
  public var out: String
  /// Timeseries: shaded intervals and the time axis's range, in seconds; one replication only.
  public var bands: [(Double, Double)]
  public var timeRange: (Double, Double)?
  public var replication: Int?
  /// Frontier: swept keys in the point labels, and legend names of group values.
  public var labels: [String]
  public var names: [(value: String, name: String)]

  static let keys = [
    "metric", "kind", "x", "group", "where", "scale", "xscale", "also", "title", "out", "band", "xlim",
    "replication", "label", "names",
  ]

  /// The file types matplotlib writes (the same bytes for the same results).
  static let outputTypes = ["png", "svg", "pdf"]

  /// Reads the `plots:` list of `root`, checked against the model's catalog, the sweep and
  /// `outputs.metrics` (a plot of a metric that is not kept would have nothing to draw).
  static func decodeAll(
    _ node: ConfigNode, name: String, model: AnyModel, sweep: Sweep, metricPatterns: [String],
    replications: Int, samplesSeries: Bool
  ) throws(ConfigError) -> [PlotDeclaration] {
    guard let items = node.items, !items.isEmpty else {
      throw ConfigError(
        location: node.location, keyPath: "plots",
        message: node.items == nil && !node.isNull
          ? "expected a list of plots, found \(node.kindDescription)" : "the plots list is empty",
        hint: "give a list of plots, each a mapping such as '- {metric: METRIC, x: params.KEY}', or leave plots out")
    }
    var plots: [PlotDeclaration] = []
    for (i, item) in items.enumerated() {
      plots.append(
        try decode(
          item, index: i, model: model, sweep: sweep, metricPatterns: metricPatterns,
          replications: replications, samplesSeries: samplesSeries))
    }
    // Default file names: plots/NAME.png for a single plot, plots/NAME-METRIC.png for several.
    var seen: [String: Int] = [:]
    for i in plots.indices {
      if plots[i].out.isEmpty {
        plots[i].out = items.count == 1 ? "plots/\(name).png" : "plots/\(name)-\(plots[i].metric).png"
      }
      if let first = seen[plots[i].out] {
        let location = items[i]["out"]?.location ?? items[i]["metric"]?.location ?? items[i].location
        throw ConfigError(
          location: location, keyPath: "plots.\(i).out",
          message: "plots \(first) and \(i) would both be written to \(plots[i].out)",
          hint: "give one of them another out:, e.g. plots/\(name)-\(i).png")
      }
      seen[plots[i].out] = i
    }
    return plots
  }

  static func decode(
    _ item: ConfigNode, index i: Int, model: AnyModel, sweep: Sweep, metricPatterns: [String], replications: Int,
    samplesSeries: Bool
  ) throws(ConfigError) -> PlotDeclaration {
    let path = "plots.\(i)"
    guard item.entries != nil, !item.isNull else {
      throw ConfigError(
        location: item.location, keyPath: path,
        message: "expected a mapping with at least metric:, found \(item.kindDescription)",
        hint: "e.g. - {metric: \(model.catalog.names.first ?? "METRIC"), x: \(sweep.paths.last ?? "params.KEY")}")
    }
    var reader = try ConfigReader(item, path: path)
    let kindText = try reader.node("kind").map { _ throws(ConfigError) in
      try reader.choice("kind", Kind.allCases.map(\.rawValue))
    }
    let kind = kindText.flatMap(Kind.init(rawValue:))
    func metricName(_ node: ConfigNode, _ keyPath: String) throws(ConfigError) -> String {
      guard let text = node.scalarText else {
        throw ConfigError(
          location: node.location, keyPath: keyPath, message: "expected a metric name, found \(node.kindDescription)")
      }
      if let problem = ExperimentConfig.metricPatternProblem(text) {
        throw ConfigError(location: node.location, keyPath: keyPath, message: problem.message, hint: problem.hint)
      }
      if text.contains("*") {
        throw ConfigError(
          location: node.location, keyPath: keyPath, message: "'\(text)' is a pattern; a plot draws named metrics",
          hint: "name one metric the runs report; `bdsim models \(model.name)` lists them")
      }
      guard model.catalog.canSelect(text) else {
        var hint = "`bdsim models \(model.name)` lists its metrics"
        if let near = closestMatch(to: text, among: model.catalog.suggestions(for: text)) {
          hint = "did you mean '\(near)'? " + hint
        }
        throw ConfigError(
          location: node.location, keyPath: keyPath, message: "model '\(model.name)' reports no metric named '\(text)'",
          hint: hint)
      }
      let kept =
        metricPatterns.isEmpty || metricPatterns.contains { globMatch($0, text) }
        || Aggregator.alwaysKept.contains(text)
      guard kept else {
        throw ConfigError(
          location: node.location, keyPath: keyPath,
          message: "'\(text)' is not among the metrics outputs.metrics keeps, so there would be nothing to draw",
          hint: "add it to outputs.metrics, or plot one of the kept metrics")
      }
      return text
    }
    guard let metricNode = reader.node("metric") else {
      throw reader.error(
        nil, "missing required key 'metric'",
        hint:
          "name the metric to draw, e.g. metric: \(metricPatterns.first { !$0.contains("*") } ?? model.catalog.names.first ?? "METRIC")"
      )
    }
    let metric = try metricName(metricNode, path + ".metric")
    var also: [String] = []
    if let node = reader.node("also") {
      let entries = node.items ?? [node]
      for (k, entry) in entries.enumerated() {
        also.append(try metricName(entry, path + ".also" + (node.items == nil ? "" : ".\(k)")))
      }
    }

    /// A swept key, `params.` optional; `what` says what it is for.
    func sweptPath(_ node: ConfigNode, _ keyPath: String, _ what: String) throws(ConfigError) -> String {
      guard let text = node.scalarText else {
        throw ConfigError(
          location: node.location, keyPath: keyPath, message: "expected a swept key, found \(node.kindDescription)")
      }
      if let found = [text, "params." + text].first(where: sweep.paths.contains) { return found }
      guard !sweep.paths.isEmpty else {
        throw ConfigError(
          location: node.location, keyPath: keyPath,
          message: "the experiment sweeps nothing, so '\(text)' cannot be \(what)",
          hint: "sweep a parameter, or draw kind: timeseries")
      }
      var hint = "swept keys: \(sweep.paths.joined(separator: ", "))"
      if let near = closestMatch(to: text, among: sweep.paths + sweep.paths.map { String($0.dropFirst(7)) }) {
        hint = "did you mean '\(near)'? " + hint
      }
      throw ConfigError(
        location: node.location, keyPath: keyPath, message: "'\(text)' is not swept, so it cannot be \(what)",
        hint: hint)
    }
    func sweptPaths(_ key: String, _ what: String) throws(ConfigError) -> [String] {
      guard let node = reader.node(key) else { return [] }
      guard let entries = node.items else { return [try sweptPath(node, path + "." + key, what)] }
      var paths: [String] = []
      for (k, entry) in entries.enumerated() { paths.append(try sweptPath(entry, path + ".\(key).\(k)", what)) }
      return paths
    }
    func only(_ key: String, for kinds: [Kind]) throws(ConfigError) {
      guard reader.has(key), !kinds.contains(where: { $0 == kind }) else { return }
      throw reader.error(
        key, "\(key) applies to kind: \(kinds.map(\.rawValue).joined(separator: " or ")) only",
        hint: kind == nil && kinds.count == 1
          ? "add kind: \(kinds[0].rawValue)" : "remove \(key), or set kind: \(kinds[0].rawValue)")
    }

    // where: the points drawn.
    var slices: [(path: String, value: String)] = []
    if let node = reader.node("where") {
      guard let entries = node.entries else {
        throw ConfigError(
          location: node.location, keyPath: path + ".where",
          message: "expected a mapping from swept key to value, found \(node.kindDescription)",
          hint: "e.g. where: {\(sweep.paths.first ?? "params.KEY"): VALUE}")
      }
      for entry in entries {
        let keyPath = path + ".where." + entry.key
        let swept = try sweptPath(ConfigNode(.scalar(entry.key), at: entry.keyLocation), keyPath, "sliced on")
        let values = Self.values(of: swept, in: sweep)
        let text = entry.value.compactText
        guard values.contains(text) else {
          throw ConfigError(
            location: entry.value.location, keyPath: keyPath, message: "'\(swept)' never takes the value '\(text)'",
            hint: "its values are: \(values.joined(separator: ", "))")
        }
        guard !slices.contains(where: { $0.path == swept }) else {
          throw ConfigError(location: entry.keyLocation, keyPath: keyPath, message: "'\(swept)' is sliced twice")
        }
        slices.append((swept, text))
      }
    }
    let sliced = Set(slices.map(\.path))

    // x: a swept key, the time, or (frontier) a metric.
    var x: String?
    switch kind {
    case .timeseries:
      if reader.has("x") {
        throw reader.error(
          "x", "a time series is drawn against simulated time, so x means nothing here",
          hint: "remove x (slice with where:, limit the time axis with xlim:)")
      }
      guard samplesSeries else {
        throw reader.error(
          "kind", "no time series are sampled, so there is nothing to draw",
          hint: "set outputs.timeseries_interval, e.g. 1s")
      }
    case .frontier:
      guard let node = reader.node("x") else {
        throw reader.error(
          nil, "missing required key 'x': a frontier draws metric against the metric x",
          hint: "name the metric of the x axis, e.g. a latency against a staleness")
      }
      x = try metricName(node, path + ".x")
    default:
      if let node = reader.node("x") {
        x = try sweptPath(node, path + ".x", "the x axis")
      } else {
        guard let last = sweep.paths.last(where: { !sliced.contains($0) }) else {
          throw ConfigError(
            location: metricNode.location, keyPath: path,
            message: sweep.paths.isEmpty
              ? "the experiment sweeps nothing, so a \(kind?.rawValue ?? "line or bar") plot has no x axis"
              : "every swept key is fixed by where:, so there is no x axis",
            hint: "sweep a parameter, or draw kind: timeseries")
        }
        x = last
      }
      if let x, sliced.contains(x) {
        throw reader.error("where", "'\(x)' is the x axis and is also fixed by where:", hint: "remove it from where:")
      }
    }

    // group: one colour per value; by default the swept keys that vary independently of x.
    try only("label", for: [.frontier])
    try only("names", for: [.frontier])
    if kind == .timeseries, reader.has("group") {
      throw reader.error(
        "group", "a time series draws one line per sweep point, so group means nothing here",
        hint: "remove group; slice the points with where:")
    }
    if kind == .frontier, reader.has("also") {
      throw reader.error(
        "also", "a frontier draws one metric against another, so also means nothing here",
        hint: "remove also, or declare another frontier plot")
    }
    var group = try sweptPaths("group", "a group")
    if let x, let clash = group.first(where: { $0 == x }) {
      throw reader.error(
        "group", "'\(clash)' is the x axis, so it cannot also be a group", hint: "group by another swept key")
    }
    if let clash = group.first(where: sliced.contains) {
      throw reader.error(
        "group", "'\(clash)' is fixed by where:, so it cannot be a group", hint: "remove it from group or from where")
    }
    if kind == .frontier, group.count > 1 {
      throw reader.error("group", "a frontier colours points by one swept key", hint: "give one key")
    }
    if !reader.has("group"), kind != .frontier, kind != .timeseries, let x {
      // The keys of x's dimension vary with it, and those of a sliced one are fixed with it.
      let fixed = sweep.dimensions.filter { $0.paths.contains(x) || $0.paths.contains(where: sliced.contains) }
        .flatMap(\.paths)
      group = sweep.paths.filter { !fixed.contains($0) && $0 != x }
    }
    let labels = try sweptPaths("label", "in a label")
    var names: [(value: String, name: String)] = []
    if let node = reader.node("names") {
      guard let entries = node.entries, let groupPath = group.first else {
        throw ConfigError(
          location: node.location, keyPath: path + ".names",
          message: group.isEmpty
            ? "names renames values of group, and there is no group" : "expected a mapping from value to name",
          hint: "e.g. group: params.KEY with names: {VALUE: NAME}")
      }
      let values = Self.values(of: groupPath, in: sweep)
      for entry in entries {
        guard values.contains(entry.key) else {
          throw ConfigError(
            location: entry.keyLocation, keyPath: path + ".names",
            message: "'\(groupPath)' never takes the value '\(entry.key)'",
            hint: "its values are: \(values.joined(separator: ", "))")
        }
        guard let name = entry.value.scalarText else {
          throw ConfigError(
            location: entry.value.location, keyPath: path + ".names",
            message: "expected a name, found \(entry.value.kindDescription)")
        }
        names.append((entry.key, name))
      }
    }

    let logY = try reader.choice("scale", ["linear", "log"], default: "linear") == "log"
    if kind == .bar || kind == .timeseries, reader.has("xscale") {
      throw reader.error(
        "xscale", "xscale applies to a numeric x axis (kind: line or frontier), not to kind: \(kind!.rawValue)",
        hint: kind == .bar ? "remove xscale, or set kind: line" : "remove xscale (the time axis is linear)")
    }
    let logX = try reader.choice("xscale", ["linear", "log"], default: "linear") == "log"
    let title = try reader.node("title").map { _ throws(ConfigError) in try reader.string("title") }
    var out = ""
    if reader.has("out") {
      out = try reader.string("out")
      let type = (out as NSString).pathExtension.lowercased()
      if out.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
        throw reader.error("out", "the file name contains a control character")
      }
      guard outputTypes.contains(type), !(out as NSString).lastPathComponent.hasPrefix(".") else {
        throw reader.error(
          "out", "'\(out)' is not a .png, .svg or .pdf file",
          hint: "e.g. out: plots/NAME.png; the suffix gives the type")
      }
    }

    // timeseries: bands, the time axis, one replication.
    try only("band", for: [.timeseries])
    try only("xlim", for: [.timeseries])
    try only("replication", for: [.timeseries])
    var bands: [(Double, Double)] = []
    if let node = reader.node("band") {
      // One [START, END] or a list of them.
      let nested = node.items.map { !$0.isEmpty && $0.allSatisfy { $0.items != nil } } ?? false
      let pairs = nested ? node.items! : [node]
      for (k, pair) in pairs.enumerated() {
        bands.append(try interval(pair, path + ".band" + (nested ? ".\(k)" : ""), "band"))
      }
    }
    let timeRange = try reader.node("xlim").map { node throws(ConfigError) in try interval(node, path + ".xlim", "xlim")
    }
    let replication = try reader.has("replication") ? reader.int("replication", range: 0...(replications - 1)) : nil
    try reader.finish()
    return PlotDeclaration(
      metric: metric, also: also, x: x, group: group, slices: slices, logY: logY, logX: logX, kind: kind,
      title: title, out: out, bands: bands, timeRange: timeRange, replication: replication, labels: labels,
      names: names)
  }

  /// `[START, END]`: two durations, the first before the second, in seconds.
  static func interval(_ node: ConfigNode, _ keyPath: String, _ key: String) throws(ConfigError) -> (Double, Double) {
    guard let items = node.items, items.count == 2, let a = items[0].scalarText, let b = items[1].scalarText else {
      throw ConfigError(
        location: node.location, keyPath: keyPath, message: "expected [START, END], two durations",
        hint: "e.g. \(key): [20s, 40s]")
    }
    var times: [SimTime] = []
    for (k, text) in [a, b].enumerated() {
      do { times.append(try SimTime(parsing: text)) } catch {
        throw ConfigError(location: items[k].location, keyPath: keyPath, message: error.message, hint: error.hint)
      }
    }
    guard times[0] < times[1] else {
      throw ConfigError(
        location: items[1].location, keyPath: keyPath,
        message: "the end (\(times[1].formatted)) is not after the start (\(times[0].formatted))",
        hint: "give [START, END] with START < END")
    }
    return (times[0].seconds, times[1].seconds)
  }

  /// The values a swept key takes, as runs.csv writes them.
  static func values(of path: String, in sweep: Sweep) -> [String] {
    guard let dimension = sweep.dimensions.first(where: { $0.paths.contains(path) }) else { return [] }
    let k = dimension.paths.firstIndex(of: path)!
    return dimension.levels.map { $0[k].compactText }
  }

  /// The declaration with its defaults filled in, as JSON: what `plots/plot.py` draws.
  public var json: String {
    var fields: [String] = []
    func add(_ key: String, _ value: String) { fields.append("\(jsonString(key)): \(value)") }
    func list(_ values: [String]) -> String { "[" + values.map(jsonString).joined(separator: ", ") + "]" }
    add("metric", jsonString(metric))
    add("kind", kind.map { jsonString($0.rawValue) } ?? "null")
    add("x", x.map(jsonString) ?? "null")
    add("group", list(group))
    add("where", "{" + slices.map { "\(jsonString($0.path)): \(jsonString($0.value))" }.joined(separator: ", ") + "}")
    add("scale", jsonString(logY ? "log" : "linear"))
    add("xscale", jsonString(logX ? "log" : "linear"))
    add("also", list(also))
    add("title", title.map(jsonString) ?? "null")
    add("out", jsonString(out))
    add("band", "[" + bands.map { "[\(formatNumber($0.0)), \(formatNumber($0.1))]" }.joined(separator: ", ") + "]")
    add("xlim", timeRange.map { "[\(formatNumber($0.0)), \(formatNumber($0.1))]" } ?? "null")
    add("replication", replication.map(String.init) ?? "null")
    add("label", list(labels))
    add("names", "{" + names.map { "\(jsonString($0.value)): \(jsonString($0.name))" }.joined(separator: ", ") + "}")
    return "{" + fields.joined(separator: ", ") + "}"
  }

  /// Every metric the plot draws.
  public var metrics: [String] { [metric] + also + (kind == .frontier ? x.map { [$0] } ?? [] : []) }
}

/// What `plots/plot.py` draws a result directory from: the declared plots with their defaults,
/// the swept keys, and the kind and unit of every metric they draw (the model's catalog).
public enum PlotSpec {
  /// The spec as JSON, one line; nil when the config declares no plots.
  public static func json(_ config: ExperimentConfig, plots: [PlotDeclaration]? = nil) -> String? {
    let plots = plots ?? config.plots
    guard !plots.isEmpty else { return nil }
    var names: [String] = []
    for plot in plots { for metric in plot.metrics where !names.contains(metric) { names.append(metric) } }
    let metrics = names.map { "\(jsonString($0)): \(MetricFormat.json(config.model.catalog.info($0)))" }
    return "{\"name\": \(jsonString(config.name)), \"description\": \(jsonString(config.description)), "
      + "\"swept\": [\(config.sweep.paths.map(jsonString).joined(separator: ", "))], "
      + "\"metrics\": {\(metrics.joined(separator: ", "))}, "
      + "\"plots\": [\(plots.map(\.json).joined(separator: ", "))]}"
  }
}

extension Experiment {
  /// What `bdsim plot` draws: the result directory and its plot spec (``PlotSpec``), or nil for
  /// the spec when the directory has no results yet. The plots are those of `configFile` (which
  /// must describe the directory's results: the same digest, `plots:` left out), else those the
  /// directory's recorded config declares, else those of the config file it was run from, if
  /// that file still describes its results (so plots added to a config draw results run before).
  public static func plotSpec(directory: String?, configFile: String?, models: ModelRegistry) throws -> (
    directory: String, spec: String?
  ) {
    let fileManager = FileManager.default
    if let configFile {
      let config = try ExperimentConfig.load(path: configFile, models: models)
      let plan = try ExperimentPlan(config)
      guard let spec = PlotSpec.json(config) else {
        throw ExperimentError("\(configFile) declares no plots: add a plots: section (docs/EXPERIMENTS.md, \"Plots\")")
      }
      let directory = directory ?? config.outputs.directory
      guard fileManager.fileExists(atPath: directory + "/summary.csv") else { return (directory, nil) }
      let header = try readPlanHeader(directory)
      guard header.digest == plan.configDigest else {
        throw ExperimentError(
          "\(directory) holds results of another config than \(configFile) (sha256 \(header.digest.prefix(12))...): "
            + "run it again (bdsim run \(configFile) --resume), or draw the plots its own config declares (bdsim plot \(directory))"
        )
      }
      return (directory, spec)
    }
    guard let directory else { throw ExperimentError("give a result directory, or --config FILE") }
    guard fileManager.fileExists(atPath: directory + "/summary.csv") else {
      throw ExperimentError(
        "\(directory) has no summary.csv (not a finished result directory? run `bdsim merge` on shards)")
    }
    let plan = try plan(ofResults: directory, models: models)
    if let spec = PlotSpec.json(plan.config) { return (directory, spec) }
    let file = plan.config.file
    if fileManager.fileExists(atPath: file), let config = try? ExperimentConfig.load(path: file, models: models),
      let current = try? ExperimentPlan(config), current.configDigest == plan.configDigest,
      let spec = PlotSpec.json(config)
    {
      return (directory, spec)
    }
    throw ExperimentError(
      "the experiment of \(directory) declares no plots: add a plots: section to \(file) (docs/EXPERIMENTS.md, \"Plots\"), "
        + "or draw one with plots/plot.py \(directory) --metric METRIC")
  }
}
