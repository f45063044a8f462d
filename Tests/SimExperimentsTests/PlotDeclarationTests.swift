import Foundation
import SimExperiments
import SimKernel
import Testing

/// `plots:` (issue 17): declared plots are read and checked with the config, fill in their
/// defaults, and leave the results alone: no spec hash and no config digest moves, so result
/// directories run before a config declared its plots still resume (errors: Fixtures/broken 222-242).
@Suite struct PlotDeclarationTests {
  static let sweep = """
    name: plotted
    model: queueing
    duration: 2000s
    warmup: 100s
    seed: 7
    replications: 3
    params:
      service: "exp(mean: 1s)"
      utilisation: 0.5
    sweep:
      params.servers: [1, 2]
      zip:
        - params.utilisation: [0.5, 0.8]
          params.service: ["exp(mean: 1s)", "exp(mean: 2s)"]
    outputs:
      timeseries_interval: 100s
    """

  static let plots = """
    plots:
      - metric: station.station.response_mean
      - metric: station.station.utilisation
        x: servers
        where: {params.utilisation: 0.8}
        kind: bar
        scale: log
        also: [station.station.response_mean]
        out: figures/u.svg
      - kind: timeseries
        metric: station.station.in_system
        band: [[100s, 200s], [5m, 6m]]
        xlim: [0s, 1000s]
        replication: 2
    """

  func load(_ text: String, _ name: String) throws -> ExperimentConfig {
    try ExperimentConfig.load(path: writeConfig(text, in: scratchDirectory(name)), models: shippedModels)
  }

  @Test func declarationsFillInTheirDefaults() throws {
    let config = try load(Self.sweep + "\n" + Self.plots, "plots-defaults")
    #expect(config.plots.count == 3)
    let first = config.plots[0]
    // x: the last swept key; group: the keys that do not vary with it (its zip partner does).
    #expect(first.x == "params.service")
    #expect(first.group == ["params.servers"])
    #expect(first.kind == nil)
    #expect(!first.logY)
    #expect(first.out == "plots/plotted-station.station.response_mean.png")
    let second = config.plots[1]
    #expect(second.x == "params.servers")
    #expect(second.group.isEmpty, "the other dimension is sliced by where:")
    #expect(second.slices.map(\.path) == ["params.utilisation"])
    #expect(second.slices.map(\.value) == ["0.8"])
    #expect(second.kind == .bar)
    #expect(second.logY)
    #expect(second.also == ["station.station.response_mean"])
    #expect(second.out == "figures/u.svg")
    let third = config.plots[2]
    #expect(third.kind == .timeseries)
    #expect(third.x == nil)
    #expect(third.bands.map(\.0) == [100, 300])
    #expect(third.bands.map(\.1) == [200, 360])
    #expect(third.timeRange?.1 == 1000)
    #expect(third.replication == 2)
  }

  @Test func aSinglePlotIsNamedAfterTheExperiment() throws {
    let config = try load(Self.sweep + "\nplots:\n  - {metric: station.station.response_mean}\n", "plots-single")
    #expect(config.plots.map(\.out) == ["plots/plotted.png"])
  }

  @Test func theSpecCarriesTheUnitsAndTheResolvedPlots() throws {
    let config = try load(Self.sweep + "\n" + Self.plots, "plots-spec")
    let spec = try #require(PlotSpec.json(config))
    let object = try #require(try JSONSerialization.jsonObject(with: Data(spec.utf8)) as? [String: Any])
    #expect(object["swept"] as? [String] == ["params.servers", "params.utilisation", "params.service"])
    let metrics = try #require(object["metrics"] as? [String: Any])
    let response = try #require(metrics["station.station.response_mean"] as? [String: Any])
    #expect(response["kind"] as? String == "duration")
    #expect(response["unit"] as? String == "s")
    let utilisation = try #require(metrics["station.station.utilisation"] as? [String: Any])
    #expect(utilisation["kind"] as? String == "fraction")
    let plots = try #require(object["plots"] as? [[String: Any]])
    #expect(plots.count == 3)
    #expect(plots[0]["x"] as? String == "params.service")
    #expect(plots[0]["kind"] is NSNull)
    #expect(plots[1]["where"] as? [String: String] == ["params.utilisation": "0.8"])
    #expect(plots[1]["scale"] as? String == "log")
    #expect(plots[2]["band"] as? [[Double]] == [[100, 200], [300, 360]])
    // Without plots: no spec (and no plot_spec in the manifest).
    #expect(PlotSpec.json(try load(Self.sweep, "plots-spec-none")) == nil)
  }

  /// The section draws results and does not make them: the digest and every run's spec hash are
  /// those of the config without it.
  @Test func plotsMoveNeitherTheDigestNorASpecHash() throws {
    let without = try ExperimentPlan(try load(Self.sweep, "plots-hash-without"))
    let with = try ExperimentPlan(try load(Self.sweep + "\n" + Self.plots, "plots-hash-with"))
    #expect(with.configDigest == without.configDigest)
    #expect(with.runs.map(\.specHash) == without.runs.map(\.specHash))
    let changed = try ExperimentPlan(
      try load(Self.sweep.replacingOccurrences(of: "seed: 7", with: "seed: 8") + "\n" + Self.plots, "plots-hash-seed"))
    #expect(changed.configDigest != without.configDigest, "the digest still covers what makes the results")
  }

  /// Results run before the config had plots resume with it: nothing is run again, and the
  /// manifest then carries the spec.
  @Test func resultsRunWithoutPlotsResumeWithThem() throws {
    let base = scratchDirectory("plots-resume")
    let directory = base + "/out"
    try runExperiment(writeConfig(Self.sweep, in: base, name: "before.yaml"), into: directory, jobs: 2)
    let before = try #require(contents(directory, "runs.csv"))
    let manifestBefore = String(decoding: try #require(contents(directory, "manifest.json")), as: UTF8.self)
    #expect(!manifestBefore.contains("plot_spec"))

    let config = try ExperimentConfig.load(
      path: writeConfig(Self.sweep + "\n" + Self.plots, in: base, name: "after.yaml"), models: shippedModels)
    let plan = try ExperimentPlan(config)
    try Experiment.claim(directory, plan: plan, replace: false)
    let outcome = try Runner(plan: plan, directory: directory, jobs: 2, shard: nil, resume: true).run()
    #expect(outcome.skipped == plan.runs.count)
    #expect(outcome.completed == 0)
    try Aggregator(plan: plan, directory: directory).write(commandLine: [])
    #expect(contents(directory, "runs.csv") == before)
    let manifest = String(decoding: try #require(contents(directory, "manifest.json")), as: UTF8.self)
    #expect(manifest.contains("\"plot_spec\": {\"name\": \"plotted\""))
  }

  /// `bdsim plot` finds the plots for results run before they were declared: from `--config`,
  /// or from the config file the directory records.
  @Test func thePlotSpecOfOldResultsComesFromTheirConfig() throws {
    let base = scratchDirectory("plots-old-results")
    let directory = base + "/out"
    let file = writeConfig(Self.sweep, in: base, name: "experiment.yaml")
    try runExperiment(file, into: directory, jobs: 2)
    #expect(throws: ExperimentError.self) {
      try Experiment.plotSpec(directory: directory, configFile: nil, models: shippedModels)
    }
    // The same file, now with plots: found through the directory's record of it.
    _ = writeConfig(Self.sweep + "\n" + Self.plots, in: base, name: "experiment.yaml")
    let (found, spec) = try Experiment.plotSpec(directory: directory, configFile: nil, models: shippedModels)
    #expect(found == directory)
    #expect(spec?.contains("station.station.in_system") == true)
    let named = try Experiment.plotSpec(directory: directory, configFile: file, models: shippedModels)
    #expect(named.spec == spec)
    // A config of other results is refused; a directory without results is no spec.
    let other = writeConfig(
      Self.sweep.replacingOccurrences(of: "seed: 7", with: "seed: 8") + "\n" + Self.plots, in: base, name: "other.yaml")
    #expect(throws: ExperimentError.self) {
      try Experiment.plotSpec(directory: directory, configFile: other, models: shippedModels)
    }
    #expect(try Experiment.plotSpec(directory: base + "/none", configFile: file, models: shippedModels).spec == nil)
  }

  /// Every shipped experiment that declares plots is accepted, and its committed results (if
  /// any) are still the results of it: the digest in their experiment.json is the config's.
  @Test func shippedPlotsAreValidAndTheirResultsStillResume() throws {
    let root = repositoryRoot()
    var declared = 0
    var checked = 0
    for folder in ["experiments", "experiments/validation"] {
      let directory = root.appendingPathComponent(folder)
      let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }
      for name in names.sorted() {
        let path = directory.appendingPathComponent(name).path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard text.contains("\nplots:") else { continue }
        let config = try ExperimentConfig.load(path: path, models: shippedModels)
        declared += 1
        #expect(!config.plots.isEmpty, "\(name)")
        let results = root.appendingPathComponent(config.outputs.directory).path
        guard let data = FileManager.default.contents(atPath: results + "/experiment.json"),
          let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
          let digest = object["config_sha256"] as? String
        else { continue }
        checked += 1
        #expect(try ExperimentPlan(config).configDigest == digest, "\(name): its committed results would not resume")
      }
    }
    #expect(declared >= 17)
    #expect(checked >= 17)
  }

  // MARK: The command

  /// `bdsim plot` hands the script the result directory, `--spec -` with the spec on stdin, and
  /// the `--where`s; a stand-in script records them.
  @Test func thePlotCommandRunsTheScriptWithTheSpec() throws {
    let base = scratchDirectory("plots-cli")
    let directory = base + "/out"
    let config = writeConfig(Self.sweep + "\n" + Self.plots, in: base)
    try runExperiment(config, into: directory, jobs: 2)
    let script = writeConfig(
      "cat > \"$(dirname \"$0\")/spec.json\"\necho \"$@\" > \"$(dirname \"$0\")/args.txt\"\n", in: base,
      name: "fake-plot.sh")
    let result = try runProcess(
      bdsimBinary(),
      ["plot", directory, "--where", "servers=2", "--python", "/bin/sh", "--script", script])
    #expect(result.status == 0, "\(result.stderr)")
    let args = String(decoding: try #require(contents(base, "args.txt")), as: UTF8.self)
    #expect(args == "\(directory) --spec - --where servers=2\n")
    let spec = try #require(contents(base, "spec.json"))
    let object = try #require(try JSONSerialization.jsonObject(with: spec) as? [String: Any])
    #expect((object["plots"] as? [Any])?.count == 3)

    let missing = try runProcess(
      bdsimBinary(),
      ["plot", "--config", config, base + "/none", "--if-exists", "--python", "/bin/sh", "--script", script])
    #expect(missing.status == 0)
    #expect(missing.stdout.contains("skipped: \(base)/none has no results"))
    let other = writeConfig(
      Self.sweep.replacingOccurrences(of: "seed: 7", with: "seed: 8") + "\n" + Self.plots, in: base, name: "other.yaml")
    let refused = try runProcess(
      bdsimBinary(), ["plot", "--config", other, directory, "--python", "/bin/sh", "--script", script])
    #expect(refused.status == 2)
    #expect(refused.stderr.contains("holds results of another config"))
  }
}
