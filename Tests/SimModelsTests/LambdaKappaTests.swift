import SimKernel
import SimModel
import SimPlatform
import Testing

@testable import SimLambdaKappa

/// 2 racks of 6 hosts: the NameNode on host 0, brokers on 1-3, stream workers on 4-9, the
/// store on 10, clients on 11, DataNodes on 1-11. 200 events/s of 1 KiB over 100 keys with an
/// hour of history, through 4 partitions (a produce request every 200 ms) and a job of
/// parallelism 2 with 1-minute windows; a batch run every 5 minutes.
func architectureParameters(_ architecture: LambdaKappaParameters.Architecture, faults: ConfigNode? = nil) throws
  -> LambdaKappaParameters
{
  var reader = try ConfigReader(
    .mapping([
      ("architecture", .scalar(architecture.rawValue)),
      ("events", .mapping([("rate", .scalar("200/s")), ("keys", .scalar("100")), ("history", .scalar("1h"))])),
      ("log", .mapping([("partitions", .scalar("4")), ("produce_interval", .scalar("200ms"))])),
      (
        "job",
        .mapping([
          ("parallelism", .scalar("2")), ("window", .scalar("1min")), ("max_out_of_orderness", .scalar("1s")),
          ("checkpoint_interval", .scalar("20s")),
        ])
      ),
      ("batch", .mapping([("period", .scalar("5min")), ("loader_interval", .scalar("30s"))])),
      ("serving", .mapping([("query_rate", .scalar("20/s"))])),
    ]), path: "params")
  let p = try LambdaKappaModel.decode(
    &reader,
    input: ModelInput(
      platform: .mapping([("racks", .scalar("2")), ("hosts_per_rack", .scalar("6"))]), faults: faults))
  try reader.finish()
  return p
}

func runArchitecture(_ p: LambdaKappaParameters, minutes: Int64 = 30, warmup: Int64 = 6) throws -> Metrics {
  try LambdaKappaModel.run(
    p,
    context: RunContext(
      duration: .seconds(60 * minutes), warmup: .seconds(60 * warmup), streams: RandomStreams(experimentSeed: 11))
  ).metrics
}

@Suite struct LambdaKappaTests {
  /// No late events, no failures, exactly-once: both architectures answer exactly (the truth
  /// up to each answer's horizon, an hour of history included), Lambda with MapReduce or Spark
  /// batch runs.
  @Test func bothArchitecturesAnswerExactly() throws {
    let lambda = try runArchitecture(try architectureParameters(.lambda))
    #expect(lambda["batch.views_loaded"]! >= 4)
    #expect(lambda["serving.exact_fraction"] == 1)
    #expect(lambda["serving.answered"]! > 20_000)
    let kappa = try runArchitecture(try architectureParameters(.kappa))
    #expect(kappa["serving.exact_fraction"] == 1)
    // Spark computes the same views, sooner (tasks in 10 ms, not a JVM each; no spills).
    var p = try architectureParameters(.lambda)
    p.batchEngine = .spark
    let spark = try runArchitecture(p)
    #expect(spark["batch.views_loaded"]! >= 4)
    #expect(spark["serving.exact_fraction"] == 1)
    #expect(spark["batch.run_seconds_mean"]! < lambda["batch.run_seconds_mean"]!)
    // Lambda asks two views per query, Kappa one.
    #expect(lambda["serving.cpu_seconds"]! > 1.5 * kappa["serving.cpu_seconds"]!)
    #expect(lambda["cost.batch_cpu_seconds"]! > 0 && kappa["cost.batch_cpu_seconds"] == 0)
  }

  /// Without the speed layer an answer is as old as the last batch view: from a run's time
  /// (just after a load) to a period more, plus the loader's and the watermark's lag and the
  /// window rounding. With it, the horizon trails by about a window, the watermark and a
  /// checkpoint interval.
  @Test func freshnessFollowsTheBatchCycleWithoutTheSpeedLayer() throws {
    var p = try architectureParameters(.lambda)
    p.speedLayer = false
    let m = try runArchitecture(p, minutes: 46)
    let run = m["batch.run_seconds_mean"]!
    let slack = 30.0 + 1 + 60  // loader interval, watermark allowance, window rounding
    let mean = m["serving.freshness_mean"]!
    #expect(mean >= 150 + run && mean <= 150 + run + slack, "mean freshness \(mean) s, run \(run) s")
    #expect(m["serving.freshness_p99"]! <= 300 + m["batch.run_seconds_max"]! + slack)
    #expect(m["serving.freshness_p99"]! >= 290)
    #expect(m["cost.speed_cpu_seconds"] == 0)
    #expect(m["serving.exact_fraction"] == 1)

    let speed = try runArchitecture(try architectureParameters(.lambda), minutes: 46)
    #expect(speed["serving.freshness_p99"]! <= 60 + 1 + 20 + 2)
    #expect(speed["serving.freshness_mean"]! < mean / 2)
  }

  /// Failed batch runs: the speed layer keeps answering (fresh as ever), but the events it
  /// drops as too late stay missing until a batch view counts them, so the error grows.
  @Test func failedBatchRunsLeaveTheSpeedLayersErrors() throws {
    var p = try architectureParameters(.lambda)
    p.stream.events.arrivalDelay = .exponential(mean: 0.5)
    let ok = try runArchitecture(p)
    p.failRuns = [1, 2, 3, 4, 5]
    let failed = try runArchitecture(p)
    #expect(failed["batch.views_loaded"] == 0)
    #expect(failed["serving.error_mean"]! > 2 * ok["serving.error_mean"]!)
    #expect(abs(failed["serving.freshness_mean"]! - ok["serving.freshness_mean"]!) < 2)
  }

  /// Kappa's reprocessing reads the whole retained log: longer with more history, shorter with
  /// more parallelism until there is a task per partition (4); and what retention deleted is
  /// reported, and missing from the answers after the switch-over.
  @Test func reprocessingTimeFollowsRetainedVolumeAndParallelism() throws {
    func reprocess(history: Int64, parallelism: Int, retention: Int64 = 7 * 86_400) throws -> Metrics {
      var p = try architectureParameters(.kappa)
      p.stream.events.history = .seconds(history)
      p.stream.log.retention = .seconds(retention)
      p.reprocessAt = .seconds(120)
      p.reprocessParallelism = parallelism
      p.stream.serving.queryRate = 20
      return try runArchitecture(p, minutes: 10, warmup: 1)
    }
    let short = try reprocess(history: 3600, parallelism: 1)
    let long = try reprocess(history: 4 * 3600, parallelism: 1)
    let wide = try reprocess(history: 4 * 3600, parallelism: 4)
    let wider = try reprocess(history: 4 * 3600, parallelism: 8)
    for m in [short, long, wide, wider] {
      #expect(m["kappa.switched"] == 1)
      // Exactly-once: the new view is complete at its first commit after catching up.
      #expect(m["kappa.switch_seconds"]! >= m["kappa.catch_up_seconds"]!)
      #expect(m["kappa.switch_seconds"]! <= m["kappa.catch_up_seconds"]! + 20 + 61 + 1)
      #expect(m["kappa.unrecoverable_events"] == 0)
    }
    let (ts, tl, tw, tx) = (
      short["kappa.catch_up_seconds"]!, long["kappa.catch_up_seconds"]!, wide["kappa.catch_up_seconds"]!,
      wider["kappa.catch_up_seconds"]!
    )
    #expect(tl > 2.5 * ts, "1 h: \(ts) s, 4 h: \(tl) s")
    #expect(tw < 0.5 * tl, "parallelism 1: \(tl) s, 4: \(tw) s")
    #expect(abs(tx - tw) < 0.1 * tw, "parallelism 4: \(tw) s, 8: \(tx) s (4 partitions)")
    #expect(long["kappa.reprocessed_events"]! > 4 * 3600 * 200)

    let truncated = try reprocess(history: 4 * 3600, parallelism: 4, retention: 3600)
    let lost = truncated["kappa.unrecoverable_events"]!
    // Retention keeps the last hour before the switch (the two minutes of the run included).
    #expect(abs(lost - (3 * 3600 + 120) * 200) < 0.02 * (3 * 3600 * 200), "unrecoverable \(lost)")
    #expect(truncated["serving.error_mean"]! > 0.1)
  }
}
