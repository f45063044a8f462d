import Foundation
import SimExperiments
import SimKernel
import Testing

/// The `published:` section and `bdsim validate-published`: parsing with located errors, and the
/// verdicts of a small M/M/1 run held against queueing theory's mean response 1/(mu - lambda).
@Suite struct PublishedValidationTests {
  /// M/M/1 with a 10 ms mean service at utilisations 0.5 and 0.8: mean responses 20 ms and 50 ms,
  /// their ratio 2.5, and the simulated response over theory's at 0.8 (a ratio of two metrics)
  /// close to 1. The 40 ms check is wrong on purpose.
  static func config(
    dir: String, checks: String = Self.checks,
    calibration: String = "\"the service time (10ms) is the one constant, fitted to rho 0.5\""
  ) -> String {
    """
    name: pv-mm1
    model: queueing
    duration: 300s
    warmup: 20s
    replications: 3
    params:
      service: "exp(mean: 10ms)"
      utilisation: 0.5
    sweep:
      params.utilisation: [0.5, 0.8]
    outputs:
      dir: \(dir)
      metrics:
        - station.station.response_mean
        - theory.response_mean
    published:
      source: "queueing theory: the M/M/1 mean response is 1/(mu - lambda)"
      calibration: \(calibration)
      checks:
    \(checks)
    """
  }

  static let checks = """
        - name: "rho 0.5"
          metric: station.station.response_mean
          where: {params.utilisation: 0.5}
          published: 20ms
          tolerance: 1%
          calibrated: true
        - name: "rho 0.8"
          metric: station.station.response_mean
          where: {params.utilisation: 0.80}
          published: 50ms
          tolerance: 15%
        - name: "0.8 / 0.5"
          metric: station.station.response_mean
          where: {params.utilisation: 0.8}
          relative_to: {params.utilisation: 0.5}
          published: 2.5
          tolerance_absolute: 0.25
        - name: "simulated / theory at 0.8"
          metric: station.station.response_mean
          relative_to_metric: theory.response_mean
          where: {params.utilisation: 0.8}
          published: 1
          tolerance: 15%
        - name: "wrong on purpose"
          metric: station.station.response_mean
          where: {params.utilisation: 0.8}
          published: 40ms
          tolerance: 5%
    """

  /// The error a config with these checks is refused with (nil if it is accepted).
  static func refusal(_ checks: String, _ name: String, calibration: String? = nil) -> ConfigError? {
    let directory = scratchDirectory("pv-refusal-\(name)")
    let text =
      calibration.map { config(dir: "results/x", checks: checks, calibration: $0) }
      ?? config(dir: "results/x", checks: checks)
    let path = writeConfig(text, in: directory)
    guard case .rejected(let error, _) = loadAndPlan(path) else { return nil }
    return error
  }

  @Test func aGoodSectionIsReadWithItsPointsUnitsAndTolerances() throws {
    let directory = scratchDirectory("pv-parse")
    let path = writeConfig(Self.config(dir: "results/x"), in: directory)
    let experiment = try ExperimentConfig.load(path: path, models: shippedModels)
    let section = try #require(experiment.published)
    #expect(section.source.hasPrefix("queueing theory"))
    #expect(
      section.checks.map(\.name) == [
        "rho 0.5", "rho 0.8", "0.8 / 0.5", "simulated / theory at 0.8", "wrong on purpose",
      ])
    #expect(section.checks.map(\.point) == [0, 1, 1, 1, 1])
    #expect(section.checks.map(\.baseline) == [nil, nil, 0, nil, nil])
    #expect(section.checks.map(\.baselineMetric) == [nil, nil, nil, "theory.response_mean", nil])
    #expect(section.checks.map(\.calibrated) == [true, false, false, false, false])
    #expect(section.checks[0].published == PublishedValue(value: 0.02, unit: .duration))
    #expect(section.checks[2].published == PublishedValue(value: 2.5, unit: .number))
    #expect(section.checks[1].tolerance == .relative(0.15))
    #expect(section.checks[2].tolerance == .absolute(0.25))
  }

  @Test func publishedValuesAreNumbersPercentagesOrDurations() throws {
    #expect(try PublishedValue.parse("821557") == PublishedValue(value: 821_557, unit: .number))
    #expect(try PublishedValue.parse("43.9%") == PublishedValue(value: 0.439, unit: .percent))
    #expect(try PublishedValue.parse("45.5ms").value == 0.0455)
    #expect(try PublishedValue.parse("1.85ms").unit == .duration)
    #expect(throws: ValueError.self) { try PublishedValue.parse("1e400") }
    #expect(throws: ValueError.self) { try PublishedValue.parse("fast") }
    #expect(throws: ValueError.self) { try PublishedValue.parse("5 parsecs") }
  }

  /// The section judges results and does not make them: it leaves the digest (and so the
  /// result directory's identity) as it is without it.
  @Test func thePublishedSectionDoesNotChangeTheConfigDigest() throws {
    let directory = scratchDirectory("pv-digest")
    let text = Self.config(dir: "results/x")
    let with = writeConfig(text, in: directory, name: "with.yaml")
    let without = writeConfig(String(text[..<text.range(of: "published:")!.lowerBound]), in: directory, name: "o.yaml")
    let a = try ExperimentPlan(try ExperimentConfig.load(path: with, models: shippedModels))
    let b = try ExperimentPlan(try ExperimentConfig.load(path: without, models: shippedModels))
    #expect(a.configDigest == b.configDigest)
    #expect(a.runs.map(\.specHash) == b.runs.map(\.specHash))
    #expect(b.config.published == nil)
    #expect(a.config.root["published"] != nil, "the section is recorded with the config")
  }

  @Test(arguments: ["170", "171", "172", "173", "174", "199", "200"])
  func brokenFixtureIsLocatedAtItsKey(_ number: String) throws {
    let fixture = try #require(BrokenFixture.named(number + "-"), "fixture \(number) is missing")
    ConfigCorpusTests.check(fixture)
    guard case .rejected(let error, _) = loadAndPlan(fixture.path) else {
      Issue.record("\(fixture.name) was accepted")
      return
    }
    #expect(error.keyPath == fixture.key, "\(error)")
    #expect(error.keyPath.hasPrefix("published.checks.0"))
  }

  @Test func everyMistakeOfACheckIsLocatedAtItsKey() throws {
    let base = """
          - name: "c"
            metric: station.station.response_mean
            where: {params.utilisation: 0.8}
      """
    let cases: [(name: String, checks: String, key: String, message: String)] = [
      (
        "both", base + "\n      published: 50ms\n      tolerance: 10%\n      tolerance_absolute: 5ms",
        "published.checks.0.tolerance_absolute", "both tolerance and tolerance_absolute"
      ),
      ("neither", base + "\n      published: 50ms", "published.checks.0", "missing 'tolerance'"),
      ("wide", base + "\n      published: 50ms\n      tolerance: 150%", "published.checks.0.tolerance", "out of range"),
      ("zero", base + "\n      published: 50ms\n      tolerance: 0%", "published.checks.0.tolerance", "out of range"),
      (
        "units", base + "\n      published: 50ms\n      tolerance_absolute: 0.01",
        "published.checks.0.tolerance_absolute",
        "must be one"
      ),
      (
        "value", base + "\n      published: fast\n      tolerance: 10%", "published.checks.0.published",
        "not a number, a percentage or a duration"
      ),
      (
        "metric",
        base.replacingOccurrences(of: "station.station.response_mean", with: "station.station.wait_mean")
          + "\n      published: 40ms\n      tolerance: 10%", "published.checks.0.metric",
        "outputs.metrics does not keep"
      ),
      (
        "nometric",
        base.replacingOccurrences(of: "      metric: station.station.response_mean\n", with: "")
          + "\n      published: 40ms\n      tolerance: 10%", "published.checks.0", "missing required key 'metric'"
      ),
      (
        "nowhere",
        base.replacingOccurrences(of: "      where: {params.utilisation: 0.8}", with: "      calibrated: false")
          + "\n      published: 40ms\n      tolerance: 10%", "published.checks.0", "missing 'where'"
      ),
      (
        "self", base + "\n      relative_to: {params.utilisation: 0.8}\n      published: 1\n      tolerance: 10%",
        "published.checks.0.relative_to", "same point"
      ),
      (
        "selfmetric",
        base + "\n      relative_to_metric: station.station.response_mean\n      published: 1\n      tolerance: 10%",
        "published.checks.0.relative_to_metric", "the ratio is 1"
      ),
      (
        "divisor",
        base + "\n      relative_to_metric: station.station.wait_mean\n      published: 1\n      tolerance: 10%",
        "published.checks.0.relative_to_metric", "outputs.metrics does not keep"
      ),
      (
        "calibrated", base + "\n      published: 50ms\n      tolerance: 10%\n      calibrated: true",
        "published.checks.0.calibrated", "calibration is 'none'"
      ),
    ]
    for c in cases {
      guard let error = Self.refusal(c.checks, c.name, calibration: c.name == "calibrated" ? "none" : nil) else {
        Issue.record("\(c.name): accepted")
        continue
      }
      #expect(error.keyPath == c.key, "\(c.name): \(error)")
      #expect(error.message.contains(c.message), "\(c.name): \(error)")
      #expect(error.location.line >= 1 && !error.file.isEmpty, "\(c.name): not located: \(error)")
    }
  }

  /// Two swept keys: one of them selects two points, and the hint names the other.
  @Test func aWhereThatSelectsTwoPointsNamesTheKeyThatTellsThemApart() throws {
    let directory = scratchDirectory("pv-two")
    var text = Self.config(
      dir: "results/x",
      checks: """
            - name: "c"
              metric: station.station.response_mean
              where: {params.utilisation: 0.8}
              published: 50ms
              tolerance: 10%
        """)
    text = text.replacingOccurrences(
      of: "  params.utilisation: [0.5, 0.8]", with: "  params.utilisation: [0.5, 0.8]\n  params.servers: [1, 2]")
    let path = writeConfig(text, in: directory)
    guard case .rejected(let error, _) = loadAndPlan(path) else {
      Issue.record("accepted")
      return
    }
    #expect(error.keyPath == "published.checks.0.where")
    #expect(error.message.contains("selects 2 sweep points"), "\(error)")
    #expect(error.hint?.contains("params.servers") == true, "\(error)")
  }

  @Test func aRatioIntervalSpansTheRatiosOfTheTwoIntervals() {
    let a = ConfidenceInterval(count: 3, mean: 10, standardDeviation: 1)
    let b = ConfidenceInterval(count: 3, mean: 5, standardDeviation: 1)
    let (low, high) = PublishedValidation.ratioInterval(a, b)
    #expect(abs(low - a.lower / b.upper) < 1e-12)
    #expect(abs(high - a.upper / b.lower) < 1e-12)
    let spansZero = ConfidenceInterval(count: 3, mean: 0.1, standardDeviation: 1)
    #expect(PublishedValidation.ratioInterval(a, spansZero).0.isNaN)
    #expect(
      PublishedValidation.ratioInterval(a, ConfidenceInterval(count: 1, mean: 5, standardDeviation: .nan)).0.isNaN)
  }

  /// The whole command on a real run: verdicts, exit status, the ratio against summary.csv, the CSV,
  /// and the Markdown table rewritten between its markers only.
  @Test func validatePublishedJudgesARealRunAndRewritesOnlyTheMarkedTable() throws {
    let directory = scratchDirectory("pv-run")
    let configDirectory = directory + "/validation"
    try FileManager.default.createDirectory(atPath: configDirectory, withIntermediateDirectories: true)
    _ = writeConfig(Self.config(dir: "results/pv-mm1"), in: configDirectory, name: "mm1.yaml")
    let before = "# Validation\n\nText before.\n\n\(PublishedValidation.beginMarker)\nold table\n"
    let after = "\(PublishedValidation.endMarker)\n\nText after, kept.\n"
    _ = writeConfig(before + after, in: directory, name: "VALIDATION.md")

    let result = try runProcess(
      bdsimBinary(),
      ["validate-published", "validation", "--jobs", "2", "--csv", "table.csv", "--markdown", "VALIDATION.md"],
      in: directory)
    #expect(result.exited && result.status == 1, "a wrong published value must fail: \(result.stdout) \(result.stderr)")
    #expect(result.stderr.contains("pv-mm1: 2 points x 3 replications = 6 runs, 6 to run"), "\(result.stderr)")
    #expect(result.stdout.contains("3 of 4 predictions pass; 1 calibrated (not counted)"), "\(result.stdout)")

    let rows = try #require(FileManager.default.contents(atPath: directory + "/table.csv")).split(
      separator: UInt8(ascii: "\n")
    )
    .dropFirst().map { String(decoding: $0, as: UTF8.self) }
    #expect(rows.count == 5)
    let verdicts = rows.map { line -> String in
      // The cells before the raw numbers; the CI cell is quoted and holds a comma.
      let unquoted = line.replacingOccurrences(of: #""\[[^"]*\]""#, with: "CI", options: .regularExpression)
      return String(unquoted.split(separator: ",")[8])
    }
    #expect(verdicts == ["calibrated", "pass", "pass", "pass", "FAIL"], "\(rows)")

    // The ratio is the hand-divided means of summary.csv.
    let summary = String(decoding: try #require(contents(directory + "/results/pv-mm1", "summary.csv")), as: UTF8.self)
    let means = summary.split(separator: "\n").filter { $0.contains(",station.station.response_mean,") }.map {
      Double($0.split(separator: ",")[4])!
    }
    #expect(means.count == 2)
    let ratioRow = rows[2].replacingOccurrences(of: #""\[[^"]*\]""#, with: "CI", options: .regularExpression)
      .split(separator: ",")
    #expect(Double(ratioRow[10]) == means[1] / means[0], "\(rows[2])")
    // The ratio of two metrics at one point: the simulated response over theory's at 0.8.
    let theory = summary.split(separator: "\n").filter { $0.contains(",theory.response_mean,") }.map {
      Double($0.split(separator: ",")[4])!
    }
    let metricsRow = rows[3].replacingOccurrences(of: #""\[[^"]*\]""#, with: "CI", options: .regularExpression)
      .split(separator: ",")
    #expect(theory.count == 2 && Double(metricsRow[10]) == means[1] / theory[1], "\(rows[3])")
    #expect(rows[3].contains("simulated / theory at 0.8 (ratio)"), "\(rows[3])")
    #expect(Double(rows[1].split(separator: ",").last!) != nil)

    // Only the text between the markers changed.
    let document = String(decoding: try #require(contents(directory, "VALIDATION.md")), as: UTF8.self)
    #expect(document.hasPrefix(before.replacingOccurrences(of: "old table\n", with: "")))
    #expect(document.hasSuffix(after))
    #expect(!document.contains("old table"))
    #expect(document.contains("| pv-mm1 | wrong on purpose | 40ms |"), "\(document)")
    #expect(document.contains("3 of 4 predictions pass"))
    #expect(
      document.contains(
        "- pv-mm1: queueing theory: the M/M/1 mean response is 1/(mu - lambda). Calibration: the service time"),
      "\(document)")

    // Without the wrong check every prediction passes (exit 0), and editing the section reuses every run.
    let fixed = Self.config(
      dir: "results/pv-mm1", checks: String(Self.checks[..<Self.checks.range(of: "    - name: \"wrong")!.lowerBound]))
    _ = writeConfig(fixed, in: configDirectory, name: "mm1.yaml")
    let again = try runProcess(bdsimBinary(), ["validate-published", "validation/mm1.yaml"], in: directory)
    #expect(again.exited && again.status == 0, "\(again.stdout) \(again.stderr)")
    #expect(again.stderr.contains("all reused from results/pv-mm1"), "\(again.stderr)")
    #expect(again.stdout.contains("3 of 3 predictions pass; 1 calibrated"), "\(again.stdout)")
  }

  @Test func badArgumentsAreRefusedWithExitStatus2() throws {
    let directory = scratchDirectory("pv-args")
    _ = writeConfig(smallSweep, in: directory, name: "plain.yaml")
    let plain = try runProcess(bdsimBinary(), ["validate-published", "plain.yaml"], in: directory)
    #expect(plain.status == 2 && plain.stderr.contains("no published: section"), "\(plain.stderr)")
    // Every config is checked before anything runs: the first experiment's runs are not made.
    let set = directory + "/set"
    try FileManager.default.createDirectory(atPath: set, withIntermediateDirectories: true)
    _ = writeConfig(Self.config(dir: "results/first"), in: set, name: "a.yaml")
    _ = writeConfig(smallSweep, in: set, name: "b.yaml")
    let mixed = try runProcess(bdsimBinary(), ["validate-published", "set"], in: directory)
    #expect(mixed.status == 2 && mixed.stderr.contains("set/b.yaml:1:1: error: at published:"), "\(mixed.stderr)")
    #expect(!FileManager.default.fileExists(atPath: directory + "/results/first"))
    let missing = try runProcess(bdsimBinary(), ["validate-published", "nothing-here"], in: directory)
    #expect(missing.status == 2 && missing.stderr.contains("no such file or directory"), "\(missing.stderr)")
    let empty = try runProcess(bdsimBinary(), ["validate-published", "."], in: scratchDirectory("pv-empty"))
    #expect(empty.status == 2 && empty.stderr.contains("no *.yaml"), "\(empty.stderr)")
  }

  @Test func markersMustBePresentToRewriteATable() {
    #expect(throws: ExperimentError.self) {
      try PublishedValidation.replacingTable(in: "no markers", with: "t", file: "x.md")
    }
    let document = "a\n\(PublishedValidation.beginMarker)\nold\n\(PublishedValidation.endMarker)\nb\n"
    let rewritten = try? PublishedValidation.replacingTable(in: document, with: "new", file: "x.md")
    #expect(rewritten == "a\n\(PublishedValidation.beginMarker)\nnew\n\(PublishedValidation.endMarker)\nb\n")
  }
}
