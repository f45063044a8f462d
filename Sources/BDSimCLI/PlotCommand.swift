import ArgumentParser
import Foundation
import SimExperiments

struct PlotCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "plot",
    abstract: "Draw the plots an experiment declares (its plots: section) from a result directory.",
    discussion: """
      Runs plots/plot.py (in the working directory; with plots/.venv/bin/python when it exists) on the \
      directory's results, with each metric's unit from the model's catalog. Examples:
        bdsim plot results/broker-durability
        bdsim plot --config experiments/broker-durability.yaml --where replication_factor=3
      """)

  @Argument(help: "A result directory (default with --config: the config's outputs.dir).") var directory: String?
  @Option(help: "Draw the plots this config declares (it must describe the directory's results).") var config: String?
  @Option(
    name: .customLong("where"),
    help: ArgumentHelp(
      "Only the points with this swept value (repeatable; `params.` may be left out).", valueName: "KEY=VALUE"))
  var slices: [String] = []
  @Option(help: "Only the plots of this metric or file (repeatable).") var only: [String] = []
  @Flag(help: "With --config: say so and succeed when the result directory has no results yet.")
  var ifExists = false
  @Option(help: "The Python to run (default: plots/.venv/bin/python if present, else python3).") var python: String?
  @Option(help: "The drawing script (default: plots/plot.py).") var script: String = "plots/plot.py"

  func run() throws {
    if ifExists && config == nil { throw ValidationError("--if-exists needs --config") }
    let (directory, spec) = try Experiment.plotSpec(
      directory: directory, configFile: config, models: Models.registered)
    guard let spec else {
      if ifExists {
        print("skipped: \(directory) has no results (bdsim run \(config ?? "CONFIG"))")
        return
      }
      throw ExperimentError(
        "\(directory) has no summary.csv: run the experiment first (bdsim run \(config ?? "CONFIG"))")
    }
    let fileManager = FileManager.default
    guard fileManager.fileExists(atPath: script) else {
      throw ExperimentError(
        "\(script) not found: run bdsim plot from the BDSim checkout, or give --script PATH/plots/plot.py")
    }
    let venv = "plots/.venv/bin/python"
    let interpreter = python ?? (fileManager.isExecutableFile(atPath: venv) ? venv : "python3")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments =
      [interpreter, script, directory, "--spec", "-"] + slices.flatMap { ["--where", $0] }
      + only.flatMap { ["--only", $0] }
    let input = Pipe()
    process.standardInput = input
    do { try process.run() } catch {
      throw ExperimentError("cannot run \(interpreter): \(error.localizedDescription) (give --python PATH)")
    }
    input.fileHandleForWriting.write(Data((spec + "\n").utf8))
    try? input.fileHandleForWriting.close()
    process.waitUntilExit()
    if process.terminationStatus != 0 { throw ExitCode(process.terminationStatus == 2 ? 2 : 1) }
  }
}
