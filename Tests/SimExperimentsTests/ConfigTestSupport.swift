import Foundation
import SimExperiments
import SimKernel
import Synchronization
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
  do { config = try ExperimentConfig.load(path: path, models: shippedModels) } catch {
    return .rejected(error, stage: .load)
  }
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

/// The result of a subprocess run under limits.
struct LimitedResult: Sendable {
  /// The exit status, or the signal number when it died of one.
  var status: Int32
  /// The signal it died of, if any, other than our kill at the wall-time limit.
  var signal: Int32?
  /// Killed by us at the wall-time limit (not a crash).
  var killed: Bool
  var stdout: String
  var stderr: String
  var seconds: Double
  /// The peak resident set size it reached (`wait4`'s ru_maxrss).
  var maxResidentKB: Int
}

/// Runs `executable` under `ulimit -v memoryKB` (through bash, then `exec`, so the pid waited for
/// and measured is the program's), with stdin from /dev/null and stdout and stderr to files, and
/// kills it with SIGKILL after `seconds` of wall time: a runaway cannot take the machine with it.
/// `backtrace`: with the runtime's symbolicated backtrace of a crash (slow), else none.
func runLimited(
  _ executable: String, _ arguments: [String], memoryKB: Int, seconds: Double, backtrace: Bool = false
) -> LimitedResult {
  let directory = NSTemporaryDirectory() + "bdsim-limited-\(UUID().uuidString)"
  try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: directory) }
  let outPath = directory + "/stdout"
  let errPath = directory + "/stderr"
  var actions = posix_spawn_file_actions_t()
  posix_spawn_file_actions_init(&actions)
  defer { posix_spawn_file_actions_destroy(&actions) }
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
  posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
  posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
  var environment = ProcessInfo.processInfo.environment
  environment["SWIFT_BACKTRACE"] = backtrace ? "enable=yes,interactive=no,color=no,threads=crashed" : "enable=no"
  let words = ["/bin/bash", "-c", "ulimit -v \(memoryKB) && exec \"$0\" \"$@\"", executable] + arguments
  let argv = words.map { strdup($0) } + [nil]
  let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
  defer {
    for pointer in argv { free(pointer) }
    for pointer in envp { free(pointer) }
  }
  let start = Date()
  var pid: pid_t = 0
  let spawned = posix_spawn(&pid, "/bin/bash", &actions, nil, argv, envp)
  guard spawned == 0 else {
    return LimitedResult(
      status: -1, signal: nil, killed: false, stdout: "", stderr: "cannot start bash: errno \(spawned)", seconds: 0,
      maxResidentKB: 0)
  }
  let child = pid
  let finished = DispatchSemaphore(value: 0)
  let killed = Mutex(false)
  DispatchQueue.global().async {
    if finished.wait(timeout: .now() + seconds) == .timedOut {
      killed.withLock { $0 = true }
      kill(child, SIGKILL)
    }
  }
  var status: Int32 = 0
  var usage = rusage()
  while wait4(child, &status, 0, &usage) < 0 && errno == EINTR {}
  finished.signal()
  let exited = status & 0x7f == 0
  let signal = status & 0x7f
  let wasKilled = !exited && signal == SIGKILL && killed.withLock { $0 }
  func read(_ path: String) -> String {
    String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
  }
  return LimitedResult(
    status: exited ? (status >> 8) & 0xff : signal, signal: exited || wasKilled ? nil : signal, killed: wasKilled,
    stdout: read(outPath), stderr: read(errPath), seconds: Date().timeIntervalSince(start),
    maxResidentKB: usage.ru_maxrss)
}
