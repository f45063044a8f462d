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
      path: path, overrides: ["params.service=const(1s)", "replications=2", "sweep={params.servers: [3]}"])
    #expect(config.replications == 2)
    let plan = try ExperimentPlan(config)
    #expect(plan.points.count == 1 && plan.runs.count == 2)
    #expect(plan.points[0].definition.contains("const(1s)"))
    #expect(throws: ConfigError.self) { _ = try ExperimentConfig.load(path: path, overrides: ["replicatons=2"]) }
    // A swept key cannot be --set (the sweep would override it at every point); its values can.
    #expect {
      _ = try ExperimentConfig.load(path: path, overrides: ["params.utilisation=0.7"])
    } throws: { error in
      (error as? ConfigError)?.message.contains("is swept") == true
    }
    let resized = try ExperimentConfig.load(path: path, overrides: ["sweep.params.utilisation=[0.6, 0.7, 0.8]"])
    #expect(try ExperimentPlan(resized).points.count == 6)
    #expect(throws: ConfigError.self) { _ = try ExperimentConfig.load(path: path, overrides: ["no-equals-sign"]) }
    let directory = base + "/out"
    try Experiment.claim(directory, plan: plan, replace: false)
    _ = try Runner(plan: plan, directory: directory, jobs: 1).run()
    try Aggregator(plan: plan, directory: directory).write(commandLine: ["bdsim", "run"])
    let manifest = String(decoding: contents(directory, "manifest.json")!, as: UTF8.self)
    #expect(manifest.contains("\"params.service=const(1s)\""))
    #expect(manifest.contains(plan.configDigest))
  }

  @Test func pairedDifferencesAreTheIntervalOfPerReplicationDifferences() throws {
    let base = scratchDirectory("compare")
    let path = writeConfig(smallSweep, in: base)
    let directory = base + "/out"
    try runExperiment(path, into: directory, jobs: 2)
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
}
