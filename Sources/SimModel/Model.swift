import SimKernel
import SimPlatform

/// What a model's decoding gets besides its `params`: the config's `platform`, `faults` and
/// `cost` sections (for models that run on the platform) and the directory relative files are
/// read from.
public struct ModelInput: Sendable {
  public var baseDirectory: String?
  public var platform: ConfigNode?
  public var faults: ConfigNode?
  public var cost: ConfigNode?
  public init(
    baseDirectory: String? = nil, platform: ConfigNode? = nil, faults: ConfigNode? = nil, cost: ConfigNode? = nil
  ) {
    self.baseDirectory = baseDirectory
    self.platform = platform
    self.faults = faults
    self.cost = cost
  }
}

extension PlatformSpec {
  /// Reads the `platform:` section of a model's input, and its `cost:` section against those
  /// hosts: what every model on the platform decodes its platform with, so that a priced config
  /// gets the `cost.*` metrics whatever the model.
  public static func decode(_ input: ModelInput) throws(ConfigError) -> PlatformSpec {
    var spec = try PlatformSpec.decode(input.platform)
    spec.cost = try CostSpec.decode(input.cost, spec: spec)
    return spec
  }
}

/// What one run of a model produces.
public struct RunOutput: Sendable, Equatable {
  public var metrics: Metrics
  public var timeseries: TimeSeries
  public init(metrics: Metrics, timeseries: TimeSeries = TimeSeries()) {
    self.metrics = metrics
    self.timeseries = timeseries
  }
}

/// A model BDSim can run from a config: a name, its parameters read from the config's `params`,
/// and a run that turns parameters and a ``RunContext`` into metrics.
///
/// Adding a model is a target of its own (Sources/SimXxx) and one line in SimModels'
/// `ShippedModels.all`, or, outside BDSim, a package that passes it to `BDSimCLI.main(models:)`.
public protocol SimulationModel: SendableMetatype {
  associatedtype Parameters: Sendable
  /// The name configs use (`model: queueing`).
  static var name: String { get }
  /// One line for `bdsim models`.
  static var summary: String { get }
  /// The metrics (and time series) it reports, each with its kind, unit and meaning: what
  /// `outputs.metrics` may name, how tables print them, `bdsim models NAME`. The platform's and
  /// the steady-state verdict's are added for it (``AnyModel/catalog``).
  static var metrics: [MetricInfo] { get }
  /// Patterns (`*` matches anything) of the few metrics a summary table shows by default.
  static var headlineMetrics: [String] { get }
  /// Whether it runs on the platform (reads `platform:` and `faults:`); others refuse them.
  static var usesPlatform: Bool { get }
  /// Where its documentation is (a path in BDSim's repository, a URL), for `bdsim models NAME`;
  /// nil (the default) for none.
  static var documentation: String? { get }
  /// Whether its runs judge their own steady state (``SteadyStateMonitor``) and so report the
  /// `steady_state.*` verdict; a model that runs a job to completion does not.
  static var judgesSteadyState: Bool { get }
  /// Reads (and validates) the parameters; every key must be asked for, then `reader.finish()`.
  static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> Parameters
  /// One run.
  static func run(_ parameters: Parameters, context: RunContext) throws(ValueError) -> RunOutput
}

extension SimulationModel {
  public static var documentation: String? { nil }
  public static var usesPlatform: Bool { false }
  public static var judgesSteadyState: Bool { false }
}

/// Parameters of some model, decoded and validated, opaque to everything but that model.
public struct ModelParameters: @unchecked Sendable {
  // Parameters are immutable values of a Sendable type; the box only hides which.
  let value: Any
}

/// A model with its type erased, so the experiments layer can hold a list of them.
public struct AnyModel: Sendable {
  public let name: String
  public let summary: String
  /// Every metric a run of the model may report: its own, the platform's (if it runs on it) and
  /// the steady-state verdict's (if it judges one).
  public let catalog: MetricCatalog
  public let headlineMetrics: [String]
  /// Where its documentation is (``SimulationModel/documentation``).
  public let documentation: String?
  private let usesPlatformFlag: Bool
  private let decodeBody:
    @Sendable (ConfigNode, String, ModelInput, ParameterSchema?) throws(ConfigError) -> ModelParameters
  private let runBody: @Sendable (ModelParameters, RunContext) throws(ValueError) -> RunOutput

  public init<M: SimulationModel>(_ model: M.Type) {
    name = M.name
    summary = M.summary
    catalog = MetricCatalog(
      M.metrics + (M.usesPlatform ? Platform.metricCatalog : [])
        + (M.judgesSteadyState ? MetricCatalog.steadyState : []))
    headlineMetrics = M.headlineMetrics
    documentation = M.documentation
    usesPlatformFlag = M.usesPlatform
    decodeBody = { (node, path, input, schema) throws(ConfigError) -> ModelParameters in
      if !M.usesPlatform {
        for (key, section) in [("platform", input.platform), ("faults", input.faults), ("cost", input.cost)] {
          if let section, !section.isNull {
            throw ConfigError(
              location: section.location, keyPath: key,
              message: "model '\(M.name)' does not use '\(key)': it does not run on the platform",
              hint: "remove the '\(key)' section")
          }
        }
      }
      var reader = try ConfigReader(node, path: path, schema: schema)
      let parameters = try M.decode(&reader, input: input)
      try reader.finish()
      return ModelParameters(value: parameters)
    }
    runBody = { (parameters, context) throws(ValueError) -> RunOutput in
      try M.run(parameters.value as! M.Parameters, context: context)
    }
  }

  /// Reads the model's parameters from `node` (the config's `params`, `path` in messages).
  public func decode(_ node: ConfigNode, path: String = "params", input: ModelInput = ModelInput()) throws(ConfigError)
    -> ModelParameters
  {
    try decodeBody(node, path, input, nil)
  }

  public var usesPlatform: Bool { usesPlatformFlag }

  /// The parameters the model reads, with kinds, defaults and help (from decoding an empty `params`).
  public func parameterSchema() -> [ParameterSchema.Parameter] {
    let schema = ParameterSchema()
    _ = try? decodeBody(ConfigNode(.null), "params", ModelInput(), schema)
    return schema.parameters
  }

  public func run(_ parameters: ModelParameters, context: RunContext) throws(ValueError) -> RunOutput {
    try runBody(parameters, context)
  }
}

/// The models an experiment may name: a list of models with distinct names, looked up by name.
/// The experiments layer and the command line are given one (the shipped models are
/// `ShippedModels.all` in SimModels; a package of its own adds its models beside them).
public struct ModelRegistry: Sendable {
  public let all: [AnyModel]

  /// `models` in the order `bdsim models` lists them; two models of one name are a programming error.
  public init(_ models: [AnyModel]) {
    var seen: Set<String> = []
    for model in models {
      precondition(seen.insert(model.name).inserted, "two models are named '\(model.name)'")
    }
    all = models
  }

  public func named(_ name: String) -> AnyModel? { all.first { $0.name == name } }

  public var names: [String] { all.map(\.name) }

  /// Why `name` names no model: the known names, and the nearest one if it is close.
  public func unknownModelHint(_ name: String) -> String {
    var hint = "models are: \(names.joined(separator: ", "))"
    if let near = closestMatch(to: name, among: names) { hint = "did you mean '\(near)'? " + hint }
    return hint
  }
}
