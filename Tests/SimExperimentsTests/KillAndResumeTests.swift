import Foundation
import SimExperiments
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
}
