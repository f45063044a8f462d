import ArgumentParser
import SimKernel
import SimModels

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@main
struct BDSim: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bdsim",
    abstract: "A deterministic discrete-event simulator of big-data infrastructure.",
    version: BDSimVersion.string,
    subcommands: [PHOLDCommand.self, ValidateQueueingCommand.self, ModelsCommand.self])

  /// Bad input is an answer: every error is one clear line on stderr and exit status 2
  /// (help and --version exit 0).
  static func main() {
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch let error as ValueError {
      fail(error.description)
    } catch {
      let code = exitCode(for: error)
      if code == .success {
        exit(withError: error)
      }
      fail(fullMessage(for: error))
    }
  }

  static func fail(_ message: String) -> Never {
    var text = message
    if !text.hasPrefix("error") && !text.hasPrefix("Error") { text = "error: " + text }
    writeStandardError(text.hasSuffix("\n") ? text : text + "\n")
    Glibc.exit(2)
  }
}

enum BDSimVersion {
  static let string = "0.1.0"
}

/// Writes to file descriptor 2 (the C `stderr` global is shared mutable state to Swift 6).
func writeStandardError(_ text: String) {
  let bytes = Array(text.utf8)
  _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
