import SimKernel
import SimModel
import SimPlatform

/// OLTP, extraction, staging, transform and load into a warehouse or a lake: `model: etl`.
public enum ETLModel: SimulationModel {
  public static let name = "etl"
  public static let documentation: String? = "docs/models/etl.md"
  public static let summary =
    "OLTP database (primary, read replicas), extraction (full, incremental, CDC), staging in HDFS, a MapReduce"
    + " or Spark transform, load into a columnar warehouse or a lake; OLTP p99, ETL window, freshness, queries"
  public static let usesPlatform = true
  public static let headlineMetrics = [
    "oltp.latency_p99_quiet", "oltp.latency_p99_extracting", "etl.duration_max", "etl.window_missed",
    "etl.freshness_mean", "analytics.query_latency_p99",
  ]
  public static let metrics: [MetricInfo] =
    [
      MetricInfo(
        ["oltp.latency_*"], .duration,
        "a transaction's arrival to its commit (reads: its end), after the warm-up: mean, p50, p99, p999 of all;"
          + " *_extracting of those that arrived while an extraction read the OLTP (the primary or a replica), *_quiet of"
          + " the rest"
          + " (series: oltp.latency_p99 of each interval)"),
      MetricInfo(
        ["oltp.transactions", "oltp.committed", "oltp.rejected", "oltp.failed", "oltp.in_flight"], .count,
        unit: "transactions",
        "after the warm-up: arrived; ended; refused (max_connections, or the primary down); failed (its host or"
          + " disk lost under it); still running at the end"),
      MetricInfo(["oltp.throughput"], .rate, unit: "transactions/s", "transactions ended per second"),
      MetricInfo(
        ["oltp.page_reads", "oltp.redo_flushes"], .count, unit: "requests", "buffer pool misses; group commits"),
      MetricInfo(
        ["replica.lag_*"], .duration,
        "a write's commit on the primary to its commit on a replica, over every replica: mean, p50, p99, max"
          + " (series: p99 of each interval)"),
      MetricInfo(["replica.apply_failed"], .count, unit: "transactions", "writes a replica lost (its host down)"),
      MetricInfo(
        ["etl.runs", "etl.runs_failed", "etl.runs_refused", "etl.runs_late", "etl.window_missed"], .count,
        unit: "runs",
        "runs scheduled after the warm-up that ended; that failed (the transform job, or refused); refused (the"
          + " rows would not fit the staging HDFS's disks, or make more than 1M blocks); that started late (the"
          + " run before still going); that ended more than `window` after they were due"),
      MetricInfo(
        [
          "etl.duration_mean", "etl.duration_max", "etl.extract_seconds_mean", "etl.transform_seconds_mean",
          "etl.load_seconds_mean",
        ], .duration, "a run, due to loaded; its extraction, transform job and load"),
      MetricInfo(
        ["etl.freshness_mean", "etl.freshness_max"], .duration,
        "the store's age (now less the time of the snapshot it holds), time-averaged over the measured time, and"
          + " its largest (series: etl.freshness now)"),
      MetricInfo(
        ["etl.extracted_bytes", "etl.staged_bytes", "etl.staged_max", "etl.loaded_bytes"], .count, unit: "bytes",
        "read from the OLTP; written to staging (one copy); the most in staging at once; loaded into the warehouse"),
      MetricInfo(["etl.loaded_rows"], .count, unit: "rows", "rows made queryable"),
      MetricInfo(["etl.extracting"], .fraction, "series only: 1 while an extraction reads the OLTP"),
      MetricInfo(["etl.freshness"], .duration, "series only: the store's age at the sample"),
    ] + AnalyticsParameters.metrics

  public static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> ETLParameters {
    try ETLParameters.decode(&reader, input: input)
  }

  public static func run(_ parameters: ETLParameters, context: RunContext) throws(ValueError) -> RunOutput {
    try runOnPlatform(parameters.platform, faults: parameters.faults, context: context) { simulator, platform in
      ETLRun(parameters: parameters, platform: platform, simulator: simulator, context: context)
    }
  }
}

/// One run: the OLTP database, the pipeline and the store's query engine.
final class ETLRun: EventHandler, PlatformWorkload {
  let p: ETLParameters
  unowned let simulator: Simulator
  let db: OLTPDatabase
  let analytics: AnalyticsEngine
  let pipeline: ETLPipeline
  var series = TimeSeries()
  var timeseries: TimeSeries { series }
  var me = EntityID(0)
  let interval: SimTime?

  init(parameters: ETLParameters, platform: Platform, simulator: Simulator, context: RunContext) {
    p = parameters
    self.simulator = simulator
    interval = context.timeseriesInterval
    let hosts = parameters.analytics.store == .warehouse ? parameters.warehouseHosts : parameters.datanodeHosts
    platform.assignRole("warehouse", hosts: parameters.warehouseHosts)
    // Billed: the hosts the configuration uses. A lake needs no warehouse nodes, and ELT (no
    // staging) no staging HDFS; hosts past the layout run nothing.
    var used = Array(repeating: false, count: platform.hostCount)
    for h in 0..<parameters.hostsUsed { used[h] = true }
    if parameters.analytics.store == .lake {
      for h in parameters.warehouseHosts { used[Int(h.index)] = false }
    }
    if !parameters.extraction.staging {
      for h in [HostID(0)] + parameters.datanodeHosts { used[Int(h.index)] = false }
    }
    for h in used.indices where !used[h] { platform.setProvisioned(HostID(Int32(h)), false) }
    db = OLTPDatabase(
      parameters: parameters, rowBytes: parameters.analytics.rowBytes, platform: platform, simulator: simulator,
      context: context)
    analytics = AnalyticsEngine(
      parameters: parameters.analytics, hosts: hosts, platform: platform, simulator: simulator, context: context)
    pipeline = ETLPipeline(
      parameters: parameters, db: db, analytics: analytics, platform: platform, simulator: simulator, context: context)
    me = simulator.register(self)
    if let interval { simulator.schedule(after: interval, to: me) }
  }

  func handle(_ event: Event, in simulator: Simulator) {
    guard let interval else { return }
    simulator.schedule(after: interval, to: me)
    let now = simulator.now
    series.append(time: now, metric: "oltp.latency_p99", value: db.intervalLatency.percentile(99))
    db.intervalLatency.reset()
    if p.replicas > 0 {
      series.append(time: now, metric: "replica.lag_p99", value: db.intervalLag.percentile(99))
      db.intervalLag.reset()
    }
    series.append(time: now, metric: "etl.extracting", value: db.extracting ? 1 : 0)
    series.append(time: now, metric: "etl.freshness", value: pipeline.age(at: now))
  }

  func metrics() -> Metrics {
    let now = simulator.now
    let measured = max(0, (now - db.warmup).seconds)
    var m = Metrics()
    for (name, h) in [("", db.latency), ("_extracting", db.latencyExtracting), ("_quiet", db.latencyQuiet)] {
      m.set("oltp.latency_mean\(name)", h.count > 0 ? h.mean : .nan)
      m.set("oltp.latency_p50\(name)", h.percentile(50))
      m.set("oltp.latency_p99\(name)", h.percentile(99))
      m.set("oltp.latency_p999\(name)", h.percentile(99.9))
    }
    m.set("oltp.transactions", Double(db.offered))
    m.set("oltp.committed", Double(db.committed))
    m.set("oltp.rejected", Double(db.rejected))
    m.set("oltp.failed", Double(db.failed))
    m.set("oltp.in_flight", Double(db.offered - db.committed - db.rejected - db.failed))
    m.set("oltp.throughput", measured > 0 ? Double(db.committed) / measured : .nan)
    m.set("oltp.page_reads", Double(db.pageReads))
    m.set("oltp.redo_flushes", Double(db.flushes))
    if p.replicas > 0 {
      m.set("replica.lag_mean", db.lag.count > 0 ? db.lag.mean : .nan)
      m.set("replica.lag_p50", db.lag.percentile(50))
      m.set("replica.lag_p99", db.lag.percentile(99))
      m.set("replica.lag_max", db.lag.maximum)
      m.set("replica.apply_failed", Double(db.applyFailed))
    }
    let e = pipeline
    m.set("etl.runs", Double(e.runs))
    m.set("etl.runs_failed", Double(e.runsFailed))
    m.set("etl.runs_refused", Double(e.runsRefused))
    m.set("etl.runs_late", Double(e.runsLate))
    m.set("etl.window_missed", Double(e.windowMissed))
    m.set("etl.duration_mean", e.durations.count > 0 ? e.durations.mean : .nan)
    m.set("etl.duration_max", e.durations.count > 0 ? e.durations.maximum : .nan)
    m.set("etl.extract_seconds_mean", e.extractSeconds.count > 0 ? e.extractSeconds.mean : .nan)
    m.set("etl.transform_seconds_mean", e.transformSeconds.count > 0 ? e.transformSeconds.mean : .nan)
    m.set("etl.load_seconds_mean", e.loadSeconds.count > 0 ? e.loadSeconds.mean : .nan)
    e.accrueAge(to: now)
    m.set("etl.freshness_mean", measured > 0 ? e.ageArea / measured : .nan)
    m.set("etl.freshness_max", e.ageMax)
    m.set("etl.extracted_bytes", e.extractedBytes)
    m.set("etl.staged_bytes", e.stagedBytes)
    m.set("etl.staged_max", e.stagedMax)
    m.set("etl.loaded_bytes", e.loadedBytes)
    m.set("etl.loaded_rows", e.loadedRows)
    analytics.metrics(into: &m)
    return m
  }
}
