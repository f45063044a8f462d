import Foundation
import SimExperiments
import Synchronization
import Testing

/// The real binary, killed with SIGKILL half-way through a sweep (no chance to clean up), then
/// resumed: the result files must be byte-identical to an uninterrupted run's.
@Suite struct KillAndResumeTests {
  /// Long enough per run (tens of milliseconds in a debug build) to be killed in the middle.
  static let config = """
    name: killed
    model: queueing
    duration: 20000s
    warmup: 100s
    seed: 11
    replications: 4
    params:
      service: "exp(mean: 1s)"
      servers: 2
      utilisation: 0.5
    sweep:
      params.utilisation: [0.5, 0.6, 0.7, 0.8, 0.9]
    outputs:
      timeseries_interval: 1000s
    """

  @Test func aSweepKilledHalfWayAndResumedGivesIdenticalBytes() throws {
    let bdsim = bdsimBinary()
    try #require(FileManager.default.isExecutableFile(atPath: bdsim.path), "no bdsim at \(bdsim.path)")
    let base = scratchDirectory("kill")
    let path = writeConfig(Self.config, in: base)
    let reference = base + "/reference"
    let killed = base + "/killed"
    #expect(try runProcess(bdsim, ["run", path, "--out", reference, "--quiet", "--jobs", "2"]).status == 0)

    let process = Process()
    process.executableURL = bdsim
    process.arguments = ["run", path, "--out", killed, "--quiet", "--jobs", "2"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    // Wait for a few records, then kill without warning.
    let deadline = Date().addingTimeInterval(60)
    var present = 0
    while Date() < deadline {
      present =
        (try? FileManager.default.contentsOfDirectory(atPath: killed + "/runs"))?.filter { $0.hasSuffix(".rec") }.count
        ?? 0
      if present >= 3 || !process.isRunning { break }
      usleep(2_000)
    }
    let wasRunning = process.isRunning
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    #expect(wasRunning, "the sweep finished before it could be killed; make its runs longer")
    let recordsAfterKill = (try FileManager.default.contentsOfDirectory(atPath: killed + "/runs")).filter {
      $0.hasSuffix(".rec")
    }
    #expect(recordsAfterKill.count < 20, "the kill came too late to test anything")
    #expect(!FileManager.default.fileExists(atPath: killed + "/runs.csv"))

    let resumed = try runProcess(bdsim, ["run", path, "--out", killed, "--quiet", "--resume"])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    for file in ["runs.csv", "summary.csv", "timeseries.csv"] {
      let expected = try #require(contents(reference, file))
      #expect(contents(killed, file) == expected, "\(file) differs after kill and resume")
    }
  }

  /// Runs of a few seconds each when the models are optimised (`make test`; about 20 s in a
  /// -Onone build), so that Ctrl-C lands in the middle of them.
  static let slowConfig = """
    name: slow
    model: queueing
    duration: 6000000s
    seed: 5
    replications: 4
    params:
      service: "exp(mean: 1s)"
      utilisation: 0.5
    """

  /// Starts `bdsim run` with stderr captured, waits until a run is under way, sends SIGINT
  /// `interrupts` times a second apart and returns (exit status, stderr, seconds from the first
  /// SIGINT to the message).
  func interrupt(_ interrupts: Int, out: String) throws -> (
    status: Int32, stderr: String, answeredIn: Double, config: String
  ) {
    let bdsim = bdsimBinary()
    let base = scratchDirectory("sigint-\(interrupts)")
    let path = writeConfig(Self.slowConfig, in: base)
    let process = Process()
    process.executableURL = bdsim
    process.arguments = ["run", path, "--out", out, "--jobs", "2"]
    process.standardOutput = FileHandle.nullDevice
    let pipe = Pipe()
    process.standardError = pipe
    let text = Mutex("")
    pipe.fileHandleForReading.readabilityHandler = { handle in
      let data = handle.availableData
      text.withLock { $0 += String(decoding: data, as: UTF8.self) }
    }
    try process.run()
    // The announcement comes before any run starts; give the runs a moment.
    let deadline = Date().addingTimeInterval(30)
    while Date() < deadline, !text.withLock({ $0.contains("runs,") }) { usleep(10_000) }
    usleep(500_000)
    let sent = Date()
    var answered = Double.infinity
    kill(process.processIdentifier, SIGINT)
    while Date() < sent.addingTimeInterval(10) {
      if text.withLock({ $0.contains("interrupted: finishing") }) {
        answered = Date().timeIntervalSince(sent)
        break
      }
      usleep(5_000)
    }
    for _ in 1..<max(1, interrupts) {
      usleep(200_000)
      kill(process.processIdentifier, SIGINT)
    }
    process.waitUntilExit()
    usleep(100_000)
    pipe.fileHandleForReading.readabilityHandler = nil
    return (process.terminationStatus, text.withLock { $0 }, answered, path)
  }

  /// Ctrl-C answers at once with what happens and how to resume, lets the running runs finish,
  /// exits 130; the resume command then completes the sweep.
  @Test func ctrlCAnswersAtOnceAndTheSweepResumes() throws {
    let out = scratchDirectory("sigint-once-out")
    let (status, stderr, answeredIn, config) = try interrupt(1, out: out)
    #expect(answeredIn < 1, "answered after \(answeredIn) s: \(stderr)")
    #expect(status == 130)
    #expect(stderr.contains("Press Ctrl-C again to stop them now"))
    #expect(stderr.contains("--resume"))
    let records = try FileManager.default.contentsOfDirectory(atPath: out + "/runs").filter { $0.hasSuffix(".rec") }
    #expect(records.count >= 1 && records.count < 4, "runs finished: \(records)")
    let resumed = try runProcess(bdsimBinary(), ["run", config, "--out", out, "--quiet", "--resume"])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(FileManager.default.fileExists(atPath: out + "/runs.csv"))
  }

  /// A second Ctrl-C stops the running runs at once: exit 130, no record and no temporary file
  /// left half-written.
  @Test func aSecondCtrlCStopsAtOnceWithoutATornRecord() throws {
    let out = scratchDirectory("sigint-twice-out")
    let started = Date()
    let (status, stderr, _, _) = try interrupt(2, out: out)
    #expect(status == 130)
    #expect(stderr.contains("stopped: the runs in progress are abandoned"))
    #expect(Date().timeIntervalSince(started) < 20)
    let files = try FileManager.default.contentsOfDirectory(atPath: out + "/runs")
    #expect(files.allSatisfy { $0.hasSuffix(".rec") }, "left behind: \(files)")
    for file in files {
      let data = try #require(FileManager.default.contents(atPath: out + "/runs/" + file))
      #expect(RunRecord(bytes: Array(data)) != nil, "\(file) is torn")
    }
  }
}
