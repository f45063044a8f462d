import ArgumentParser
import Foundation
import SimExperiments
import SimKernel
import SimModel
import Synchronization

/// The bdsim command line, run with a list of models: what the `bdsim` tool runs with the
/// shipped models, and what a package of its own runs with those and its own.
public enum BDSimCLI {
  /// Parses `CommandLine.arguments`, runs the command with `models` (what `model:` may name, what
  /// `bdsim models` lists) and exits: status 0, 2 for bad input (one line on stderr), 1 when
  /// `verify` or `validate-published` find a difference, 130 when interrupted. Call it once.
  public static func main(models: [AnyModel]) -> Never {
    Models.set(ModelRegistry(models))
    BDSim.main()
    Foundation.exit(0)
  }
}

/// The models of this process's command line. ArgumentParser makes the commands, so they cannot
/// be handed the list: `BDSimCLI.main(models:)` sets it once, before parsing, and the commands
/// read it (a Mutex, so that Swift 6 checks the access; it is read a few times a command).
enum Models {
  private static let registry = Mutex<ModelRegistry?>(nil)

  static func set(_ models: ModelRegistry) {
    registry.withLock {
      precondition($0 == nil, "BDSimCLI.main(models:) is called once")
      $0 = models
    }
  }

  /// The models `BDSimCLI.main(models:)` was given.
  static var registered: ModelRegistry {
    guard let models = registry.withLock({ $0 }) else {
      preconditionFailure("the commands run under BDSimCLI.main(models:), which sets the models")
    }
    return models
  }
}

struct BDSim: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bdsim",
    abstract: "A deterministic discrete-event simulator of big-data infrastructure.",
    discussion: "Start with: bdsim run experiments/quickstart.yaml",
    version: BDSimVersion.full,
    subcommands: [
      RunCommand.self, ValidateCommand.self, ModelsCommand.self, CompareCommand.self, MergeCommand.self,
      VerifyCommand.self, PlotCommand.self, PHOLDCommand.self, ValidateQueueingCommand.self,
      ValidatePublishedCommand.self,
    ])

  /// Bad input is an answer: every error is one clear message on stderr and exit status 2
  /// (help and --version exit 0; `verify` exits 1 when results differ).
  static func main() {
    // A file-size limit (ulimit -f) then fails the write (EFBIG, reported like a full disk)
    // instead of killing the process.
    signal(SIGXFSZ, SIG_IGN)
    do {
      var command = try parseAsRoot()
      try command.run()
      // What was printed is still buffered when stdout is a file or a pipe: a full disk shows here.
      if fflush(nil) != 0 { fail(ExperimentError.io("write", "standard output", errno: errno).description) }
    } catch let error as ConfigError {
      fail(error.description)
    } catch let error as ValueError {
      fail(error.description)
    } catch let error as ExperimentError {
      fail(error.description)
    } catch let error as ExitCode {
      Foundation.exit(error.rawValue)
    } catch {
      if let error = ExperimentError.fromFileError(error) { fail(error.description) }
      let code = exitCode(for: error)
      if code == .success { exit(withError: error) }
      fail(fullMessage(for: error))
    }
  }

  static func fail(_ message: String) -> Never {
    var text = message
    if !text.contains("error:") && !text.hasPrefix("Error") { text = "error: " + text }
    writeStandardError(text.hasSuffix("\n") ? text : text + "\n")
    Foundation.exit(2)
  }
}

/// The number of cores this process may use.
func activeCores() -> Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
