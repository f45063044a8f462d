import Foundation
import SimExperiments
import SimKernel
import Testing

/// `outputs.trace` end to end: a file per run, the same whatever `--jobs`, remade by `--resume`
/// when it is missing, and located errors for what cannot be traced.
@Suite struct TraceOutputTests {
  /// 2 racks of 2 hosts on 10 Gbps (1.25e9 B/s) links, 2:1 oversubscribed (a 1.25e9 B/s uplink),
  /// every host sends 64 MiB to the other three. A rack uplink carries 4 cross-rack flows at
  /// 312.5e6 B/s each; a host link gives its intra-rack flow the rest, 1.25e9 - 2 x 312.5e6 =
  /// 625e6 B/s. Intra: 67,108,864 / 625e6 = 0.1073741824 s, cross: 0.2147483648 s (rounded up
  /// to the nanosecond), with no change of rate when the intra-rack flows end.
  static let config = """
    name: traced
    model: transfer
    duration: 1h
    seed: 1
    replications: 1
    platform:
      racks: 2
      hosts_per_rack: 2
      host_link: 10Gbps
      host_link_latency: 25us
      uplink_latency: 25us
      oversubscription: 2
    params:
      workload: shuffle
      bytes: 64MiB
    sweep:
      platform.oversubscription: [2, 1]
    outputs:
      trace: [network]
    """

  func rows(_ directory: String, run: Int) throws -> [[String]] {
    let text = try String(contentsOfFile: TraceSelection.path(run: run, in: directory), encoding: .utf8)
    return text.split(separator: "\n").map {
      $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
  }

  @Test func eachRunWritesItsTraceWhateverTheJobs() throws {
    let base = scratchDirectory("trace-jobs")
    let path = writeConfig(Self.config, in: base)
    try runExperiment(path, into: base + "/one", jobs: 1)
    try runExperiment(path, into: base + "/two", jobs: 2)
    for run in [0, 1] {
      let file = TraceSelection.path(run: run, in: "")
      #expect(contents(base + "/one", file) != nil && contents(base + "/one", file) == contents(base + "/two", file))
    }
    let all = try rows(base + "/one", run: 0)
    #expect(
      all[0] == [
        "activity", "kind", "by", "start_s", "end_s", "latency_s", "amount", "served", "src", "dst", "route", "outcome",
      ])
    #expect(all.count == 13)
    let body = all.dropFirst()
    #expect(body.allSatisfy { $0[1] == "network" && $0[3] == "0" && $0[6] == "67108864" && $0[11] == "finished" })
    let intra = body.filter { $0[8].prefix(5) == $0[9].prefix(5) }
    #expect(intra.count == 4 && intra.allSatisfy { $0[4] == "0.107374183" && $0[5] == "0.00005" })
    let cross = body.filter { $0[8].prefix(5) != $0[9].prefix(5) }
    #expect(cross.count == 8 && cross.allSatisfy { $0[4] == "0.214748365" && $0[10].contains("uplink") })
    // Without oversubscription every flow shares only host links: 3 per link, 1.25e9 / 3 each.
    let flat = try rows(base + "/one", run: 1).dropFirst()
    #expect(flat.count == 12 && flat.allSatisfy { $0[4] == "0.161061274" })
  }

  @Test func resumeRemakesARunWhoseTraceIsMissing() throws {
    let base = scratchDirectory("trace-resume")
    let directory = base + "/out"
    let path = writeConfig(Self.config, in: base)
    let plan = try runExperiment(path, into: directory, jobs: 1)
    let kept = TraceSelection.path(run: 1, in: directory)
    let before = try FileManager.default.attributesOfItem(atPath: kept)[.modificationDate] as? Date
    try FileManager.default.removeItem(atPath: TraceSelection.path(run: 0, in: directory))
    let outcome = try Runner(plan: plan, directory: directory, jobs: 1, resume: true).run()
    #expect(outcome.skipped == 1 && outcome.completed == 1)
    #expect(FileManager.default.fileExists(atPath: TraceSelection.path(run: 0, in: directory)))
    #expect(try FileManager.default.attributesOfItem(atPath: kept)[.modificationDate] as? Date == before)
  }

  /// Traces made with other kinds or another window are made again, all of them, and the
  /// record of the selection follows; the same selection again remakes nothing.
  @Test func resumeRemakesEveryTraceWhenTheSelectionChanges() throws {
    let base = scratchDirectory("trace-reselect")
    let directory = base + "/out"
    let path = writeConfig(Self.config, in: base)
    let plan = try runExperiment(path, into: directory, jobs: 1)
    let record = { String(decoding: contents(directory, "traces/selection") ?? Data(), as: UTF8.self) }
    #expect(record() == "kinds network from 0s until end\n")
    let other = writeConfig(
      Self.config.replacingOccurrences(of: "trace: [network]", with: "trace: {kinds: [network, cpu], until: 1s}"),
      in: base, name: "other.yaml")
    let replanned = try ExperimentPlan(try ExperimentConfig.load(path: other, models: shippedModels))
    #expect(replanned.runs.map(\.specHash) == plan.runs.map(\.specHash), "the trace is not part of a run's spec")
    let outcome = try Runner(plan: replanned, directory: directory, jobs: 1, resume: true).run()
    #expect(outcome.skipped == 0 && outcome.completed == 2)
    #expect(record() == "kinds cpu,network from 0s until 1s\n")
    let again = try Runner(plan: replanned, directory: directory, jobs: 1, resume: true).run()
    #expect(again.skipped == 2 && again.completed == 0)
  }

  @Test func noTraceWritesNoTraces() throws {
    let base = scratchDirectory("trace-none")
    let path = writeConfig(Self.config.replacingOccurrences(of: "trace: [network]", with: "trace: false"), in: base)
    try runExperiment(path, into: base + "/out", jobs: 1)
    #expect(!FileManager.default.fileExists(atPath: base + "/out/traces"))
  }

  @Test(arguments: [
    ("trace: [netwrk]", "outputs.trace.0", "did you mean 'network'?"),
    ("trace: []", "outputs.trace", "name some of network, disk, cpu, message"),
    ("trace: maybe", "outputs.trace", "e.g. trace: true"),
    ("trace: {kinds: disk}", "outputs.trace.kinds", "e.g. trace: true"),
    ("trace: {from: 20s, until: 10s}", "outputs.trace.until", "from <= until"),
    ("trace: {form: 20s}", "outputs.trace.form", "did you mean 'from'?"),
  ])
  func aBadTraceIsALocatedError(line: String, keyPath: String, hint: String) throws {
    // A directory of its own: the cases run in parallel.
    let base = scratchDirectory("trace-bad-" + String(line.filter { $0.isLetter || $0.isNumber }))
    let path = writeConfig(Self.config.replacingOccurrences(of: "trace: [network]", with: line), in: base)
    let error = try #require(throws: ConfigError.self) {
      _ = try ExperimentConfig.load(path: path, models: shippedModels)
    }
    #expect(error.keyPath == keyPath)
    #expect(error.location.line == 19)
    #expect(error.hint?.contains(hint) == true)
  }

  @Test func aModelOffThePlatformHasNothingToTrace() throws {
    let base = scratchDirectory("trace-queueing")
    let path = writeConfig(
      """
      name: q
      model: queueing
      duration: 100s
      params:
        service: "exp(mean: 1s)"
        utilisation: 0.5
      outputs:
        trace: true
      """, in: base)
    let error = try #require(throws: ConfigError.self) {
      _ = try ExperimentConfig.load(path: path, models: shippedModels)
    }
    #expect(error.keyPath == "outputs.trace" && error.location.line == 8)
    #expect(error.message.contains("does not run on the platform"))
  }
}
