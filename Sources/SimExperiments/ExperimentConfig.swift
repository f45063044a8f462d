import Foundation
import SimKernel
import SimModel

/// An experiment as a config file describes it: what to run, for how long, how often, which
/// parameters to sweep and where the results go.
public struct ExperimentConfig: Sendable {
  /// How replication seeds relate across sweep points.
  public enum SeedMode: String, Sendable {
    /// Replication r uses the same seeds at every point: comparisons between points are paired.
    case common
    /// Every (point, replication) gets seeds of its own.
    case independent
  }

  public struct Outputs: Sendable {
    /// The result directory (relative paths are relative to the working directory).
    public var directory: String
    /// Time-series sampling interval; nil for no time series.
    public var timeseriesInterval: SimTime?
    /// Metric name patterns to keep (`*` matches any run of characters); empty keeps all.
    public var metrics: [String]
    /// Where each pattern is written, for the warning when no run reports a metric it matches.
    public var metricLocations: [SourceLocation] = []
    /// The activities each run traces (`outputs.trace`); nil for none.
    public var trace: TraceSelection?
  }

  public var file: String
  public var name: String
  public var description: String
  public var model: AnyModel
  public var duration: SimTime
  public var warmup: SimTime
  public var seed: UInt64
  public var seedMode: SeedMode
  public var replications: Int
  public var sweep: Sweep
  public var outputs: Outputs
  /// The whole config after `--set` overrides: the base every sweep point is applied to.
  public var root: ConfigNode
  /// The `--set` overrides, as given.
  public var overrides: [String]
  /// The published measurements the experiment is held against (`bdsim validate-published`); a
  /// run ignores them.
  public var published: PublishedSection?
  /// `warmup: auto`: each run is run once to find its MSER-5 truncation point
  /// (``SteadyStateMonitor``), then again with that warm-up (`warmup` is then zero).
  public var autoWarmup = false
  /// `precision:`: replications are added in rounds until a metric's half-width meets a target
  /// at every point, or the cap (``PrecisionTarget``, docs/RUN-LENGTH.md).
  public var precision: PrecisionTarget?
  /// `plots:`: the plots `bdsim plot RESULT_DIR` draws (``PlotDeclaration``).
  public var plots: [PlotDeclaration] = []

  /// The config that defines the results: the whole config but `published:`, which only judges
  /// them, and `plots:`, which only draws them (so editing a tolerance or a plot keeps a result
  /// directory's runs).
  public var resultDefinition: ConfigNode {
    guard let entries = root.entries, entries.contains(where: { Self.notDefiningResults.contains($0.key) }) else {
      return root
    }
    var copy = root
    copy.value = .mapping(entries.filter { !Self.notDefiningResults.contains($0.key) })
    return copy
  }

  /// The top-level sections that leave the results as they are (left out of the config's digest).
  static let notDefiningResults: Set<String> = ["published", "plots"]

  /// The directory relative file names in parameters are read from: the config's own.
  public var baseDirectory: String {
    let directory = (file as NSString).deletingLastPathComponent
    return directory.isEmpty ? "." : directory
  }

  /// The longest run: 100 years (36,500 days) of simulated time. Simulated time is an Int64 of
  /// nanoseconds (292 years); the rest is headroom for the times models compute from the horizon
  /// (the end plus timeouts, retry back-offs, recovery and batch periods) so they never saturate.
  public static let maximumDuration = SimTime(nanoseconds: 36_500 * 86_400_000_000_000)

  /// The most time-series samples a run may take (duration / timeseries_interval). A sample is one
  /// row per probed metric in memory and in timeseries.csv (some 40 bytes each), and a model may
  /// probe tens of metrics; 100,000 samples is a sample a second for 27 hours.
  public static let maximumSamples = 100_000

  /// The most replications: a run's record is a file of its own, and every run's spec hash is
  /// computed by `validate` (see ``ExperimentPlan/maximumRuns``).
  public static let maximumReplications = 100_000

  /// Refuses a duration past ``maximumDuration`` (what `key` is, for the message).
  static func checkLength(_ time: SimTime, of what: String) throws(ValueError) {
    guard time <= maximumDuration else {
      throw ValueError(
        "\(what) (\(time == .max ? "\(time.nanoseconds)ns" : time.formatted)) is longer than the \(maximumDuration.formatted) (100 years) a run may last",
        hint: "simulated time holds 292 years; the rest is headroom for times computed from the end of the run")
    }
  }

  /// Why `name` cannot name a file, or nil if it can: letters, digits, `-`, `_` and `.`, not
  /// starting with a dot (no `..`, no hidden files), at most 255 bytes (a file name's limit).
  static func nameProblem(_ name: String) -> String? {
    if name.isEmpty { return "is empty" }
    if name.hasPrefix(".") { return "starts with a dot ('.' and '..' are directories, '.NAME' is hidden)" }
    if name.utf8.count > 255 { return "is longer than the 255 bytes of a file name" }
    if let bad = name.unicodeScalars.first(where: {
      !(Character($0).isLetter || Character($0).isNumber || "-_.".unicodeScalars.contains($0))
    }) {
      if bad == "/" { return "contains '/'" }
      if bad.properties.generalCategory == .control { return "contains a control character" }
      return "contains '\(bad)'"
    }
    return nil
  }

  /// Why a metric pattern cannot match a metric, or nil if it can: metric names are letters,
  /// digits, `_`, `.` and `-`, and `*` matches any run of characters.
  static func metricPatternProblem(_ pattern: String) -> (message: String, hint: String)? {
    let allowed = { (c: Character) in c.isLetter || c.isNumber || "_.-*".contains(c) }
    guard pattern.isEmpty || !pattern.allSatisfy(allowed) else { return nil }
    if pattern.contains(" - ") || pattern.hasPrefix("- ") {
      return (
        "'\(pattern)' is two entries joined into one: a '- ' line indented deeper than the one above continues that value",
        "put every '- METRIC' line of outputs.metrics at the same indentation"
      )
    }
    let what = pattern.isEmpty ? "an empty pattern" : "'\(pattern)'"
    return (
      "\(what) is not a metric name or pattern",
      "metric names are letters, digits, '_', '.' and '-'; '*' matches any run of characters, e.g. station.*.response_mean"
    )
  }

  static let topLevelKeys = [
    "name", "description", "model", "duration", "warmup", "seed", "seeds", "replications", "platform", "faults",
    "cost", "params", "sweep", "outputs", "published", "precision", "plots",
  ]

  /// Loads a config file and applies `--set key=value` overrides; `model:` names one of `models`.
  public static func load(path: String, models: ModelRegistry, overrides: [String] = []) throws(ConfigError)
    -> ExperimentConfig
  {
    var root = try YAMLLoader.load(path: path)
    do {
      for override in overrides { try apply(override: override, to: &root) }
      return try decode(root, file: path, models: models, overrides: overrides)
    } catch { throw error.inFile(path) }
  }

  /// Applies one `key.path=value` override (the value is read as YAML: `3`, `5ms`, `[1, 2]`).
  static func apply(override: String, to root: inout ConfigNode) throws(ConfigError) {
    guard let equals = override.firstIndex(of: "="), equals != override.startIndex else {
      throw ConfigError(
        file: "--set", message: "'\(override)' is not key=value",
        hint: "e.g. --set params.servers=4 or --set duration=1h")
    }
    let key = String(override[..<equals]).trimmingCharacters(in: .whitespaces)
    let text = String(override[override.index(after: equals)...])
    var value = try YAMLLoader.parse(text, file: "--set \(key)")
    // Lines and columns of the override's own text would point into the config file: drop them.
    value.forgetLocations()
    var path = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    // Sweep keys are dotted paths themselves: `sweep.params.servers` is the key `params.servers`
    // of the sweep mapping.
    if path.count > 2, path[0] == "sweep", !["zip", "exclude"].contains(path[1]) {
      path = ["sweep", path.dropFirst().joined(separator: ".")]
    }
    guard !path.contains(where: \.isEmpty) else {
      throw ConfigError(file: "--set", keyPath: key, message: "'\(key)' is not a dotted key path")
    }
    guard topLevelKeys.contains(path[0]) else {
      var hint = "top-level keys are: \(topLevelKeys.joined(separator: ", "))"
      if let near = closestMatch(to: path[0], among: topLevelKeys) { hint = "did you mean '\(near)'?" }
      throw ConfigError(file: "--set", keyPath: key, message: "unknown key '\(path[0])'", hint: hint)
    }
    do { try root.set(path, to: value, fullPath: key) } catch { throw error.inFile("--set") }
  }

  /// Reads a parsed config; every key is checked, and every sweep point's parameters are decoded
  /// (so a bad value anywhere in the sweep is reported before anything runs).
  public static func decode(_ root: ConfigNode, file: String, models: ModelRegistry, overrides: [String] = [])
    throws(ConfigError)
    -> ExperimentConfig
  {
    var reader = try ConfigReader(root, path: "")
    guard !root.isNull else {
      throw ConfigError(
        file: file, location: SourceLocation(line: 1, column: 1), message: "the config is empty",
        hint: "start from experiments/quickstart.yaml")
    }
    let name = try reader.string("name")
    if let problem = nameProblem(name) {
      throw reader.error(
        "name", "'\(name)' is not a usable name: it \(problem)",
        hint:
          "a name is a plain file name of letters, digits, '-', '_' and '.', not starting with '.': it names the result directory results/NAME"
      )
    }
    let description = try reader.string("description", default: "")
    let modelName = try reader.string("model")
    guard let model = models.named(modelName) else {
      throw reader.error("model", "unknown model '\(modelName)'", hint: models.unknownModelHint(modelName))
    }
    let duration = try reader.duration("duration")
    guard duration > .zero else { throw reader.error("duration", "duration must be positive") }
    do { try checkLength(duration, of: "duration") } catch {
      throw reader.error("duration", error.message, hint: error.hint)
    }
    let autoWarmup = reader.node("warmup")?.scalarText == "auto"
    let warmup: SimTime
    do {
      warmup = autoWarmup ? .zero : try reader.duration("warmup", default: .zero)
    } catch {
      throw reader.error(
        "warmup", error.message, hint: "give a duration such as 10m, or auto to detect it (docs/RUN-LENGTH.md)")
    }
    guard warmup < duration else {
      throw reader.error("warmup", "warmup (\(warmup)) must be shorter than duration (\(duration))")
    }
    let seedValue = try reader.int("seed", default: 1, range: 0...Int.max)
    let seedMode = SeedMode(rawValue: try reader.choice("seeds", ["common", "independent"], default: "common"))!
    let replications = try reader.int("replications", default: 1, range: 1...maximumReplications)
    // Read by the model (which refuses them if it does not run on the platform).
    _ = reader.node("platform")
    _ = reader.node("faults")
    _ = reader.node("cost")
    _ = reader.node("params")
    let sweepNode = reader.node("sweep")
    let publishedNode = reader.node("published")
    // An empty `precision:` is an error rather than no section: it was meant to say something.
    _ = reader.has("precision")
    let precisionNode = root["precision"]
    _ = reader.has("plots")
    let plotsNode = root["plots"]
    var outputsReader = try reader.mapping("outputs")
    let directory = try outputsReader.string("dir", default: "results/\(name)")
    if directory.isEmpty || directory.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
      throw outputsReader.error(
        "dir",
        directory.isEmpty ? "the result directory is empty" : "the result directory contains a control character",
        hint: "give a path such as results/\(name), or leave dir out for that default")
    }
    let interval: SimTime? =
      outputsReader.has("timeseries_interval") ? try outputsReader.duration("timeseries_interval") : nil
    if let interval, interval <= .zero {
      throw outputsReader.error("timeseries_interval", "the interval must be positive")
    }
    if let interval {
      do { try checkLength(interval, of: "the interval") } catch {
        throw outputsReader.error("timeseries_interval", error.message, hint: error.hint)
      }
    }
    var metrics: [String] = []
    var metricLocations: [SourceLocation] = []
    for (i, item) in try outputsReader.list("metrics").enumerated() {
      guard let text = item.scalarText else {
        throw ConfigError(
          location: item.location, keyPath: "outputs.metrics.\(i)",
          message: "expected a metric name or pattern, found \(item.kindDescription)")
      }
      if let problem = metricPatternProblem(text) {
        throw ConfigError(
          location: item.location, keyPath: "outputs.metrics.\(i)", message: problem.message, hint: problem.hint)
      }
      // Checked against what the model can report (its catalog, the platform's, the kernel's).
      if !model.catalog.canSelect(text) {
        var hint = "`bdsim models \(model.name)` lists its metrics"
        if let near = closestMatch(to: text, among: model.catalog.suggestions(for: text)) {
          hint = "did you mean '\(near)'? " + hint
        }
        throw ConfigError(
          location: item.location, keyPath: "outputs.metrics.\(i)",
          message:
            "model '\(model.name)' reports no metric named '\(text)'\(text.contains("*") ? " or matching it" : "")",
          hint: hint)
      }
      metrics.append(text)
      metricLocations.append(item.location)
    }
    let trace = try TraceSelection.decode(&outputsReader, model: model)
    try outputsReader.finish()
    try reader.finish()
    let sweep = try Sweep(sweepNode ?? ConfigNode(.null), root: root)
    // A --set on a swept key would be silently overridden at every point: refuse it.
    for override in overrides {
      let key = String(override.prefix { $0 != "=" }).trimmingCharacters(in: .whitespaces)
      if sweep.paths.contains(key) {
        throw ConfigError(
          keyPath: key, message: "'\(key)' is swept, so --set \(key)=... would have no effect",
          hint: "set its values instead: --set 'sweep.\(key)=[...]', or remove it from the sweep")
      }
    }
    let published = try publishedNode.map { node throws(ConfigError) in
      try PublishedSection(node, sweep: sweep, metricPatterns: metrics)
    }
    let precision = try precisionNode.map { node throws(ConfigError) in
      try PrecisionTarget.decode(
        node, replications: replications, replicationsNode: root["replications"], metricPatterns: metrics)
    }
    let plots = try plotsNode.map { node throws(ConfigError) in
      try PlotDeclaration.decodeAll(
        node, name: name, model: model, sweep: sweep, metricPatterns: metrics, replications: replications,
        samplesSeries: interval != nil)
    }
    var config = ExperimentConfig(
      file: file, name: name, description: description, model: model, duration: duration, warmup: warmup,
      seed: UInt64(seedValue), seedMode: seedMode, replications: replications, sweep: sweep,
      outputs: Outputs(
        directory: directory, timeseriesInterval: interval, metrics: metrics, metricLocations: metricLocations),
      root: root,
      overrides: overrides, published: published, autoWarmup: autoWarmup, precision: precision)
    config.plots = plots ?? []
    config.outputs.trace = trace
    return config
  }
}
