import Foundation
import Testing

@testable import SimExperiments

/// Issue 17's compare, provenance and `bdsim models` items, through the real binary: what a user
/// types and reads.
@Suite struct CompareAndProvenanceCLITests {
  /// A result directory of the small sweep, made once per test that needs one.
  func resultDirectory(_ name: String) throws -> String {
    let base = scratchDirectory(name)
    let path = writeConfig(smallSweep, in: base)
    try runExperiment(path, into: base + "/out", jobs: 2)
    return base + "/out"
  }

  @Test func versionPrintsTheVersionAndTheCommitBuiltFrom() throws {
    let result = try runProcess(bdsimBinary(), ["--version"])
    #expect(result.status == 0, "\(result.stderr)")
    let line = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(line.hasPrefix(BDSimVersion.string + " (commit "), "\(line)")
    let commit = try Regex("\\(commit ([0-9a-f]{7,}(-dirty)?|unknown)\\)$")
    #expect(line.firstMatch(of: commit) != nil, "no commit or 'unknown' in: \(line)")
    #expect(line == BDSimVersion.full)
  }

  /// The manifest records the build's commit, and the config directory's under its own name: a
  /// config outside any checkout has none, whatever the current directory is.
  @Test func theManifestRecordsTheBuildsCommitAndTheConfigsOwn() throws {
    let directory = try resultDirectory("provenance-manifest")
    let manifest = String(decoding: contents(directory, "manifest.json")!, as: UTF8.self)
    #expect(manifest.contains("\"bdsim_commit\": \"\(BDSimVersion.commit)\""), "\(manifest.prefix(400))")
    #expect(manifest.contains("\"config_git_commit\": null"), "\(manifest.prefix(400))")
    #expect(!manifest.contains("\"git_commit\""))
    #expect(BDSimVersion.commit == "unknown" || BDSimVersion.commit.prefix(40).allSatisfy(\.isHexDigit))
  }

  /// A config kept in a git checkout records that checkout's commit, not the current directory's.
  @Test func aConfigInACheckoutRecordsItsCommit() throws {
    let base = scratchDirectory("provenance-config-checkout")
    let git = URL(fileURLWithPath: "/usr/bin/env")
    guard (try? runProcess(git, ["git", "--version"]))?.status == 0 else { return }  // no git: nothing to record
    let path = writeConfig(smallSweep, in: base)
    for arguments in [
      ["init", "-q"], ["add", "config.yaml"],
      ["-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-q", "-m", "config"],
    ] {
      let result = try runProcess(git, ["git"] + arguments, in: base)
      try #require(result.status == 0, "git \(arguments): \(result.stderr)")
    }
    let head = try runProcess(git, ["git", "rev-parse", "HEAD"], in: base).stdout
      .trimmingCharacters(in: .whitespacesAndNewlines)
    let out = base + "/results"
    let run = try runProcess(
      bdsimBinary(), ["run", path, "--out", out, "--quiet", "--jobs", "2"], in: NSTemporaryDirectory())
    #expect(run.status == 0, "\(run.stderr)")
    let manifest = String(decoding: contents(out, "manifest.json") ?? Data(), as: UTF8.self)
    #expect(head.count == 40 && manifest.contains("\"config_git_commit\": \"\(head)\""), "\(manifest.prefix(500))")
  }

  @Test func compareWritesAFileOnlyWhenAsked() throws {
    let directory = try resultDirectory("compare-cli-csv")
    let plain = try runProcess(
      bdsimBinary(), ["compare", directory, "--metric", "theory.response_mean", "--by", "servers"])
    #expect(plain.status == 0, "\(plain.stderr)")
    #expect(plain.stdout.contains("ratio vs 1") && plain.stdout.contains("-33.33%"), "\(plain.stdout)")
    #expect(!FileManager.default.fileExists(atPath: directory + "/compare.csv"))
    #expect(!plain.stdout.contains("wrote"))

    let file = directory + "/../contrast.csv"
    let asked = try runProcess(
      bdsimBinary(),
      [
        "compare", directory, "--metric", "theory.response_mean", "--a", "servers=1", "utilisation=0.5", "--b",
        "utilisation=0.8", "--csv", file,
      ])
    #expect(asked.status == 0, "\(asked.stderr)")
    #expect(asked.stdout.contains("A: params.servers=1 params.utilisation=0.5"), "\(asked.stdout)")
    #expect(asked.stdout.contains("2.500 [2.500, 2.500]") && asked.stdout.contains("+150.0%"), "\(asked.stdout)")
    let rows = parseCSV(String(decoding: FileManager.default.contents(atPath: file) ?? Data(), as: UTF8.self))
    #expect(rows.count == 3 && abs((Double(rows[2][10]) ?? 0) - 2.5) < 1e-12, "\(rows)")
    #expect(!FileManager.default.fileExists(atPath: directory + "/compare.csv"))
  }

  /// Each bad --a/--b is one line on stderr naming the flag and the fix, and exit status 2.
  @Test(arguments: [
    (["--a", "servers=3", "--b", "servers=2"], "--a: no point of", "params.servers takes 1, 2"),
    (["--a", "servers=1", "--b", "utilisation=0.7"], "--b: no point of", "params.utilisation takes 0.5, 0.8"),
    (["--a", "servers=1"], "--b is missing", "e.g. --a params.servers=1 --b params.servers=2"),
    (["--a", "servers", "--b", "servers=2"], "--a: 'servers' is not KEY=VALUE", "e.g."),
    (["--a", "severs=1", "--b", "servers=2"], "--a: 'params.severs' is not swept", "did you mean 'params.servers'?"),
    (["--a", "servers=1", "--b", "servers=2", "--by", "servers"], "cannot be combined", "--a/--b two points"),
  ])
  func badPointsAreOneLineNamingTheFlag(_ arguments: [String], _ message: String, _ fix: String) throws {
    let directory = try resultDirectory("compare-cli-bad-\(arguments.joined().filter(\.isLetter).prefix(40))")
    let result = try runProcess(
      bdsimBinary(), ["compare", directory, "--metric", "theory.response_mean"] + arguments)
    #expect(result.status == 2, "\(arguments): status \(result.status): \(result.stderr)")
    #expect(result.stdout.isEmpty, "\(result.stdout)")
    let lines = result.stderr.split(separator: "\n")
    #expect(lines.count == 1 && lines[0].hasPrefix("error: "), "\(result.stderr)")
    #expect(result.stderr.contains(message) && result.stderr.contains(fix), "\(result.stderr)")
  }

  /// A directory written after --b is read as one more KEY=VALUE: the error says where it goes.
  /// Directories that sweep different keys cannot be put row by row: the error says so.
  @Test func misplacedAndMismatchedDirectoriesAreOneLineErrors() throws {
    let directory = try resultDirectory("compare-cli-directory-last")
    let late = try runProcess(
      bdsimBinary(), ["compare", "--metric", "theory.response_mean", "--a", "servers=1", "--b", "servers=2", directory])
    #expect(late.status == 2 && late.stdout.isEmpty, "\(late.status): \(late.stdout)")
    #expect(
      late.stderr.hasPrefix("error: --b: '\(directory)' is not KEY=VALUE; result directories go before --a and --b")
        && late.stderr.split(separator: "\n").count == 1, "\(late.stderr)")

    let base = scratchDirectory("compare-cli-other-sweep")
    let path = writeConfig(smallSweep, in: base)
    try runExperiment(path, into: base + "/out", jobs: 2, overrides: ["sweep={params.servers: [1, 2]}"])
    let mismatched = try runProcess(
      bdsimBinary(), ["compare", directory, base + "/out", "--metric", "theory.response_mean"])
    #expect(mismatched.status == 2 && mismatched.stdout.isEmpty, "\(mismatched.status): \(mismatched.stdout)")
    #expect(mismatched.stderr.contains("must sweep the same keys"), "\(mismatched.stderr)")
  }

  /// The listing's names and summaries are separate columns (it printed `lambda-kappaLambda`),
  /// and sizes read in units (`6871947673.6B` is 6.4 GiB).
  @Test func modelsAreAlignedAndDefaultsAreInUnits() throws {
    let list = try runProcess(bdsimBinary(), ["models"])
    #expect(list.status == 0, "\(list.stderr)")
    #expect(list.stdout.contains("lambda-kappa  Lambda"), "\(list.stdout)")
    let rows = list.stdout.split(separator: "\n").prefix { !$0.hasPrefix("bdsim models NAME") }.map(Array.init)
    // Where the first summary starts: every row has a name (or nothing) padded to there.
    let first = try #require(rows.first)
    let column = try #require(first.indices.first { $0 > 0 && first[$0 - 1] == " " && first[$0] != " " })
    for row in rows {
      let lead = String(row.prefix(column))
      let name = lead.trimmingCharacters(in: .whitespaces)
      #expect(!name.contains(" ") && lead.hasSuffix("  "), "run together: \(String(row))")
      #expect(row.count > column && row[column] != " ", "not aligned: \(String(row))")
    }
    let broker = try runProcess(bdsimBinary(), ["models", "broker"])
    #expect(broker.status == 0, "\(broker.stderr)")
    #expect(!broker.stdout.contains("6871947673.6B") && !broker.stdout.contains("13743895347.2B"))
    let dirty = try #require(broker.stdout.split(separator: "\n").first { $0.hasPrefix("params.dirty_background ") })
    #expect(dirty.hasSuffix(" 6.4GiB"), "\(dirty)")
    #expect(broker.stdout.contains(" 30s") && broker.stdout.contains(" 8Gbps") && broker.stdout.contains(" 58GiB"))
  }
}
