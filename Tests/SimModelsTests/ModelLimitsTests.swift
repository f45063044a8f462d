import Foundation
import SimKernel
import SimModel
import SimPlatform
import Testing

@testable import SimHDFS
@testable import SimStream

/// The models' documented limits: the value at a limit is accepted, just past it is refused at
/// its key; and what a fixture cannot show, a run with values at the edge of the clock.
@Suite struct ModelLimitsTests {
  /// The error decoding `params` of a stream model on 2 racks of 6 hosts, or nil if it decodes.
  func streamError(_ params: [(String, ConfigNode)]) -> ConfigError? {
    do {
      var reader = try ConfigReader(.mapping(params), path: "params")
      _ = try StreamModel.decode(
        &reader,
        input: ModelInput(platform: .mapping([("racks", .scalar("2")), ("hosts_per_rack", .scalar("6"))])))
      return nil
    } catch { return error }
  }

  func events(_ entries: [(String, String)]) -> [(String, ConfigNode)] {
    [("events", .mapping(entries.map { ($0.0, ConfigNode.scalar($0.1)) }))]
  }

  @Test func theEventAndQueryRatesStopAtOneMillionPerSecond() {
    #expect(streamError(events([("rate", "1M/s")])) == nil)
    #expect(streamError(events([("rate", "1000001/s")]))?.keyPath == "params.events.rate")
    #expect(streamError([("serving", .mapping([("query_rate", .scalar("1M/s"))]))]) == nil)
    #expect(
      streamError([("serving", .mapping([("query_rate", .scalar("1000001/s"))]))])?.keyPath
        == "params.serving.query_rate")
  }

  /// 2,147,483,647 events in one slide fit its 32-bit count; one more does not.
  @Test func aSlidesCountFitsThirtyTwoBits() {
    let job = { (window: String) in ("job", ConfigNode.mapping([("window", .scalar(window))])) }
    let rate = ("events", ConfigNode.mapping([("rate", .scalar("1M/s"))]))
    #expect(streamError([rate, job("2147483647us")]) == nil)
    let error = streamError([rate, job("2147483648us")])
    #expect(error?.keyPath == "params.job.window")
    #expect(error?.message.contains("events per slide") == true, "\(String(describing: error))")
  }

  /// Exactly 1,000,000 blocks is the most an input may be cut into.
  @Test func aJobsInputStopsAtOneMillionBlocks() throws {
    let reader = try ConfigReader(.mapping([]), path: "params")
    let block = 134_217_728.0
    let files = try HDFSJobInput.files(
      holding: 1_000_000 * block, ofSize: 1000 * block, blockSize: block, reader: reader, key: "input_size",
      what: "input_size", hint: "")
    #expect(files == 1000)
    #expect(throws: ConfigError.self) {
      _ = try HDFSJobInput.files(
        holding: 1_000_001 * block, ofSize: 1000 * block, blockSize: block, reader: reader, key: "input_size",
        what: "input_size", hint: "")
    }
    // Infinite or NaN never reaches the conversion to Int.
    #expect(throws: ConfigError.self) {
      _ = try HDFSJobInput.files(
        holding: .infinity, ofSize: block, blockSize: block, reader: reader, key: "input_size", what: "input_size",
        hint: "")
    }
  }

  /// An arrival delay sampled past the end of time (lognormal, sigma 1e6: about half the
  /// samples) means the event never reaches the log; it used to overflow the clock and trap.
  @Test func aDelayPastTheEndOfTimeNeverArrives() throws {
    var p = try streamParameters()
    p.events.arrivalDelay = .lognormal(mu: log(0.005), sigma: 1e6)
    p.serving.queryRate = 0
    let m = try runStream(p, seconds: 20, warmup: 0)
    let generated = m["stream.events_generated"]!
    let appended = m["stream.events_appended"]!
    #expect(generated > 15_000, "generated \(generated)")
    #expect(appended > 0.4 * generated && appended < 0.6 * generated, "\(appended) of \(generated) arrived")
  }
}
