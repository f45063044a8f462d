import Foundation
import SimExperiments
import SimKernel
import Testing

@Suite struct DeterminismTests {
  static let files = ["runs.csv", "summary.csv", "timeseries.csv"]

  @Test func jobsShardsAndResumeGiveByteIdenticalResults() throws {
    let base = scratchDirectory("determinism")
    let config = writeConfig(smallSweep, in: base)
    let one = base + "/jobs1"
    let two = base + "/jobs2"
    try runExperiment(config, into: one, jobs: 1)
    try runExperiment(config, into: two, jobs: 2)
    // Three shards into three directories, then merged.
    for k in 1...3 { try runExperiment(config, into: base + "/shard\(k)", jobs: 1, shard: (k, 3)) }
    _ = try Experiment.merge(
      (1...3).map { base + "/shard\($0)" }, into: base + "/merged", commandLine: [], models: shippedModels)
    // A run stopped half-way (only some records present), then resumed.
    let resumed = base + "/resumed"
    let plan = try runExperiment(config, into: resumed, jobs: 2, shard: (1, 2))
    #expect(!Aggregator(plan: plan, directory: resumed).missingRuns().isEmpty)
    try runExperiment(config, into: resumed, jobs: 2, resume: true)
    for file in Self.files {
      let reference = try #require(contents(one, file))
      #expect(reference.count > 100)
      #expect(contents(two, file) == reference, "--jobs 2: \(file)")
      #expect(contents(base + "/merged", file) == reference, "3 shards merged: \(file)")
      #expect(contents(resumed, file) == reference, "resumed: \(file)")
    }
    #expect(try Experiment.verify(one, jobs: 2, models: shippedModels).isEmpty)
  }

  @Test func resumeSkipsOnlyRunsWithTheSameSpec() throws {
    let base = scratchDirectory("resume")
    let config = writeConfig(smallSweep, in: base)
    let directory = base + "/out"
    let plan = try runExperiment(config, into: directory, jobs: 2)
    // A record for another spec (here: a run left by a different seed) must be re-run, not reused.
    let other = try ExperimentPlan(
      try ExperimentConfig.load(path: config, models: shippedModels, overrides: ["seed=8"]))
    let foreign = RunRecord(run: other.runs[0], output: try other.execute(other.runs[0]), wallSeconds: 0)
    try foreign.write(to: directory)
    #expect(Aggregator(plan: plan, directory: directory).missingRuns() == [0])
    let before = contents(directory, "runs.csv")
    let outcome = try Runner(plan: plan, directory: directory, jobs: 1, resume: true).run()
    #expect(outcome.completed == 1 && outcome.skipped == plan.runs.count - 1)
    try Aggregator(plan: plan, directory: directory).write(commandLine: [])
    #expect(contents(directory, "runs.csv") == before)
  }

  /// Each record names the build that made it; results assembled from records of another build
  /// (kept by --resume) say so, and the manifest counts the records of each build. A record
  /// written before records kept the commit still reads, as made by an unrecorded build.
  @Test func recordsNameTheBuildThatMadeThem() throws {
    let base = scratchDirectory("provenance")
    let directory = base + "/out"
    let plan = try runExperiment(writeConfig(smallSweep, in: base), into: directory, jobs: 1)
    let first = try #require(RunRecord.read(run: 0, from: directory))
    #expect(first.bdsimCommit == BDSimVersion.commit)
    #expect(first.text.contains("\nbdsim \(BDSimVersion.commit)\n"))
    let fresh = try Aggregator(plan: plan, directory: directory).write(commandLine: [])
    #expect(fresh.madeBy.map(\.commit) == [BDSimVersion.commit] && fresh.madeBy[0].runs == plan.runs.count)
    #expect(fresh.provenanceNote == nil)
    // Run 0 as an older build left it (no bdsim line), run 1 as another build made it.
    var old = first
    old.bdsimCommit = nil
    #expect(!old.text.contains("\nbdsim "))
    #expect(RunRecord(text: old.text) == old, "a record without the line reads back")
    try old.write(to: directory)
    var other = try #require(RunRecord.read(run: 1, from: directory))
    other.bdsimCommit = "0123456789abcdef0123456789abcdef01234567"
    try other.write(to: directory)
    let before = contents(directory, "runs.csv")
    let mixed = try Aggregator(plan: plan, directory: directory).write(commandLine: [])
    #expect(contents(directory, "runs.csv") == before, "provenance never changes the results")
    let counts = Dictionary(uniqueKeysWithValues: mixed.madeBy.map { ($0.commit, $0.runs) })
    #expect(counts == ["unknown": 1, other.bdsimCommit!: 1, BDSimVersion.commit: plan.runs.count - 2])
    let note = try #require(mixed.provenanceNote)
    #expect(note.hasPrefix("2 of \(plan.runs.count) results were made by another build of bdsim"))
    #expect(note.contains("1 by an unrecorded build") && note.contains("1 by 0123456789ab"))
    #expect(note.contains("without --resume"))
    let manifest = String(decoding: try #require(contents(directory, "manifest.json")), as: UTF8.self)
    #expect(
      manifest.contains("\"records_made_by\": {\"unknown\": 1, \"0123456789abcdef0123456789abcdef01234567\": 1, "))
  }

  @Test func commonRandomNumbersShareSeedsAcrossPointsAndIndependentDoesNot() throws {
    let base = scratchDirectory("seeds")
    let config = writeConfig(smallSweep, in: base)
    let common = try ExperimentPlan(try ExperimentConfig.load(path: config, models: shippedModels))
    for run in common.runs { #expect(run.seed == common.runs[run.replication].seed) }
    let independent = try ExperimentPlan(
      try ExperimentConfig.load(path: config, models: shippedModels, overrides: ["seeds=independent"]))
    #expect(Set(independent.runs.map(\.seed)).count == independent.runs.count)
  }

  @Test func anotherConfigCannotOverwriteAResultDirectory() throws {
    let base = scratchDirectory("claim")
    let config = writeConfig(smallSweep, in: base)
    try runExperiment(config, into: base + "/out", jobs: 2)
    #expect(throws: ExperimentError.self) {
      try runExperiment(config, into: base + "/out", jobs: 2, overrides: ["seed=99"])
    }
  }
}
