import Foundation
import SimKernel
import Testing

@testable import SimExperiments

/// The experiment layer's limits (what a config may expand to) and its warnings, where a fixture
/// of Fixtures/broken cannot say it: that the loader stops early, that the bounds themselves are
/// accepted, and what the command line prints.
@Suite struct ConfigLimitsTests {
  static let queueing = """
    name: limits
    model: queueing
    duration: 1h
    params: {service: "exp(mean: 1s)", utilisation: 0.5}

    """

  /// `levels` levels of ten aliases of the level below: 10^levels values from a few lines.
  static func aliasBomb(levels: Int) -> String {
    var text = queueing + "description:\n  - &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for level in 1...levels {
      text += "  - &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
    }
    return text
  }

  @Test func anAliasBombIsRefusedAsSoonAsItsAliasesPassTheBound() {
    var added = 0
    #expect {
      try YAMLLoader.parse(Self.aliasBomb(levels: 8), file: "bomb.yaml", aliasValues: &added)
    } throws: { error in
      let error = error as! ConfigError
      // Level 4 is the first whose aliases pass 100,000 values (110 + 1,110 + 11,110 + 111,110).
      return error.location.line == 10 && error.keyPath == "description.4.7"
        && error.message.contains("more than 100000 values (here *a3)") && error.file == "bomb.yaml"
    }
    // It stops at the value past the bound, not after the 10^8 the document stands for.
    #expect(added == YAMLLoader.maximumAliasValues + 1)
  }

  @Test func aliasesUpToTheBoundAreExpanded() throws {
    // Three levels: 110 + 1,110 + 11,110 values added by aliases, every one of them kept.
    var added = 0
    let root = try YAMLLoader.parse(Self.aliasBomb(levels: 3), file: "three.yaml", aliasValues: &added)
    #expect(added == 110 + 1_110 + 11_110)
    let top = try #require(root["description"]?.items?[3].items)
    #expect(top.count == 10 && top[9].items?[9].items?[9].items?[9].scalarText == "x")
  }

  @Test func anAliasedValueIsLocatedAtTheAliasAndItsInsidesAtTheAnchor() throws {
    let text = """
      name: aliased
      model: queueing
      duration: &d 100s   # *d in a comment is not the alias
      description: "neither is *d in quotes"
      params: &p {service: "exp(mean: 1s)", utilisation: 0.5}
      sweep:
        duration: [*d, 200s]
        params: [*p]

      """
    let root = try YAMLLoader.parse(text, file: "a.yaml")
    let swept = try #require(root["sweep"]?["duration"]?.items?[0])
    #expect(swept.scalarText == "100s" && swept.location == SourceLocation(line: 7, column: 14))
    let params = try #require(root["sweep"]?["params"]?.items?[0])
    #expect(params.location == SourceLocation(line: 8, column: 12))
    #expect(params["utilisation"]?.location == SourceLocation(line: 5, column: 52))
  }

  @Test func aSweepIsMeasuredFromItsListsBeforeAnyPointIsMade() throws {
    // 10^20 points: more than an Int holds, so making the points could never end; the error is
    // immediate because it is computed from the lengths of the lists.
    var text = Self.queueing + "sweep:\n"
    for k in 0..<20 { text += "  params.p\(k): [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n" }
    let root = try YAMLLoader.parse(text, file: "huge.yaml")
    #expect {
      try ExperimentConfig.decode(root, file: "huge.yaml", models: shippedModels)
    } throws: { error in
      let error = error as! ConfigError
      return error.keyPath == "sweep" && error.location.line == 6
        && error.message.contains("more than \(Int.max) points")
    }
  }

  @Test func theBoundsThemselvesAreAccepted() throws {
    let directory = scratchDirectory("limits-bounds")
    // 10,000 points (100 x 100) x 10 replications = 100,000 runs; 36500d of simulated time with
    // exactly 100,000 samples.
    let values = (0..<100).map { "\(0.5 + Double($0) / 1000)" }.joined(separator: ", ")
    let widest = writeConfig(
      """
      name: widest
      model: queueing
      duration: 36500d
      replications: 10
      params: {service: "exp(mean: 1s)", utilisation: 0.5, servers: 1}
      sweep:
        params.utilisation: [\(values)]
        zip: [{params.service: [\((0..<100).map { "const(\($0 + 1)ms)" }.joined(separator: ", "))]}]
      outputs:
        timeseries_interval: 31536s

      """, in: directory)
    let config = try ExperimentConfig.load(path: widest, models: shippedModels)
    #expect(config.duration == ExperimentConfig.maximumDuration)
    let plan = try ExperimentPlan(config)
    #expect(plan.points.count == Sweep.maximumPoints && plan.runs.count == ExperimentPlan.maximumRuns)
    #expect(plan.warnings.isEmpty)
    // One nanosecond more is refused, at the duration.
    let longer = writeConfig(
      Self.queueing.replacingOccurrences(of: "duration: 1h", with: "duration: 3153600000000000001ns"), in: directory,
      name: "longer.yaml")
    #expect {
      try ExperimentConfig.load(path: longer, models: shippedModels)
    } throws: { error in
      let error = error as! ConfigError
      return error.keyPath == "duration" && error.location.line == 3 && error.message.contains("100 years")
    }
  }

  @Test func aDeviceOrAHugeFileIsNotReadAsAConfig() throws {
    #expect {
      try YAMLLoader.load(path: "/dev/zero")
    } throws: { error in (error as! ConfigError).message == "is a device, not a config file" }
    let directory = scratchDirectory("limits-huge-file")
    let path = directory + "/huge.yaml"
    let line = "# a comment line that is sixty-four bytes long newline included\n"
    #expect(line.utf8.count == 64)
    let atBound = String(repeating: line, count: YAMLLoader.maximumFileBytes / 64)
    _ = FileManager.default.createFile(atPath: path, contents: Data((atBound + Self.queueing).utf8))
    #expect {
      try YAMLLoader.load(path: path)
    } throws: { error in (error as! ConfigError).message.contains("larger than the 4 MiB") }
    // At the bound exactly, the file is read (and is a config of comments: empty).
    _ = FileManager.default.createFile(atPath: path, contents: Data(atBound.utf8))
    #expect(try YAMLLoader.load(path: path).isNull)
  }

  @Test func namesArePlainFileNames() {
    for bad in [
      "", ".", "..", ".hidden", "a/b", "../up", "tab\tname", "nul\u{0}name", String(repeating: "n", count: 256),
    ] {
      #expect(ExperimentConfig.nameProblem(bad) != nil, "'\(bad)' was accepted as a name")
    }
    for good in ["quickstart", "a.b-c_d", "v1.2", "été", String(repeating: "n", count: 255)] {
      #expect(ExperimentConfig.nameProblem(good) == nil, "'\(good)' was refused as a name")
    }
  }

  @Test func metricPatternsAreNamesOrGlobs() {
    for good in ["station.station.response_mean", "theory.*", "*", "quorum.availability*", "host.rack1-host2.cpu"] {
      #expect(ExperimentConfig.metricPatternProblem(good) == nil, "'\(good)' was refused")
    }
    #expect(ExperimentConfig.metricPatternProblem("a.b - c.d")?.message.contains("two entries joined") == true)
    for bad in ["", "a b", "a,b", "a?b", "a\u{7}b"] {
      #expect(ExperimentConfig.metricPatternProblem(bad) != nil, "'\(bad)' was accepted")
    }
  }

  static let lateFault = """
    name: late-fault
    model: hdfs
    duration: 10s
    platform: {racks: 1, hosts_per_rack: 4}
    faults:
      - {at: 1h, host: rack1-host1}
    params: {workload: none}
    sweep:
      params.replication: [1, 2, 3]

    """

  @Test func aFaultAfterTheEndIsOneWarningForEverySweepPoint() throws {
    let path = writeConfig(Self.lateFault, in: scratchDirectory("limits-late-fault"))
    let plan = try ExperimentPlan(try ExperimentConfig.load(path: path, models: shippedModels))
    #expect(plan.points.count == 3)
    #expect(
      plan.warnings.map(\.description) == [
        "\(path):6:10: warning: at faults.0.at: the fault at 1h is after the end of the run (10s) and never happens"
      ])
  }

  @Test func validateAndRunPrintWarningsAndSucceed() throws {
    let bdsim = bdsimBinary()
    try #require(FileManager.default.isExecutableFile(atPath: bdsim.path), "build bdsim next to the tests")
    let directory = scratchDirectory("limits-warnings-cli")
    let path = writeConfig(Self.lateFault, in: directory)
    let validate = try runProcess(bdsim, ["validate", path])
    let warning =
      "\(path):6:10: warning: at faults.0.at: the fault at 1h is after the end of the run (10s) and never happens\n"
    #expect(validate.exited && validate.status == 0)
    #expect(validate.stderr == warning)
    #expect(validate.stdout.hasPrefix("\(path): OK:"))
    // A time series longer than the run: the run goes ahead, with the warning first.
    let sampled = writeConfig(
      Self.queueing + "outputs:\n  timeseries_interval: 2h\n", in: directory, name: "sampled.yaml")
    let run = try runProcess(bdsim, ["run", "--quiet", "--out", directory + "/out", sampled])
    #expect(run.exited && run.status == 0, "\(run.stderr)")
    #expect(
      run.stderr
        == "\(sampled):6:24: warning: at outputs.timeseries_interval: the interval (2h) is longer than the run (1h), so no sample is taken\n"
    )
    #expect(FileManager.default.fileExists(atPath: directory + "/out/summary.csv"))
  }
}
