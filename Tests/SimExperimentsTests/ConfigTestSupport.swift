import Foundation
import SimExperiments
import SimKernel
import Testing

// Helpers shared by ConfigCorpusTests, ConfigFuzzTests and ConfigCLITests.

/// What loading a config and expanding it into a plan gives, as `bdsim validate` does it.
enum ConfigOutcome {
  /// Where a ``ConfigError`` came from: `ExperimentConfig.load` or `ExperimentPlan.init`.
  enum Stage: String { case load, plan }
  case accepted(ExperimentPlan)
  case rejected(ConfigError, stage: Stage)

  var error: ConfigError? {
    if case .rejected(let error, _) = self { return error }
    return nil
  }
}

/// Loads `path` and expands it into a plan (never runs the model). Both steps throw only
/// ``ConfigError`` (typed throws), so any other error cannot get through; a trap crashes the test.
func loadAndPlan(_ path: String) -> ConfigOutcome {
  let config: ExperimentConfig
  do { config = try ExperimentConfig.load(path: path) } catch { return .rejected(error, stage: .load) }
  do { return .accepted(try ExperimentPlan(config)) } catch { return .rejected(error, stage: .plan) }
}

/// The repository root, found from this file's path (Tests/SimExperimentsTests/THIS).
func repositoryRoot(_ file: String = #filePath) -> URL {
  URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// The directory of broken configs (a copied resource of the test target).
func brokenFixtureDirectory() -> URL? {
  Bundle.module.url(forResource: "Fixtures", withExtension: nil)?.appendingPathComponent("broken")
}

/// One broken config of Fixtures/broken with what it must produce, read from its leading comment lines:
///
///     # What the fixture is about.
///     # bug: why BDSim gets it wrong today (the check runs as a known issue)
///     # expect-line: 12            (or "12 or 13": any of these lines)
///     # expect-key: params.servers (the key path, or a key inside it)
///     # expect-message: fragment   (repeatable; must appear in the message)
///     # expect-hint: fragment      (repeatable; must appear in the hint)
///     # expect-absent: fragment    (repeatable; must not appear anywhere in the printed error)
struct BrokenFixture: Sendable, CustomTestStringConvertible {
  var name: String
  var path: String
  var lines: [Int] = []
  var key: String?
  var messages: [String] = []
  var hints: [String] = []
  var absent: [String] = []
  var bug: String?

  var testDescription: String { name }

  init(path: String) {
    self.path = path
    name = (path as NSString).lastPathComponent
    // Lossy decoding: the header is ASCII even when the config below it is not UTF-8 on purpose.
    let text = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      guard line.hasPrefix("#") else { break }
      let body = line.dropFirst().drop { $0 == " " }
      guard let colon = body.firstIndex(of: ":") else { continue }
      let directive = String(body[..<colon])
      let value = String(body[body.index(after: colon)...].drop { $0 == " " })
      switch directive {
      case "expect-line": lines = value.split(separator: " ").compactMap { Int($0) }
      case "expect-key": key = value
      case "expect-message": messages.append(value)
      case "expect-hint": hints.append(value)
      case "expect-absent": absent.append(value)
      case "bug": bug = value
      default: break
      }
    }
  }

  /// Every fixture, in file-name order.
  static let all: [BrokenFixture] = {
    guard let directory = brokenFixtureDirectory(),
      let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
    else { return [] }
    return names.filter { $0.hasSuffix(".yaml") }.sorted().map {
      BrokenFixture(path: directory.appendingPathComponent($0).path)
    }
  }()

  static func named(_ prefix: String) -> BrokenFixture? { all.first { $0.name.hasPrefix(prefix) } }
}

/// Where `bdsim` was built: next to the test bundle (`.build-xxx/debug/bdsim`).
func bdsimBinary() -> URL {
  Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("bdsim")
}

/// The result of running a program to its end.
struct ProcessResult {
  var status: Int32
  /// False when the process died of a signal (a crash).
  var exited: Bool
  var stdout: String
  var stderr: String
}

/// Runs `executable` with `arguments` and collects its output (both pipes are drained while it runs).
func runProcess(_ executable: URL, _ arguments: [String], in directory: String? = nil) throws -> ProcessResult {
  let process = Process()
  process.executableURL = executable
  process.arguments = arguments
  if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
  // A crash must show as a crash, quickly: no symbolicated backtrace.
  var environment = ProcessInfo.processInfo.environment
  environment["SWIFT_BACKTRACE"] = "enable=no"
  process.environment = environment
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  process.standardInput = FileHandle.nullDevice
  try process.run()
  let group = DispatchGroup()
  nonisolated(unsafe) var errData = Data()
  group.enter()
  DispatchQueue.global().async {
    errData = err.fileHandleForReading.readDataToEndOfFile()
    group.leave()
  }
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  group.wait()
  process.waitUntilExit()
  return ProcessResult(
    status: process.terminationStatus, exited: process.terminationReason == .exit,
    stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}
