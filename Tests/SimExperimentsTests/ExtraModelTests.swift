import Foundation
import SimKernel
import SimModel
import SimModels
import Testing

@testable import SimExperiments

/// A model defined outside BDSim's model targets: a metronome that ticks every `period`.
enum MetronomeModel: SimulationModel {
  static let name = "metronome"
  static let summary = "a tick every period (a model of the tests, not shipped)"
  static let headlineMetrics = ["ticks"]
  static let metrics = [MetricInfo(["ticks"], .count, unit: "ticks", "ticks in the run")]

  static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> SimTime {
    let period = try reader.duration("period", default: .seconds(1), help: "time between ticks")
    guard period > .zero else { throw reader.error("period", "period must be positive") }
    return period
  }

  final class Metronome: EventHandler {
    let period: SimTime
    var ticks = 0
    var me = EntityID(0)
    init(period: SimTime, simulator: Simulator) {
      self.period = period
      me = simulator.register(self)
      simulator.schedule(after: period, to: me)
    }
    func handle(_ event: Event, in simulator: Simulator) {
      ticks += 1
      simulator.schedule(after: period, to: me)
    }
  }

  static func run(_ period: SimTime, context: RunContext) throws(ValueError) -> RunOutput {
    let simulator = Simulator()
    let metronome = Metronome(period: period, simulator: simulator)
    simulator.run(until: context.duration)
    var metrics = Metrics()
    metrics.set("ticks", Double(metronome.ticks))
    return RunOutput(metrics: metrics)
  }
}

@Suite struct ExtraModelTests {
  static let config = """
    name: ticks
    model: metronome
    duration: 10s
    params:
      period: 1s
    sweep:
      params.period: [250ms, 500ms, 3s]
    """

  /// A model passed to the experiments layer beside the shipped ones is found by name, swept and
  /// run from YAML: ticks at period, 2 x period, ... up to and including the 10 s horizon.
  @Test func anExtraModelBesideTheShippedOnesRunsFromAConfig() throws {
    let models = ModelRegistry(ShippedModels.all + [AnyModel(MetronomeModel.self)])
    #expect(models.names.count == ShippedModels.all.count + 1)
    let base = scratchDirectory("extra-model")
    let path = writeConfig(Self.config, in: base)
    let plan = try runExperiment(path, into: base + "/out", jobs: 2, models: models)
    #expect(plan.config.model.name == "metronome")
    let rows = parseCSV(String(decoding: contents(base + "/out", "runs.csv")!, as: UTF8.self))
    let period = try #require(rows[0].firstIndex(of: "params.period"))
    let ticks = try #require(rows[0].firstIndex(of: "ticks"))
    #expect(rows.dropFirst().map(\.[period]) == ["250ms", "500ms", "3s"])
    #expect(rows.dropFirst().map { Double($0[ticks]) } == [40, 20, 3])
    // A misspelt name is told the extra model; the shipped models alone do not know it.
    let misspelt = writeConfig(
      Self.config.replacingOccurrences(of: "model: metronome", with: "model: metronom"), in: base, name: "misspelt.yaml"
    )
    let error = try #require(throws: ConfigError.self) { _ = try ExperimentConfig.load(path: misspelt, models: models) }
    #expect(error.description.contains("did you mean 'metronome'?"))
    #expect(throws: ConfigError.self) { _ = try ExperimentConfig.load(path: path, models: shippedModels) }
  }
}
