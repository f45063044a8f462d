import Foundation
import SimKernel
import Testing

@testable import SimExperiments

/// The real binary against real I/O failures (a file-size limit, a full file system, a read-only
/// one, files where directories should be): exit 2, one line naming the path, every complete
/// record kept, and a `--resume` that gives the bytes of a clean run.
@Suite(.serialized) struct RunnerIOTests {
  /// Runs `script` under bash with `config` and the binary in the environment ($CONFIG, $BDSIM).
  static func bash(_ script: String, in directory: String) throws -> ProcessResult {
    try runProcess(URL(fileURLWithPath: "/bin/bash"), ["-c", script], in: directory)
  }

  /// A scratch directory with the small sweep's config and a clean run of it in `reference`.
  static func prepare(_ name: String) throws -> (base: String, config: String, reference: String) {
    let bdsim = bdsimBinary()
    try #require(FileManager.default.isExecutableFile(atPath: bdsim.path), "no bdsim at \(bdsim.path)")
    let base = scratchDirectory(name)
    let config = writeConfig(smallSweep, in: base)
    let reference = base + "/reference"
    let clean = try runProcess(bdsim, ["run", config, "--out", reference, "--quiet"])
    try #require(clean.status == 0, "\(clean.stderr)")
    return (base, config, reference)
  }

  /// The complete records in `DIR/runs` and the temporary files left anywhere in DIR.
  static func inventory(_ directory: String) -> (records: Int, torn: [String], temporary: [String]) {
    var records = 0
    var torn: [String] = []
    var temporary: [String] = []
    for folder in [directory, directory + "/runs"] {
      for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
        if name.contains(".tmp-") { temporary.append(name) }
        guard name.hasSuffix(".rec") else { continue }
        let bytes = FileManager.default.contents(atPath: folder + "/" + name).map { Array($0) } ?? []
        if RunRecord(bytes: bytes) != nil { records += 1 } else { torn.append(name) }
      }
    }
    return (records, torn, temporary)
  }

  static func expectIdenticalCSVs(_ directory: String, _ reference: String) throws {
    for file in ["runs.csv", "summary.csv", "timeseries.csv"] {
      let expected = try #require(contents(reference, file))
      #expect(contents(directory, file) == expected, "\(file) differs from a clean run's")
    }
  }

  /// The one line a failed command must print, checked for its start and the reason.
  static func expectOneLine(_ result: ProcessResult, startsWith prefix: String, _ reason: String) {
    #expect(result.exited && result.status == 2, "status \(result.status), exited \(result.exited): \(result.stderr)")
    #expect(result.stderr.hasPrefix(prefix), "\(result.stderr)")
    #expect(result.stderr.contains(reason), "\(result.stderr)")
    #expect(result.stderr.hasSuffix(")\n") && result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)")
    #expect(!result.stderr.contains("NSCocoaErrorDomain") && !result.stderr.contains("Error Domain"))
  }

  /// Whether this process may make a mount namespace of its own (root with CAP_SYS_ADMIN).
  static let canMount: Bool = {
    let probe = scratchDirectory("mount-probe")
    let result = try? bash(
      "unshare -m --propagation private sh -c 'mount -t tmpfs -o size=64k tmpfs \(probe)' 2>/dev/null", in: probe)
    return result?.status == 0
  }()

  // A record is ~3 KiB and timeseries.csv ~19 KiB: a limit of 8 KiB lets every record through
  // and stops the CSVs part-way, as a disk that fills at that moment would. No `trap '' XFSZ`:
  // bdsim itself ignores SIGXFSZ, so the limit is a write error, not a kill.
  @Test func aFileSizeLimitWhileWritingTheCSVsIsOneLineAndResumeCompletes() throws {
    let (base, config, reference) = try Self.prepare("io-ulimit")
    let out = base + "/limited"
    let bdsim = bdsimBinary().path
    let failed = try Self.bash("ulimit -f 8; exec '\(bdsim)' run '\(config)' --out '\(out)' --quiet", in: base)
    Self.expectOneLine(
      failed, startsWith: "\(out)/timeseries.csv: error: cannot write: ", "file too large for the file-size limit")
    let after = Self.inventory(out)
    #expect(after.records == 12 && after.torn.isEmpty && after.temporary.isEmpty, "\(after)")
    #expect(
      !FileManager.default.fileExists(atPath: out + "/runs.csv"), "a CSV was renamed into place before all were whole")

    let resumed = try runProcess(bdsimBinary(), ["run", config, "--out", out, "--quiet", "--resume"])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    try Self.expectIdenticalCSVs(out, reference)
  }

  // A real full disk: a 40 KiB tmpfs in a mount namespace of the test's own fills while run
  // records are written; it is then enlarged and the run resumed in it.
  @Test(.enabled(if: RunnerIOTests.canMount, "needs root with CAP_SYS_ADMIN for a tmpfs"))
  func aFullDiskIsOneLineAndResumeCompletes() throws {
    let (base, config, reference) = try Self.prepare("io-full")
    let mount = base + "/mnt"
    let kept = base + "/kept"
    try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
    let bdsim = bdsimBinary().path
    let script = """
      mount -t tmpfs -o size=40k tmpfs '\(mount)' || exit 99
      '\(bdsim)' run '\(config)' --out '\(mount)/out' --quiet 2>'\(base)/stderr'
      echo $? >'\(base)/status'
      cp -r '\(mount)/out' '\(base)/failed'
      mount -o remount,size=4m '\(mount)' || exit 99
      '\(bdsim)' run '\(config)' --out '\(mount)/out' --quiet --resume || exit 98
      cp -r '\(mount)/out' '\(kept)'
      """
    let result = try Self.bash("unshare -m --propagation private bash -c \(shellQuote(script))", in: base)
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    let status = try String(contentsOfFile: base + "/status", encoding: .utf8)
    let stderr = try String(contentsOfFile: base + "/stderr", encoding: .utf8)
    Self.expectOneLine(
      ProcessResult(
        status: Int32(status.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1, exited: true,
        stdout: "", stderr: stderr), startsWith: "\(mount)/out/", "error: cannot write: no space left on device")
    let after = Self.inventory(base + "/failed")
    #expect(after.records > 0 && after.records < 12 && after.torn.isEmpty && after.temporary.isEmpty, "\(after)")
    try Self.expectIdenticalCSVs(kept, reference)
  }

  @Test(.enabled(if: RunnerIOTests.canMount, "needs root with CAP_SYS_ADMIN for a bind mount"))
  func aReadOnlyFileSystemIsOneLine() throws {
    let (base, config, reference) = try Self.prepare("io-readonly")
    let mount = base + "/ro"
    try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
    let bdsim = bdsimBinary().path
    // A new directory on it, and a finished result directory resumed and merged on it.
    let script = """
      mount --bind -o ro '\(base)' '\(mount)' || exit 99
      '\(bdsim)' run '\(config)' --out '\(mount)/new' --quiet 2>'\(base)/new.err'; echo $? >'\(base)/new.status'
      '\(bdsim)' merge '\(mount)/reference' 2>'\(base)/merge.err' >/dev/null; echo $? >'\(base)/merge.status'
      """
    let result = try Self.bash("unshare -m --propagation private bash -c \(shellQuote(script))", in: base)
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    func outcome(_ name: String) throws -> ProcessResult {
      let status = try String(contentsOfFile: base + "/\(name).status", encoding: .utf8)
      return ProcessResult(
        status: Int32(status.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1, exited: true, stdout: "",
        stderr: try String(contentsOfFile: base + "/\(name).err", encoding: .utf8))
    }
    Self.expectOneLine(
      try outcome("new"), startsWith: "\(mount)/new: error: cannot create directory: read-only file system",
      "(choose an --out on a writable file system)")
    Self.expectOneLine(
      try outcome("merge"), startsWith: "\(mount)/reference/", "error: cannot write: read-only file system")
    #expect(Self.inventory(reference).records == 12)
  }

  @Test func anOutThatIsAFileOrUnderAFileIsOneLine() throws {
    let (base, config, _) = try Self.prepare("io-file")
    let file = base + "/a-file"
    _ = FileManager.default.createFile(atPath: file, contents: Data("x\n".utf8))
    for (out, named) in [(file, file), (file + "/sub", file), ("/dev/full", "/dev/full")] {
      let result = try runProcess(bdsimBinary(), ["run", config, "--out", out, "--quiet"])
      Self.expectOneLine(
        result, startsWith: "\(named): error: cannot create directory \(out): is a file, not a directory",
        "(choose another --out, or move that file away)")
    }
    #expect(try String(contentsOfFile: file, encoding: .utf8) == "x\n")
  }

  // The table and the summary lines are buffered; a full standard output shows when they are flushed.
  @Test func aFullStandardOutputIsOneLine() throws {
    let (base, config, _) = try Self.prepare("io-stdout")
    for command in ["validate '\(config)'", "merge '\(base)/reference'"] {
      let result = try Self.bash("exec '\(bdsimBinary().path)' \(command) >/dev/full", in: base)
      Self.expectOneLine(
        result, startsWith: "standard output: error: cannot write: no space left on device", "(free space there")
    }
  }

  // Root writes through any mode bits, so this runs only as another user.
  @Test(.enabled(if: getuid() != 0, "root is not stopped by a 0555 directory"))
  func aDirectoryWithoutWritePermissionIsOneLine() throws {
    let (base, config, _) = try Self.prepare("io-permission")
    let locked = base + "/locked"
    try FileManager.default.createDirectory(
      atPath: locked, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o555])
    defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: locked) }
    let result = try runProcess(bdsimBinary(), ["run", config, "--out", locked + "/out", "--quiet"])
    Self.expectOneLine(result, startsWith: "\(locked)/out: error: cannot create directory: ", "permission denied")
  }

  @Test func foundationFileErrorsBecomeOneLineWithThePath() throws {
    let path = scratchDirectory("io-cocoa") + "/no-such-directory/file"
    do {
      try Data("x".utf8).write(to: URL(fileURLWithPath: path))
      Issue.record("writing into a missing directory succeeded")
    } catch {
      let line = try #require(ExperimentError.fromFileError(error), "\(error) was not recognised").description
      #expect(line == "\(path): error: cannot access: no such file or directory (check the path)")
    }
    #expect(ExperimentError.fromFileError(ExperimentError("not a file error")) == nil)
  }

  // MARK: temporary files

  /// The pid of a process that has exited.
  static func deadPID() throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    try process.run()
    process.waitUntilExit()
    return process.processIdentifier
  }

  /// Plants temporary files in a result directory; returns the names that must go and must stay.
  static func plant(in directory: String, live: Int32) throws -> (stale: [String], kept: [String]) {
    let dead = try deadPID()
    let host = TemporaryFiles.host
    let hourAndABit = Date().addingTimeInterval(-(TemporaryFiles.staleAge + 600))
    let files: [(name: String, old: Bool, stale: Bool)] = [
      ("timeseries.csv.tmp-\(dead)-0@\(host)", false, true),  // a dead process of this host
      ("runs/run-000003.rec.tmp-\(dead)-1@\(host)", false, true),
      ("experiment.json.tmp-\(dead)-2@\(host)", false, true),
      ("runs/run-000004.rec.tmp-\(live)-0@\(host)", false, false),  // a live one: never removed
      ("runs.csv.tmp-\(live)-1@\(host)", true, false),  // ... however old
      ("runs/run-000005.rec.tmp-\(dead)-3@another-node", false, false),  // another host: by age only
      ("runs/run-000006.rec.tmp-\(dead)-4@another-node", true, true),
      ("runs/run-000007.rec.tmp-\(dead)-5", false, false),  // BDSim 0.2's names: by age only
      ("summary.csv.tmp-\(dead)-6", true, true),
      ("notes.tmp-draft", true, false),  // not a temporary file of BDSim's
    ]
    for file in files {
      let path = directory + "/" + file.name
      #expect(FileManager.default.createFile(atPath: path, contents: Data("partial".utf8)), "\(path)")
      if file.old { try FileManager.default.setAttributes([.modificationDate: hourAndABit], ofItemAtPath: path) }
    }
    return (files.filter(\.stale).map(\.name), files.filter { !$0.stale }.map(\.name))
  }

  @Test func runResumeAndMergeRemoveOnlyStaleTemporaryFiles() throws {
    let (base, config, reference) = try Self.prepare("io-temporary")
    let sleeper = Process()
    sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
    sleeper.arguments = ["30"]
    try sleeper.run()
    defer {
      kill(sleeper.processIdentifier, SIGKILL)
      sleeper.waitUntilExit()
    }
    let exists = { (directory: String, name: String) in FileManager.default.fileExists(atPath: directory + "/" + name) }

    // An interrupted directory (some records) resumed; a finished one merged; one run afresh.
    let interrupted = base + "/interrupted"
    try FileManager.default.createDirectory(atPath: interrupted + "/runs", withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: reference + "/experiment.json", toPath: interrupted + "/experiment.json")
    for run in 0..<3 {
      let name = "runs/" + RunRecord.fileName(run: run)
      try FileManager.default.copyItem(atPath: reference + "/" + name, toPath: interrupted + "/" + name)
    }
    let finished = base + "/finished"
    try FileManager.default.copyItem(atPath: reference, toPath: finished)
    let fresh = base + "/fresh"
    try FileManager.default.createDirectory(atPath: fresh + "/runs", withIntermediateDirectories: true)
    let commands: [(String, [String])] = [
      (interrupted, ["run", config, "--out", interrupted, "--quiet", "--resume"]),
      (finished, ["merge", finished]),
      (fresh, ["run", config, "--out", fresh, "--quiet"]),
    ]
    for (directory, arguments) in commands {
      let planted = try Self.plant(in: directory, live: sleeper.processIdentifier)
      let result = try runProcess(bdsimBinary(), arguments)
      #expect(result.status == 0, "\(arguments): \(result.stderr)")
      for name in planted.stale { #expect(!exists(directory, name), "\(arguments[0]) left stale \(name)") }
      for name in planted.kept { #expect(exists(directory, name), "\(arguments[0]) removed \(name)") }
      try Self.expectIdenticalCSVs(directory, reference)
    }
  }

  @Test func temporaryNamesCarryPidAndHostAndParseBack() throws {
    let name = TemporaryFiles.name(for: "/r/runs/run-000001.rec")
    let writer = try #require(TemporaryFiles.writer(of: (name as NSString).lastPathComponent))
    #expect(writer.pid == getpid() && writer.host == TemporaryFiles.host)
    #expect(name.hasPrefix("/r/runs/run-000001.rec.tmp-\(getpid())-"))
    #expect(TemporaryFiles.writer(of: "x.csv.tmp-12-3")! == (12, nil))
    for notOurs in ["x.csv", "x.tmp-a-1", "x.tmp-12", "x.tmp-12-3-4", "x.tmp--1-2@h", "x.tmp-0-1@h"] {
      #expect(TemporaryFiles.writer(of: notOurs) == nil, "\(notOurs)")
    }
  }

  // MARK: merge and experiments/slurm

  @Test func runListsCompressRanges() {
    #expect(runList([4]) == "run 4")
    #expect(runList([9, 3, 4, 5]) == "runs 3-5, 9")
    #expect(runList([0, 1, 2, 3, 7, 8, 10]) == "runs 0-3, 7-8, 10")
  }

  /// sweep.sbatch under plain bash: three array tasks at once (no SLURM_CPUS_PER_TASK), into the
  /// default directory under the submit directory, then merge.sbatch: the bytes of a plain run.
  @Test func theSlurmScriptsShardAndMergeToThePlainRunsBytes() throws {
    let (base, config, reference) = try Self.prepare("io-slurm")
    let scripts = repositoryRoot().path + "/experiments/slurm"
    let environment =
      "unset SLURM_CPUS_PER_TASK OUT JOBS SHARDS; export CONFIG=\(shellQuote(config)) "
      + "BDSIM=\(shellQuote(bdsimBinary().path)) SLURM_SUBMIT_DIR=\(shellQuote(base)) SLURM_ARRAY_TASK_COUNT=3"
    let shards = try Self.bash(
      """
      \(environment)
      for k in 1 2 3; do SLURM_ARRAY_TASK_ID=$k bash '\(scripts)/sweep.sbatch' >"shard-$k.out" 2>&1 & pids+=($!); done
      for p in "${pids[@]}"; do wait "$p" || { cat shard-*.out; exit 1; }; done
      grep -h "with 1 threads" shard-*.out | wc -l
      bash '\(scripts)/merge.sbatch' >/dev/null
      """, in: base)
    #expect(shards.status == 0, "\(shards.stdout)\(shards.stderr)")
    #expect(shards.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "3", "\(shards.stdout)")
    let out = base + "/results/config"
    try Self.expectIdenticalCSVs(out, reference)
    #expect(Self.inventory(out).temporary.isEmpty)

    // Shard 2 of 3 missing: merge names every run it held and how to run them, and fails.
    let partial = base + "/partial"
    let missing = try Self.bash(
      """
      \(environment) OUT=\(shellQuote(partial))
      for k in 1 3; do SLURM_ARRAY_TASK_ID=$k bash '\(scripts)/sweep.sbatch' >/dev/null || exit 1; done
      bash '\(scripts)/merge.sbatch'
      """, in: base)
    #expect(missing.status == 2, "\(missing.stdout)\(missing.stderr)")
    let lines = missing.stderr.split(separator: "\n").map(String.init)
    #expect(
      lines.first
        == "\(partial): error: 4 of 12 runs have no result in it: runs 1, 4, 7, 10 (run them with: bdsim run "
        + "\(config) --out \(partial) --resume, which also writes the result files; or re-run the shards that "
        + "hold them, then merge again)")
    #expect(
      lines.last
        == "  sbatch --array=1 --export=ALL,CONFIG=\(config),OUT=\(partial),SHARDS=1 experiments/slurm/sweep.sbatch"
    )
    #expect(!FileManager.default.fileExists(atPath: partial + "/runs.csv"))
  }
}
