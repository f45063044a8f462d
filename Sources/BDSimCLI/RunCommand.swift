import ArgumentParser
import Foundation
import SimExperiments
import SimKernel

struct RunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run", abstract: "Run an experiment: every sweep point x replication, then the result files.")

  @Argument(help: "The experiment config (YAML).") var config: String
  @Option(help: "Result directory (default: the config's outputs.dir, else results/NAME).") var out: String?
  @Option(help: "Worker threads (default: all cores).") var jobs: Int?
  @Flag(help: "Skip runs whose result is already in the directory with the same spec.") var resume = false
  @Option(help: "Run only shard K of N (1-based), e.g. 2/8, for Slurm job arrays.") var shard: String?
  @Option(name: .customLong("set"), help: "Override a config key: --set params.servers=4 (repeatable).")
  var overrides: [String] = []
  @Flag(help: "No progress bar or summary table.") var quiet = false
  @Option(
    help: ArgumentHelp(
      "The metrics the summary table shows: names or patterns, comma-separated, or 'all' (default: the first 6 of"
        + " outputs.metrics, else the model's headline metrics).", valueName: "PATTERNS"))
  var metrics: String?

  func run() throws {
    let shard = try parseShard(self.shard)
    let jobs = try checkJobs(self.jobs)
    let experiment = try ExperimentConfig.load(path: config, models: Models.registered, overrides: overrides)
    let plan = try ExperimentPlan(experiment)
    for warning in plan.warnings { writeStandardError("\(warning)\n") }
    let directory = out ?? experiment.outputs.directory
    if shard != nil, experiment.precision != nil {
      throw ValueError(
        "an experiment with precision: decides each round from every result of the round before, so it cannot be "
          + "split into shards", key: "--shard", hint: "run it without --shard (--jobs N uses the cores of one machine)"
      )
    }
    try Experiment.claim(directory, plan: plan, replace: false)
    // Progress in place on a terminal, a line every 10 s in a log; none with --quiet.
    let progress = quiet ? nil : Progress(terminal: isatty(2) == 1)
    let runner = Runner(plan: plan, directory: directory, jobs: jobs, shard: shard, resume: resume)
    var resumeCommand = CommandLine.arguments.map(shellQuote).joined(separator: " ")
    if !resume { resumeCommand += " --resume" }
    Runner.installInterruptHandler(directory: directory, resumeCommand: resumeCommand)
    if !quiet {
      writeStandardError(
        "\(experiment.name): \(plan.points.count) points x \(experiment.replications) replications = \(plan.runs.count) runs"
          + (experiment.precision.map {
            " to start, up to \($0.maxReplications) replications a point until \($0.metric) is within ±\($0.targetText)"
          } ?? "")
          + (shard.map { ", shard \($0.index)/\($0.count): \(runner.assignedRuns.count) runs" } ?? "")
          + ", \(jobs) jobs\n")
    }
    let outcome = try Experiment.execute(
      plan, directory: directory, jobs: jobs, shard: shard, resume: resume, progress: progress)
    if outcome.interrupted {
      writeStandardError(
        "interrupted: \(outcome.completed + outcome.skipped) of \(outcome.assigned) runs"
          + (experiment.precision == nil ? "" : " decided so far (round \(outcome.rounds - 1))")
          + " have results in \(directory)/runs.\n"
          + "Nothing already written was damaged. To finish, run:\n  \(resumeCommand)\n")
      throw ExitCode(130)
    }
    let aggregator = Aggregator(plan: outcome.plan, directory: directory)
    let missing = aggregator.missingRuns()
    if !missing.isEmpty {
      print(
        "shard done: \(outcome.completed) runs; \(missing.count) of \(plan.runs.count) runs of the experiment have no result yet."
      )
      print("When every shard has finished, join them with: bdsim merge \(directory) [OTHER_SHARD_DIRS...]")
      return
    }
    let summary = try aggregator.write(commandLine: CommandLine.arguments)
    for warning in summary.metricWarnings { writeStandardError("\(warning)\n") }
    for warning in summary.steadyWarnings { writeStandardError("warning: \(warning)\n") }
    if let note = summary.provenanceNote { writeStandardError("note: \(note)\n") }
    for warning in summary.precisionWarnings { writeStandardError("warning: precision not met: \(warning)\n") }
    if !quiet {
      if experiment.precision != nil {
        print(
          "precision: \(outcome.plan.runs.count) runs in \(outcome.rounds) round\(outcome.rounds == 1 ? "" : "s"); "
            + "\(summary.precision.filter(\.met).count) of \(plan.points.count) points met the target")
      }
      print(
        SummaryTable.render(plan: outcome.plan, summary: summary, metrics: tablePatterns(metrics), width: outputWidth())
      )
      print("\nwrote \(directory)/runs.csv, summary.csv, timeseries.csv, manifest.json")
      if experiment.outputs.trace != nil {
        print("and \(directory)/traces/: one activity trace per run (outputs.trace)")
      }
    }
  }
}

struct ValidateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "validate", abstract: "Check a config without running it: every key, value and sweep point.")

  @Argument(help: "The experiment config (YAML).") var config: String
  @Option(name: .customLong("set"), help: "Override a config key (repeatable).") var overrides: [String] = []

  func run() throws {
    let experiment = try ExperimentConfig.load(path: config, models: Models.registered, overrides: overrides)
    let plan = try ExperimentPlan(experiment)
    for warning in plan.warnings { writeStandardError("\(warning)\n") }
    print(
      "\(config): OK: '\(experiment.name)', model \(experiment.model.name), \(plan.points.count) points x "
        + "\(experiment.replications) replications = \(plan.runs.count) runs"
        + (experiment.precision.map {
          " to start; precision: up to \($0.maxReplications) replications a point (\(plan.points.count * $0.maxReplications) runs)"
        } ?? ""))
    if !experiment.sweep.paths.isEmpty { print("swept: \(experiment.sweep.paths.joined(separator: ", "))") }
  }
}

struct MergeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "merge", abstract: "Join the results of shards (bdsim run --shard) into one result directory.")

  @Argument(help: "Result directories of the shards.") var directories: [String]
  @Option(help: "Where to write the merged results (default: the first directory).") var out: String?

  func run() throws {
    let output = out ?? directories[0]
    let (plan, summary) = try Experiment.merge(
      directories, into: output, commandLine: CommandLine.arguments, models: Models.registered)
    print(SummaryTable.render(plan: plan, summary: summary, width: outputWidth()))
    print("\nmerged \(plan.runs.count) runs into \(output)")
  }
}

struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify", abstract: "Re-run a result directory from its recorded config and byte-compare every CSV.")

  @Argument(help: "A result directory.") var directory: String
  @Option(help: "Worker threads (default: all cores).") var jobs: Int?

  func run() throws {
    let differing = try Experiment.verify(directory, jobs: try checkJobs(jobs), models: Models.registered)
    if differing.isEmpty {
      print("verified: runs.csv, summary.csv and timeseries.csv in \(directory) are reproduced byte for byte")
    } else {
      print("DIFFERENT: \(differing.joined(separator: ", ")) in \(directory) are not reproduced by re-running")
      throw ExitCode(1)
    }
  }
}

struct CompareCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract:
      "Compare one metric across result directories, across levels of a swept parameter, or between two sweep points.",
    discussion: """
      Each comparison shows the difference (paired per replication when the seeds match, else Welch's), the ratio \
      of the means and the percent change, with 95% intervals (Fieller's for the ratio). Examples:
        bdsim compare results/q --metric M --by servers
        bdsim compare results/q --metric M --a servers=1 utilisation=0.5 --b servers=2
      """)

  @Argument(help: "Result directories (before --a and --b).") var directories: [String] = []
  @Option(help: "The metric (a column of runs.csv).") var metric: String
  @Option(help: "Compare the levels of this swept parameter against its first level.") var by: String?
  @Option(
    parsing: .upToNextOption,
    help: ArgumentHelp(
      "The baseline point: KEY=VALUE of swept keys (several allowed); keys not named give one row each.",
      valueName: "KEY=VALUE"))
  var a: [String] = []
  @Option(
    parsing: .upToNextOption,
    help: ArgumentHelp(
      "The point compared with --a (keys named only in --a keep --a's value); from the second directory if two.",
      valueName: "KEY=VALUE"))
  var b: [String] = []
  @Option(
    help: ArgumentHelp(
      "Also write the comparison as CSV to this file (nothing is written without it).", valueName: "FILE"))
  var csv: String?

  func run() throws {
    guard !directories.isEmpty else {
      // `--b servers=2 results/q` reads the directory as one more KEY=VALUE of --b.
      for (flag, items) in [("--a", a), ("--b", b)] {
        if let item = items.first(where: { !$0.contains("=") }) {
          throw ExperimentError(
            "\(flag): '\(item)' is not KEY=VALUE; result directories go before --a and --b "
              + "(bdsim compare \(item) --metric \(metric) --a ... --b ...)")
        }
      }
      throw ExperimentError("compare needs a result directory (bdsim compare DIR --metric \(metric))")
    }
    var contrast: Compare.Contrast?
    if !a.isEmpty || !b.isEmpty {
      guard !a.isEmpty, !b.isEmpty else {
        let missing = a.isEmpty ? "--a" : "--b"
        throw ExperimentError(
          "\(missing) is missing: --a and --b go together (e.g. --a params.servers=1 --b params.servers=2)")
      }
      contrast = Compare.Contrast(a: a, b: b)
    }
    let result = try Compare.run(directories: directories, metric: metric, by: by, contrast: contrast)
    print(result.text)
    if let csv {
      try writeAtomically(result.csv, to: csv)
      print("\nwrote \(csv)")
    }
  }
}

func parseShard(_ text: String?) throws(ValueError) -> (index: Int, count: Int)? {
  guard let text else { return nil }
  let parts = text.split(separator: "/")
  guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 1, k <= n else {
    throw ValueError(
      "--shard: '\(text)' is not K/N with 1 <= K <= N", key: "--shard",
      hint: "e.g. --shard 2/8; on Slurm: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT")
  }
  return (k, n)
}

func checkJobs(_ jobs: Int?) throws(ValueError) -> Int {
  guard let jobs else { return activeCores() }
  guard jobs >= 1 else { throw ValueError("--jobs must be at least 1, got \(jobs)", key: "--jobs") }
  return jobs
}

/// `--metrics a,b*` as patterns (nil when not given).
func tablePatterns(_ option: String?) -> [String]? {
  option.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
}
