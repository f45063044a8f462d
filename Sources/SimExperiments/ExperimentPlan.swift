import SimBuildInfo
import SimKernel
import SimModel

/// The version written into manifests and run-spec hashes, and the commit it was built from.
public enum BDSimVersion {
  public static let string = "0.2.0"

  /// The commit this build was made from (`COMMIT`, `COMMIT-dirty` or `unknown`): manifests record
  /// it, run-spec hashes do not (a rebuild at another commit can still --resume).
  public static let commit = BuildInfo.described

  /// What `bdsim --version` prints: `0.2.0 (commit 0123abc...)`.
  public static let full = "\(string) (commit \(commit))"
}

/// Something in a config that is legal but most likely not what was meant, located like a
/// ``ConfigError`` and printed as `FILE:LINE:COLUMN: warning: at KEY.PATH: MESSAGE`; it does not
/// stop the command.
public struct ConfigWarning: Sendable, Equatable, CustomStringConvertible {
  /// What is located and said, in the shape of an error.
  public var diagnostic: ConfigError

  public init(file: String = "", location: SourceLocation = .unknown, keyPath: String = "", message: String) {
    diagnostic = ConfigError(file: file, location: location, keyPath: keyPath, message: message)
  }

  public var file: String { diagnostic.file }
  public var location: SourceLocation { diagnostic.location }
  public var keyPath: String { diagnostic.keyPath }
  public var message: String { diagnostic.message }
  public var description: String { diagnostic.rendered(as: "warning") }
}

/// An experiment expanded into its runs: every sweep point decoded and checked, every
/// (point, replication) given its seeds and a hash that identifies it.
public struct ExperimentPlan: Sendable {
  /// One point of the sweep, ready to run.
  public struct Point: Sendable {
    public var index: Int
    public var assignments: [(path: String, value: ConfigNode)]
    public var duration: SimTime
    public var warmup: SimTime
    /// `warmup: auto` (then `warmup` is zero): see ``ExperimentPlan/execute(_:)``.
    public var autoWarmup: Bool
    public var parameters: ModelParameters
    /// Canonical JSON of everything that defines the point (model, duration, warm-up, params).
    public var definition: String
  }

  /// One run: a point and a replication.
  public struct Run: Sendable {
    public var index: Int
    public var point: Int
    public var replication: Int
    public var streams: RandomStreams
    /// The replication's seed, as reported in runs.csv.
    public var seed: UInt64 { streams.replicationSeed }
    /// SHA-256 of everything that determines the run's output: a record with the same hash is
    /// the same run (this is what `--resume` checks).
    public var specHash: String
  }

  /// The most runs (points x replications) an experiment may have. Each run gets a spec hash from
  /// `validate` and a record file in `runs/`; 100,000 runs is 10,000 points x 10 replications.
  public static let maximumRuns = 100_000

  public let config: ExperimentConfig
  public let points: [Point]
  /// What the config does that is legal but likely unmeant, once each however many sweep points
  /// share it (a fault after the end of the run, a time series with no samples).
  public let warnings: [ConfigWarning]
  /// The runs, in (point, replication) order. A run's index is `point * replicationCap +
  /// replication`, so it keeps its number (and its record file) whatever rounds a `precision:`
  /// section adds; without one the indices are 0, 1, 2, ... in that order.
  public private(set) var runs: [Run]
  /// Per point, how many replications `runs` holds (`replications` at first).
  public private(set) var replicationCounts: [Int]
  /// The most replications a point may get: `precision.max_replications`, else `replications`.
  public let replicationCap: Int
  /// Per point, the experiment seed its replications' streams derive from.
  private let experimentSeeds: [UInt64]
  /// SHA-256 of the normalised config (after overrides), its `published:` section left out: that
  /// section judges the results and does not make them.
  public let configDigest: String

  public init(_ config: ExperimentConfig) throws(ConfigError) {
    do { try self.init(checked: config) } catch { throw error.inFile(config.file) }
  }

  private init(checked config: ExperimentConfig) throws(ConfigError) {
    self.config = config
    configDigest = SHA256.hex(config.resultDefinition.canonicalJSON)
    var points: [Point] = []
    var warnings: [ConfigWarning] = []
    func warn(_ location: SourceLocation, _ keyPath: String, _ message: String) {
      let warning = ConfigWarning(file: config.file, location: location, keyPath: keyPath, message: message)
      if !warnings.contains(warning) { warnings.append(warning) }
    }
    let sweepPoints = config.sweep.points()
    if let precision = config.precision {
      let (most, overflow) = sweepPoints.count.multipliedReportingOverflow(by: precision.maxReplications)
      if overflow || most > Self.maximumRuns {
        throw ConfigError(
          location: config.root["precision"]?["max_replications"]?.location ?? .unknown,
          keyPath: "precision.max_replications",
          message:
            "\(sweepPoints.count) points x \(precision.maxReplications) replications at most are "
            + "\(overflow ? "too many" : String(most)) runs, more than the \(Self.maximumRuns) an experiment may have",
          hint:
            "lower max_replications to \(max(1, Self.maximumRuns / max(1, sweepPoints.count))) or less, or sweep fewer values"
        )
      }
    }
    let (runCount, overflow) = sweepPoints.count.multipliedReportingOverflow(by: config.replications)
    if overflow || runCount > Self.maximumRuns {
      let swept = !config.sweep.paths.isEmpty
      throw ConfigError(
        location: (swept ? config.root["sweep"] : config.root["replications"])?.location ?? .unknown,
        keyPath: swept ? "sweep" : "replications",
        message:
          "\(sweepPoints.count) points x \(config.replications) replications are \(overflow ? "too many" : String(runCount)) runs, "
          + "more than the \(Self.maximumRuns) an experiment may have",
        hint: "sweep fewer values or run fewer replications, or split the study into several experiments")
    }
    for sweepPoint in sweepPoints {
      var root = config.root
      for (path, value) in sweepPoint.assignments {
        try root.set(path.split(separator: ".").map(String.init), to: value, fullPath: path)
      }
      var duration = config.duration
      var warmup = config.warmup
      var autoWarmup = config.autoWarmup
      for (path, value) in sweepPoint.assignments where path == "duration" || path == "warmup" {
        if path == "warmup" {
          autoWarmup = value.scalarText == "auto"
          if autoWarmup {
            warmup = .zero
            continue
          }
        }
        guard let text = value.scalarText else {
          throw ConfigError(
            location: value.location, keyPath: "sweep.\(path)",
            message: "expected a duration, found \(value.kindDescription)")
        }
        let time: SimTime
        do {
          time = try SimTime(parsing: text)
          try ExperimentConfig.checkLength(time, of: path)
        } catch {
          throw ConfigError(
            location: value.location, keyPath: "sweep.\(path)", message: error.message, hint: error.hint)
        }
        if path == "duration" { duration = time } else { warmup = time }
      }
      guard duration > .zero, warmup < duration else {
        let swept = sweepPoint.assignments.last { $0.path == "duration" || $0.path == "warmup" }
        throw ConfigError(
          location: swept?.value.location ?? .unknown, keyPath: "sweep.\(swept?.path ?? "duration")",
          message:
            "at sweep point \(sweepPoint.index) the warm-up (\(warmup)) is not shorter than the duration (\(duration))")
      }
      if let interval = config.outputs.timeseriesInterval {
        let intervalNode = root["outputs"]?["timeseries_interval"]
        let samples = duration.nanoseconds / interval.nanoseconds
        if samples > ExperimentConfig.maximumSamples {
          let finest = SimTime(
            nanoseconds: (duration.nanoseconds - 1) / Int64(ExperimentConfig.maximumSamples) + 1)
          throw ConfigError(
            location: intervalNode?.location ?? .unknown, keyPath: "outputs.timeseries_interval",
            message:
              "a sample every \(interval.formatted) over \(duration.formatted) is \(samples) samples a run, "
              + "more than the \(ExperimentConfig.maximumSamples) a run may take",
            hint: "sample at most every \(finest.formatted) or so, or leave timeseries_interval out")
        }
        if interval > duration {
          warn(
            intervalNode?.location ?? .unknown, "outputs.timeseries_interval",
            "the interval (\(interval.formatted)) is longer than the run (\(duration.formatted)), so no sample is taken"
          )
        }
      }
      let params = root["params"] ?? ConfigNode(.null)
      let platform = root["platform"]
      let faults = root["faults"]
      let parameters = try config.model.decode(
        params, path: "params",
        input: ModelInput(baseDirectory: config.baseDirectory, platform: platform, faults: faults, cost: root["cost"]))
      // The model has read the faults (and refused bad ones): a fault after the end is legal (a
      // sweep over the duration can make it so at some points) but never happens.
      for (i, fault) in (faults?.items ?? []).enumerated() {
        guard let at = fault["at"], let text = at.scalarText, let time = try? SimTime(parsing: text),
          time > duration
        else { continue }
        warn(
          at.location, "faults.\(i).at",
          "the fault at \(time.formatted) is after the end of the run (\(duration.formatted)) and never happens")
      }
      var definition =
        "{\"model\":\(jsonString(config.model.name)),\"duration\":\(jsonString(duration.formatted)),"
        + "\"warmup\":\(jsonString(autoWarmup ? "auto" : warmup.formatted)),\"params\":\(params.canonicalJSON)"
      // Platform and faults are part of what a run is only for models that use them (so older
      // result directories of other models keep their spec hashes).
      if config.model.usesPlatform {
        definition +=
          ",\"platform\":\((platform ?? ConfigNode(.null)).canonicalJSON),\"faults\":\((faults ?? ConfigNode(.null)).canonicalJSON)"
      }
      definition += "}"
      points.append(
        Point(
          index: sweepPoint.index, assignments: sweepPoint.assignments, duration: duration, warmup: warmup,
          autoWarmup: autoWarmup, parameters: parameters, definition: definition))
    }
    self.points = points
    self.warnings = warnings
    replicationCap = config.precision?.maxReplications ?? config.replications
    experimentSeeds = points.map { point in
      switch config.seedMode {
      case .common: return config.seed
      case .independent: return StableHash.splitMix64(config.seed ^ StableHash.fnv1a64(SHA256.hex(point.definition)))
      }
    }
    replicationCounts = [Int](repeating: config.replications, count: points.count)
    runs = []
    runs = makeRuns(replicationCounts)
  }

  /// The runs of `counts[p]` replications at every point p, in (point, replication) order.
  private func makeRuns(_ counts: [Int]) -> [Run] {
    var runs: [Run] = []
    for point in points {
      let experimentSeed = experimentSeeds[point.index]
      for replication in 0..<counts[point.index] {
        let streams = RandomStreams(experimentSeed: experimentSeed, replication: replication)
        let spec =
          "bdsim \(BDSimVersion.string)\n\(point.definition)\nseed=\(experimentSeed)\nreplication=\(replication)\n"
          + "timeseries=\(config.outputs.timeseriesInterval?.formatted ?? "none")\n"
        runs.append(
          Run(
            index: point.index * replicationCap + replication, point: point.index, replication: replication,
            streams: streams, specHash: SHA256.hex(spec)))
      }
    }
    return runs
  }

  /// The plan with `counts[p]` replications at point p (each at most ``replicationCap``): what a
  /// round of a `precision:` experiment extends it to.
  func withReplications(_ counts: [Int]) -> ExperimentPlan {
    var copy = self
    copy.replicationCounts = counts.map { min($0, replicationCap) }
    copy.runs = copy.makeRuns(copy.replicationCounts)
    return copy
  }

  /// The plan with only `runs` to run (one round's new runs); its points are all the plan's.
  func restricted(to runs: [Run]) -> ExperimentPlan {
    var copy = self
    copy.runs = runs
    return copy
  }

  /// The context a run gets; `trace` receives its activity trace (`outputs.trace`).
  public func context(for run: Run, trace: (any TraceSink)? = nil) -> RunContext {
    let point = points[run.point]
    var context = RunContext(
      duration: point.duration, warmup: point.warmup, streams: run.streams,
      timeseriesInterval: config.outputs.timeseriesInterval, baseDirectory: config.baseDirectory)
    if let selection = config.outputs.trace, let trace {
      context.trace = ActivityTraceRequest(
        kinds: selection.kinds, from: selection.from, until: selection.until, sink: trace)
    }
    return context
  }

  /// Runs one (point, replication).
  /// One run. With `warmup: auto`, the run is made twice with the same seed: once without a
  /// warm-up, to find the latest MSER-5 truncation point of the model's steady-state signals
  /// (`steady_state.truncation_s`), and again with that point as its warm-up; the second run's
  /// output is the result, with `steady_state.warmup_s` (the warm-up used) added. A model with
  /// no steady-state signals (a batch job) is run once, with no warm-up.
  ///
  /// `trace` gets the run's activity trace; `restartTrace` is called before a second run.
  public func execute(_ run: Run, trace: (any TraceSink)? = nil, restartTrace: () throws(ValueError) -> Void = {})
    throws(ValueError) -> RunOutput
  {
    let point = points[run.point]
    guard point.autoWarmup else {
      return try config.model.run(point.parameters, context: context(for: run, trace: trace))
    }
    let first = try config.model.run(point.parameters, context: context(for: run, trace: trace))
    guard let truncation = first.metrics["steady_state.truncation_s"] else { return first }
    let warmup = SimTime(nanoseconds: Int64((truncation * 1e9).rounded(.up)))
    var output = first
    if warmup > .zero, warmup < point.duration {
      try restartTrace()
      var context = context(for: run, trace: trace)
      context.warmup = warmup
      output = try config.model.run(point.parameters, context: context)
    }
    output.metrics.set("steady_state.warmup_s", warmup.seconds)
    return output
  }
}
