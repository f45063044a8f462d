import SimKernel
import SimModel
import SimPlatform
import Testing

@testable import SimStream

/// 2 racks of 6 hosts: brokers on hosts 0-2, stream workers on 3-9, the store on 10, clients on
/// 11. 1,000 events/s over 100 keys, in order unless a test says otherwise.
func streamParameters(faults: ConfigNode? = nil) throws -> StreamParameters {
  var reader = try ConfigReader(.mapping([]), path: "params")
  var p = try StreamModel.decode(
    &reader,
    input: ModelInput(
      platform: .mapping([("racks", .scalar("2")), ("hosts_per_rack", .scalar("6"))]), faults: faults))
  p.events.rate = 1000
  p.events.keys = 100
  p.job.windowSize = .seconds(10)
  p.job.windowSlide = .seconds(10)
  p.job.maxOutOfOrderness = .seconds(1)
  p.job.checkpointInterval = .seconds(20)
  p.job.failureDetection = .seconds(10)
  p.serving.queryRate = 200
  return p
}

func runStream(_ p: StreamParameters, seconds: Int64 = 120, warmup: Int64 = 20) throws -> Metrics {
  try StreamModel.run(
    p,
    context: RunContext(
      duration: .seconds(seconds), warmup: .seconds(warmup), streams: RandomStreams(experimentSeed: 7))
  ).metrics
}

/// A worker (rack1-host5, host 4) lost at 50 s for 30 s.
let workerCrash = ConfigNode(
  .sequence([.mapping([("at", .scalar("50s")), ("host", .scalar("rack1-host5")), ("for", .scalar("30s"))])]))

/// Collects what a job sends, for checks against the log's truth.
final class RecordingSink: StreamSink {
  var counts: [Int64: Int] = [:]
  var fired: [Int64: Int] = [:]
  func emit(view: Int, window: Int64, counts: [(key: Int32, count: Int32)], task: Int, fire: Bool, from host: HostID) {
    self.counts[window, default: 0] += counts.reduce(0) { $0 + Int($1.count) }
    if fire { fired[window, default: 0] += 1 }
  }
}

@Suite struct StreamTests {
  /// In order, no failure, exactly-once: every answer equals the truth up to its horizon, and
  /// every appended event is counted once.
  @Test func inOrderEventsGiveExactAnswers() throws {
    let m = try runStream(try streamParameters())
    #expect(m["serving.answered"]! > 10_000)
    #expect(m["serving.exact_fraction"] == 1)
    #expect(m["serving.error_mean"] == 0)
    #expect(m["stream.late_dropped"] == 0 && m["stream.duplicates"] == 0)
    // Conservation: everything generated is in the log but the last produce interval's, and
    // the job has read and counted all of it.
    let generated = m["stream.events_generated"]!
    let appended = m["stream.events_appended"]!
    #expect(
      appended <= generated && generated - appended < 1000 * 0.3, "\(generated) generated, \(appended) in the log")
    #expect(m["stream.records_processed"] == appended)
    // A window fires once the watermark (1 s behind) passes its end, within a produce interval
    // and a few milliseconds of processing more.
    let fire = m["stream.window_latency_p50"]!
    #expect(fire >= 1 && fire < 1.25, "window latency \(fire) s")
    // Exactly-once commits on checkpoints (every 20 s): the horizon trails by up to a window,
    // the watermark and a checkpoint interval.
    #expect(m["serving.freshness_p99"]! < 10 + 1.3 + 20 + 1, "freshness p99 \(m["serving.freshness_p99"]!)")
  }

  /// A worker dies: at-least-once sends the results since the last checkpoint again (answers
  /// count some events twice); exactly-once discards its open transaction and stays exact.
  @Test func aWorkerFailureDuplicatesUnderAtLeastOnceOnly() throws {
    var alo = try streamParameters(faults: workerCrash)
    alo.job.guarantee = .atLeastOnce
    let a = try runStream(alo)
    #expect(a["stream.failures"] == 1)
    #expect(a["stream.duplicates"]! > 0)
    #expect(a["serving.exact_fraction"]! < 1)
    #expect(a["serving.error_mean"]! > 0)
    // Noticed at once (a transfer to the dead host fails), restarted after 1 s + 2 s, state
    // read back, and the backlog of those seconds read again.
    let recovery = a["stream.recovery_seconds_mean"]!
    #expect(recovery >= 3 && recovery < 10, "recovery \(recovery) s")

    let eo = try runStream(try streamParameters(faults: workerCrash))
    #expect(eo["stream.failures"] == 1)
    #expect(eo["stream.duplicates"] == 0)
    #expect(eo["stream.uncommitted_discarded"]! > 0)
    #expect(eo["serving.exact_fraction"] == 1)
    // Exactly-once pays in freshness: results wait for the checkpoint.
    #expect(eo["serving.freshness_mean"]! > a["serving.freshness_mean"]! + 5)
  }

  /// A broker dies for 30 s: its partitions take nothing until its session times out (9 s) and a
  /// follower leads; produce requests and fetches are tried again, the job does not fail, and
  /// every event still reaches the answers exactly once.
  @Test func aLeaderLostMovesItsPartitionsWithoutFailingTheJob() throws {
    let brokerCrash = ConfigNode(
      .sequence([.mapping([("at", .scalar("50s")), ("host", .scalar("rack1-host1")), ("for", .scalar("30s"))])]))
    let m = try runStream(try streamParameters(faults: brokerCrash))
    #expect(m["stream.failures"] == 0)
    #expect(m["stream.append_retries"]! > 0)
    #expect(m["serving.exact_fraction"] == 1)
    #expect(m["stream.events_generated"]! - m["stream.events_appended"]! < 300)
    #expect(m["stream.records_processed"] == m["stream.events_appended"])
    // The stall: a window waits for the partitions that had no leader for 9 s.
    let stalled = m["stream.window_latency_p99"]!
    #expect(stalled > 5 && stalled < 12, "window latency p99 \(stalled) s")
  }

  /// Late events: beyond the watermark they are dropped (and the answers miss them); with an
  /// allowed lateness that covers the delays they update the fired windows instead.
  @Test func allowedLatenessTurnsDropsIntoUpdates() throws {
    var p = try streamParameters()
    p.events.arrivalDelay = .exponential(mean: 0.5)
    p.job.maxOutOfOrderness = .milliseconds(500)
    let strict = try runStream(p)
    #expect(strict["stream.late_dropped"]! > 1000)
    #expect(strict["stream.late_updates"] == 0)
    #expect(strict["serving.error_mean"]! > 0)
    p.job.allowedLateness = .seconds(20)
    let lenient = try runStream(p)
    #expect(lenient["stream.late_dropped"] == 0)
    #expect(lenient["stream.late_updates"]! > 1000)
    #expect(lenient["serving.error_mean"]! < strict["serving.error_mean"]! / 5)
  }

  /// More records than the window tasks can count: the sources wait (backpressure), the job
  /// runs at the window tasks' pace and the lag grows.
  @Test func aSlowWindowOperatorBackpressuresTheSources() throws {
    var p = try streamParameters()
    p.events.rate = 4000
    p.job.parallelism = 1
    p.job.windowCost = 0.0005  // 2,000 records/s on one core
    p.job.bufferRecords = 5000
    p.job.checkpointInterval = nil
    p.serving.queryRate = 0
    let m = try runStream(p, seconds: 40, warmup: 0)
    let throughput = m["stream.throughput"]!
    #expect(throughput > 1800 && throughput <= 2050, "throughput \(throughput)/s")
    #expect(m["stream.backpressure"]! > 0.5)
    #expect(m["stream.consumer_lag_end"]! > 40 * 1500)
  }

  /// Sliding windows (30 s every 10 s): each event is in three windows, and every window's
  /// results add up to the events in its span.
  @Test func slidingWindowsCountEveryEventInEachOfItsWindows() throws {
    var p = try streamParameters()
    p.job.windowSize = .seconds(30)
    let simulator = Simulator()
    let platform = Platform(spec: p.platform, simulator: simulator)
    let context = RunContext(duration: .seconds(100), streams: RandomStreams(experimentSeed: 3))
    let log = EventLog(
      events: p.events, log: p.log, hosts: p.hosts, bucket: p.job.windowSlide, platform: platform,
      simulator: simulator, context: context)
    let job = StreamJob(
      parameters: p.job, name: "v1", view: 0, parallelism: 3, workers: p.hosts.workers, storage: p.hosts.storage,
      log: log, keys: p.events.keys, start: .live, startAt: .zero, platform: platform, simulator: simulator)
    let sink = RecordingSink()
    job.sink = sink
    log.appendListeners.append { job.appended($0) }
    withExtendedLifetime((platform, log, job)) { _ = simulator.run(until: .seconds(100)) }
    let slide = Int64(10_000_000_000)
    var checked = 0
    for window in sink.fired.keys.sorted() where sink.fired[window] == 3 {
      var truth = 0
      for k in 0..<p.events.keys {
        truth += log.truth(key: k, before: window + 3 * slide) - log.truth(key: k, before: max(0, window))
      }
      #expect(sink.counts[window, default: 0] == truth, "window at \(window / slide * 10) s")
      checked += 1
    }
    #expect(checked >= 6)
  }

  @Test func theProducersSortOrdersByArrivalThenTimeThenKey() {
    // By hand: arrival first; equal arrivals (7) by time, then key.
    var records: [EventLog.Record] = [(9, 1, 0), (7, 5, 2), (7, 3, 8), (7, 3, 1), (2, 2, 4), (9, 0, 3)]
    EventLog.sortByArrival(&records)
    #expect(records.map(\.arrival) == [2, 7, 7, 7, 9, 9])
    #expect(records.map(\.time) == [2, 3, 3, 5, 0, 1])
    #expect(records.map(\.key) == [4, 1, 8, 2, 3, 0])
    // Against the tuples' sort: spreads of nothing, one interval (100 ms), 2^40 ns and the
    // whole Int64 range (6 radix passes), with many equal arrivals.
    var x: UInt64 = 7
    func next() -> UInt64 {
      x = StableHash.splitMix64(x)
      return x
    }
    for spread: UInt64 in [0, 100_000_000, 1 << 40, UInt64.max] {
      for count in [2, 3, 500, 5000] {
        var r: [EventLog.Record] = (0..<count).map { _ in
          let offset = spread == 0 ? 0 : next() % (spread == UInt64.max ? spread : spread + 1)
          // A quarter of the records share an arrival with one of 8 values.
          let arrival =
            next() % 4 == 0 ? Int64(bitPattern: next() % 8) : Int64(bitPattern: UInt64(bitPattern: -5) &+ offset)
          return (arrival, Int64(next() % 16), Int32(next() % 16))
        }
        let expected = r.sorted { ($0.arrival, $0.time, $0.key) < ($1.arrival, $1.time, $1.key) }
        EventLog.sortByArrival(&r)
        #expect(r.map(\.arrival) == expected.map(\.arrival), "spread \(spread), \(count) records")
        #expect(r.map(\.time) == expected.map(\.time) && r.map(\.key) == expected.map(\.key))
      }
    }
  }
}
