import Foundation
import SimKernel
import Testing

@testable import SimExperiments

@Suite struct SHA256Tests {
  @Test func matchesTheStandardsTestVectors() {
    #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(
      SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    #expect(
      SHA256.hex(Array(repeating: UInt8(ascii: "a"), count: 1_000_000))
        == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }
}

@Suite struct SweepTests {
  func points(_ yaml: String) throws -> [[String]] {
    let root = try YAMLLoader.parse(yaml, file: "t.yaml")
    let sweep = try Sweep(root["sweep"]!, root: root)
    return sweep.points().map { $0.assignments.map { "\($0.path)=\($0.value.compactText)" } }
  }

  @Test func aGridVariesTheFirstKeySlowest() throws {
    let p = try points("sweep: {params.a: [1, 2], params.b: [x, y, z]}")
    #expect(p.count == 6)
    #expect(p[0] == ["params.a=1", "params.b=x"])
    #expect(p[1] == ["params.a=1", "params.b=y"])
    #expect(p[3] == ["params.a=2", "params.b=x"])
  }

  @Test func zipGroupsVaryTogetherAndExcludeRemovesPoints() throws {
    let p = try points(
      """
      sweep:
        params.a: [1, 2, 3]
        zip:
          - {params.b: [x, y], params.c: [10, 20]}
        exclude:
          - {params.a: 2, params.b: y}
      """)
    #expect(p.count == 5)
    #expect(p.contains(["params.a=1", "params.b=y", "params.c=20"]))
    #expect(!p.contains(["params.a=2", "params.b=y", "params.c=20"]))
    #expect(!p.contains { $0.contains("params.b=x") && $0.contains("params.c=20") })
  }

  @Test func badSweepsAreLocatedErrors() throws {
    for (yaml, fragment) in [
      ("sweep: {params.a: []}", "empty"),
      ("sweep: {seed: [1, 2]}", "cannot sweep"),
      ("sweep: {zip: [{params.a: [1, 2], params.b: [1]}]}", "equally long"),
      ("sweep: {params.a: [1], exclude: [{params.b: 2}]}", "not swept"),
      ("sweep: {params.a: [1], exclude: [{params.a: 1}]}", "every point"),
      ("sweep: {params.a: 5}", "expected a list"),
    ] {
      #expect(throws: ConfigError.self, "\(yaml)") { _ = try points(yaml) }
      do { _ = try points(yaml) } catch let error as ConfigError {
        #expect(error.message.contains(fragment), "\(yaml): \(error)")
      }
    }
  }
}

@Suite struct CSVTests {
  @Test func quotingRoundTrips() {
    let rows = [["plain", "with,comma", "with \"quotes\"", "multi\nline", ""], ["1", "2", "3", "4", "5"]]
    var file = CSVFile(header: rows[0])
    file.append(rows[1])
    #expect(parseCSV(file.takeText()) == rows)
  }

  @Test func numbersPrintShortestAndReadBackExactly() {
    for value in [0.1, 1.0 / 3.0, 5.0, 1e-05, 123_456_789.123, -2.5e300] {
      #expect(Double(formatNumber(value)) == value)
    }
    #expect(formatNumber(.nan) == "nan")
  }

  @Test func globPatterns() {
    #expect(globMatch("station.*.response_mean", "station.web.response_mean"))
    #expect(!globMatch("station.*.response_mean", "network.response_mean"))
    #expect(globMatch("theory.*", "theory.wait_mean"))
    #expect(globMatch("events", "events") && !globMatch("events", "events2"))
  }
}

@Suite struct OverrideAndCompareTests {
  @Test func setOverridesAnyKeyAndIsRecorded() throws {
    let base = scratchDirectory("overrides")
    let path = writeConfig(smallSweep, in: base)
    let config = try ExperimentConfig.load(
      path: path, models: shippedModels,
      overrides: ["params.service=const(1s)", "replications=2", "sweep={params.servers: [3]}"])
    #expect(config.replications == 2)
    let plan = try ExperimentPlan(config)
    #expect(plan.points.count == 1 && plan.runs.count == 2)
    #expect(plan.points[0].definition.contains("const(1s)"))
    #expect(throws: ConfigError.self) {
      _ = try ExperimentConfig.load(path: path, models: shippedModels, overrides: ["replicatons=2"])
    }
    // A swept key cannot be --set (the sweep would override it at every point); its values can.
    #expect {
      _ = try ExperimentConfig.load(path: path, models: shippedModels, overrides: ["params.utilisation=0.7"])
    } throws: { error in
      (error as? ConfigError)?.message.contains("is swept") == true
    }
    let resized = try ExperimentConfig.load(
      path: path, models: shippedModels, overrides: ["sweep.params.utilisation=[0.6, 0.7, 0.8]"])
    #expect(try ExperimentPlan(resized).points.count == 6)
    #expect(throws: ConfigError.self) {
      _ = try ExperimentConfig.load(path: path, models: shippedModels, overrides: ["no-equals-sign"])
    }
    let directory = base + "/out"
    try Experiment.claim(directory, plan: plan, replace: false)
    _ = try Runner(plan: plan, directory: directory, jobs: 1).run()
    try Aggregator(plan: plan, directory: directory).write(commandLine: ["bdsim", "run"])
    let manifest = String(decoding: contents(directory, "manifest.json")!, as: UTF8.self)
    #expect(manifest.contains("\"params.service=const(1s)\""))
    #expect(manifest.contains(plan.configDigest))
  }

  @Test func pairedDifferencesAreTheIntervalOfPerReplicationDifferences() throws {
    let directory = try smallSweepResults("compare")
    let result = try Compare.run(directories: [directory], metric: "station.station.response_mean", by: "servers")
    #expect(result.text.contains("(paired)"))
    // Recompute one paired difference from runs.csv by hand.
    let rows = parseCSV(String(decoding: contents(directory, "runs.csv")!, as: UTF8.self))
    let header = rows[0]
    let servers = header.firstIndex(of: "params.servers")!
    let utilisation = header.firstIndex(of: "params.utilisation")!
    let metric = header.firstIndex(of: "station.station.response_mean")!
    func values(_ s: String) -> [Double] {
      rows.dropFirst().filter { $0[servers] == s && $0[utilisation] == "0.5" }.map { Double($0[metric])! }
    }
    let differences = zip(values("2"), values("1")).map { $0 - $1 }
    let expected = ConfidenceInterval(samples: differences)
    let csv = parseCSV(result.csv)
    let row = try #require(csv.first { $0[0] == "0.5" && $0[1] == "params.servers=2" })
    #expect(Double(row[6])! == expected.mean)
    #expect(abs(Double(row[7])! - expected.lower) < 1e-12)
    #expect(row[9] == "true")
  }

  /// The queueing model's `theory.*` metrics are the formulas' values, the same in every
  /// replication: M/M/1's response time is 1 / (mu - lambda), 2s at utilisation 0.5 and 5s at 0.8;
  /// M/M/2's at 0.5 is 4/3 s. Their ratios are exact and their intervals have no width.
  @Test func ratiosAndChangesOfExactValuesAreTheHandComputedOnes() throws {
    let directory = try smallSweepResults("compare-ratio")
    let byServers = try Compare.run(directories: [directory], metric: "theory.response_mean", by: "servers")
    let csv = parseCSV(byServers.csv)
    #expect(
      csv[0].suffix(6) == [
        "ratio", "ratio_ci95_low", "ratio_ci95_high", "change_pct", "change_pct_ci95_low", "change_pct_ci95_high",
      ])
    let row = try #require(csv.first { $0[0] == "0.5" && $0[1] == "params.servers=2" })
    for column in 10...12 { #expect(abs(Double(row[column])! - 2.0 / 3.0) < 1e-12, "\(csv[0][column])") }
    for column in 13...15 { #expect(abs(Double(row[column])! + 100.0 / 3.0) < 1e-9, "\(csv[0][column])") }
    #expect(byServers.text.contains("0.6667 [0.6667, 0.6667]") && byServers.text.contains("-33.33%"))

    // Two keys changed at once: M/M/1 at 0.8 against M/M/2 at 0.5 is 5 / (4/3) = 3.75, +275%.
    let contrast = try Compare.run(
      directories: [directory], metric: "theory.response_mean", by: nil,
      contrast: .init(a: ["params.servers=2", "utilisation=0.5"], b: ["servers=1", "params.utilisation=0.8"]))
    let rows = parseCSV(contrast.csv)
    #expect(rows.count == 3)
    let b = try #require(rows.first { $0[1].hasPrefix("B:") })
    #expect(abs(Double(b[10])! - 3.75) < 1e-12 && abs(Double(b[13])! - 275) < 1e-9)
    #expect(contrast.text.contains("+275.0%"))

    // A key named on one side only keeps its value on the other: one row per other key's value.
    let oneKey = try Compare.run(
      directories: [directory], metric: "theory.response_mean", by: nil,
      contrast: .init(a: ["utilisation=0.5"], b: ["utilisation=0.8"]))
    let perServers = parseCSV(oneKey.csv).filter { $0[1].hasPrefix("B:") }
    #expect(perServers.map(\.[0]) == ["1", "2"])
    #expect(abs(Double(perServers[0][10])! - 2.5) < 1e-12)
  }

  /// With two directories, A is read from the first and B from the second: the same sweep with
  /// a service time twice as long has exactly twice the theoretical response time.
  @Test func contrastAcrossTwoDirectories() throws {
    let base = scratchDirectory("compare-two-directories")
    let path = writeConfig(smallSweep, in: base)
    try runExperiment(path, into: base + "/one", jobs: 2)
    try runExperiment(path, into: base + "/two", jobs: 2, overrides: ["params.service=\"exp(mean: 2s)\""])
    let result = try Compare.run(
      directories: [base + "/one", base + "/two"], metric: "theory.response_mean", by: nil,
      contrast: .init(a: ["servers=2", "utilisation=0.8"], b: ["servers=2"]))
    #expect(result.text.contains("A: \(base)/one: params.servers=2 params.utilisation=0.8"), "\(result.text)")
    let b = try #require(parseCSV(result.csv).first { $0[1].hasPrefix("B:") })
    #expect(abs(Double(b[10])! - 2) < 1e-12 && abs(Double(b[13])! - 100) < 1e-9, "\(b)")
    #expect(throws: ExperimentError.self) {
      _ = try Compare.run(
        directories: [base + "/one", base + "/two", base + "/one"], metric: "theory.response_mean", by: nil,
        contrast: .init(a: ["servers=1"], b: ["servers=2"]))
    }
  }

  /// Fieller's interval of the ratio of means against values worked by hand.
  @Test func fiellerIntervalOfTheRatioOfMeans() throws {
    func observations(_ values: [Double]) -> [Compare.Observation] {
      values.enumerated().map { Compare.Observation(replication: $0.offset, seed: "s\($0.offset)", value: $0.element) }
    }
    // B is exactly twice A in every replication: the ratio is 2 with no uncertainty at all,
    // although both means have intervals of their own.
    let twice = Compare.difference(observations([10, 11, 12]), observations([20, 22, 24]))
    #expect(twice.paired)
    #expect(abs(twice.ratio.estimate - 2) < 1e-12)
    #expect(abs(twice.ratio.lower - 2) < 1e-9 && abs(twice.ratio.upper - 2) < 1e-9)
    // But when the baseline's own interval reaches zero (1, 2, 3: 2 ± 2.48), so does the
    // ratio's, proportional or not: Fieller's set is then the whole line.
    #expect(Compare.difference(observations([1, 2, 3]), observations([2, 4, 6])).ratio.unbounded)
    // A constant baseline: the interval is B's own interval divided by it. B = 9, 10, 11 over
    // A = 5: mean 10 ± t(0.975, 2) * 1 / sqrt(3), divided by 5.
    let t = StudentT.quantile(probability: 0.975, degreesOfFreedom: 2)
    let constant = Compare.difference(observations([5, 5, 5]), observations([9, 10, 11]))
    #expect(abs(constant.ratio.lower - (10 - t / 3.0.squareRoot()) / 5) < 1e-12)
    #expect(abs(constant.ratio.upper - (10 + t / 3.0.squareRoot()) / 5) < 1e-12)
    // A baseline whose mean cannot be told from zero has no finite interval.
    let nearZero = Compare.difference(observations([-1, 1.2, 0.1]), observations([1, 2, 3]))
    #expect(nearZero.ratio.unbounded)
    // Unpaired (different seeds): the estimate is still the ratio of means.
    let unpaired = Compare.difference(
      observations([1, 2, 3]), [9, 10, 11].map { Compare.Observation(replication: 0, seed: "x\($0)", value: $0) })
    #expect(!unpaired.paired && abs(unpaired.ratio.estimate - 5) < 1e-12)
    #expect(unpaired.ratio.lower < 5 && unpaired.ratio.upper > 5)
  }

  /// A point that does not exist is an error naming the flag, the key and the values it takes.
  @Test func aMissingPointNamesTheKeyAndItsValues() throws {
    let base = scratchDirectory("compare-missing-point")
    let text = smallSweep.replacingOccurrences(
      of: "\noutputs:", with: "\n  exclude:\n    - {params.servers: 2, params.utilisation: 0.8}\noutputs:")
    #expect(text.contains("exclude"))
    let path = writeConfig(text, in: base)
    let directory = base + "/out"
    try runExperiment(path, into: directory, jobs: 2)
    func message(_ a: [String], _ b: [String], by: String? = nil) -> String {
      do {
        _ = try Compare.run(
          directories: [directory], metric: "theory.response_mean", by: by, contrast: .init(a: a, b: b))
        return ""
      } catch { return "\(error)" }
    }
    #expect(
      message(["servers=3"], ["servers=1"])
        == "--a: no point of \(directory) has params.servers=3 (params.servers takes 1, 2)")
    #expect(
      message(["servers=1"], ["utilisation=0.9"]).contains(
        "--b: no point of \(directory) has params.utilisation=0.9 (params.utilisation takes 0.5, 0.8)"))
    // Each value exists, but not together (excluded): the message lists the points there are.
    let excluded = message(["servers=1", "utilisation=0.8"], ["servers=2"])
    #expect(
      excluded.hasPrefix("--b: no point of \(directory) has params.servers=2 params.utilisation=0.8"), "\(excluded)")
    #expect(excluded.contains("params.servers=2 params.utilisation=0.5"), "\(excluded)")
    #expect(message(["srevers=1"], ["servers=2"]).contains("did you mean 'params.servers'?"))
    #expect(message(["servers"], ["servers=2"]).contains("is not KEY=VALUE"))
    #expect(message(["servers=1"], ["servers=2"], by: "servers").contains("cannot be combined"))
    #expect(message(["servers=1", "params.servers=2"], ["servers=2"]).contains("given twice"))
  }
}
