import SimKernel
import SimModel
import SimPlatform

/// A stream job on its own (the speed layer): `model: stream`.
public enum StreamModel: SimulationModel {
  public static let name = "stream"
  public static let documentation: String? = "docs/models/stream.md"
  public static let summary =
    "a Flink-style stream job: events out of order through a Kafka-style log, keyed event-time windows with watermarks, checkpoints, restarts and a serving store"
  public static let usesPlatform = true
  public static let judgesSteadyState = true
  public static let headlineMetrics = [
    "stream.throughput", "stream.record_latency_p99", "stream.window_latency_p50", "stream.late_dropped",
    "stream.duplicates", "serving.freshness_p50", "serving.error_mean",
  ]
  public static let metrics: [MetricInfo] =
    StreamPipeline.jobMetrics(prefix: "stream") + StreamPipeline.servingMetrics

  public static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> StreamParameters {
    let platform = try PlatformSpec.decode(input)
    var p = StreamParameters(
      platform: platform, faults: try FaultSpec.decode(input.faults, spec: platform, baseDirectory: input.baseDirectory)
    )
    p.hosts = try StreamParameters.decodeHosts(&reader, platform: platform, reserved: 0, storage: [])
    try p.decodeParts(&reader, input: input)
    if !p.job.isTumbling && p.serving.queryRate > 0 {
      throw reader.error(
        "serving", "queries add up tumbling windows; with a sliding window set serving.query_rate: 0",
        hint: "or drop job.slide")
    }
    return p
  }

  public static func run(_ parameters: StreamParameters, context: RunContext) throws(ValueError) -> RunOutput {
    try runOnPlatform(parameters.platform, faults: parameters.faults, context: context) { simulator, platform in
      StreamPipeline(parameters: parameters, reads: .stream, simulator: simulator, platform: platform, context: context)
    }
  }
}

/// Events, the log, a stream job and the serving store, wired on the platform: the stream
/// model, and the speed layer (and Kappa's only path) of the architectures.
package final class StreamPipeline: PlatformWorkload {
  /// The job's throughput and how far it is behind its sources: a job slower than its sources
  /// falls behind without end (the lag rises, the throughput stays below the arrival rate), one
  /// that keeps up holds its lag level. (Architectures built on the pipeline judge none: a batch
  /// period or a reprocessing run is a transient by design.)
  package func watchSteadyState(_ monitor: SteadyStateMonitor) {
    guard let job = jobs.first else { return }
    monitor.rate("stream.throughput") { [unowned job] in Double(job.recordsProcessed) }
    monitor.level("stream.consumer_lag") { [unowned job] in Double(job.lag) }
  }

  let p: StreamParameters
  package let log: EventLog
  package var jobs: [StreamJob] = []
  package let store: ServingStore
  unowned let simulator: Simulator
  unowned let platform: Platform
  var sampler: TimeSeriesSampler?
  var extraSeries = TimeSeries()
  package var timeseries: TimeSeries {
    var series = sampler?.series ?? TimeSeries()
    for s in extraSeries.samples { series.append(time: s.time, metric: s.metric, value: s.value) }
    return series
  }

  package init(
    parameters: StreamParameters, reads: ServingStore.Reads, speedLayer: Bool = true, simulator: Simulator,
    platform: Platform, context: RunContext
  ) {
    p = parameters
    self.simulator = simulator
    self.platform = platform
    let h = parameters.hosts
    for (role, hosts) in [
      ("broker", h.brokers), ("stream_worker", h.workers), ("store", h.store), ("client", h.clients),
      ("storage", h.storage),
    ] {
      platform.assignRole(role, hosts: hosts.map(HostID.init))
    }
    log = EventLog(
      events: parameters.events, log: parameters.log, hosts: parameters.hosts, bucket: parameters.job.windowSlide,
      platform: platform, simulator: simulator, context: context)
    store = ServingStore(
      parameters: parameters.serving, hosts: parameters.hosts.store, clients: parameters.hosts.clients,
      job: parameters.job, reads: reads, log: log, platform: platform, simulator: simulator,
      context: context)
    if speedLayer {
      let fold: Bool
      if case .stream = reads { fold = true } else { fold = false }
      addJob(
        parallelism: parameters.job.parallelism, start: .live, at: .zero, base: store.truthBase(before: 0), from: 0,
        fold: fold)
    }
    if let interval = context.timeseriesInterval {
      let sampler = TimeSeriesSampler(interval: interval, simulator: simulator)
      // `simulator` unowned too: the simulator holds the sampler, so a strong capture would keep
      // the whole run (simulator, platform, every entity) alive after it ended, run after run.
      sampler.addProbe("serving.freshness_seconds") { [unowned self, unowned simulator] in
        (simulator.now - SimTime(nanoseconds: self.currentHorizon)).seconds
      }
      sampler.addProbe("stream.consumer_lag") { [unowned self] in
        Double(self.jobs.first(where: { $0.status != .stopped })?.lag ?? 0)
      }
      sampler.addProbe("stream.state_bytes") { [unowned self] in self.jobs.first?.stateBytes.value ?? 0 }
      self.sampler = sampler
    }
  }

  /// A job version writing its own view (complete from `from`, with `base` before it).
  @discardableResult
  package func addJob(
    parallelism: Int, start: StreamJob.StartPosition, at time: SimTime, base: [Int], from: Int64, fold: Bool
  ) -> StreamJob {
    let view = store.addView(base: base, from: from, fold: fold)
    let job = StreamJob(
      parameters: p.job, name: "v\(jobs.count + 1)", view: view, parallelism: parallelism, workers: p.hosts.workers,
      storage: p.hosts.storage, log: log, keys: p.events.keys, start: start, startAt: time, platform: platform,
      simulator: simulator)
    job.sink = store
    store.tasksPerView.append(parallelism)
    log.appendListeners.append { [unowned job] part in job.appended(part) }
    jobs.append(job)
    return job
  }

  /// The horizon an answer would have now.
  var currentHorizon: Int64 {
    switch store.reads {
    case .lambda(let speed):
      return speed ? max(store.batchCutoff, store.views[store.current].horizon) : store.batchCutoff
    case .stream:
      return store.views.isEmpty ? 0 : store.views[store.current].horizon
    }
  }

  /// A stream job's metrics, under `prefix` (`stream`, or `reprocess` for Kappa's new version).
  package static func jobMetrics(prefix: String) -> [MetricInfo] {
    [
      MetricInfo(
        ["\(prefix).events_generated", "\(prefix).events_appended"], .count, unit: "events",
        "events that happened, and those in the log"),
      MetricInfo(
        ["\(prefix).append_retries"], .count, unit: "requests",
        "produce requests that failed (no leader, a broker cut off) and were sent again"),
      MetricInfo(["\(prefix).records_processed"], .count, unit: "records", "records through the window operator"),
      MetricInfo(["\(prefix).throughput"], .rate, unit: "records/s", "records through the window operator per second"),
      MetricInfo(
        ["\(prefix).record_latency_p50", "\(prefix).record_latency_p99"], .duration,
        "from a record's append to the log to its count in a window"),
      MetricInfo(
        ["\(prefix).window_latency_p50", "\(prefix).window_latency_p99"], .duration,
        "from a window's end to its firing (watermark delay included)"),
      MetricInfo(
        ["\(prefix).late_updates", "\(prefix).late_dropped"], .count, unit: "events",
        "late events that updated a fired window, and those dropped"),
      MetricInfo(
        ["\(prefix).duplicates"], .count, unit: "events",
        "events counted again in results sent twice (at-least-once after a failure)"),
      MetricInfo(
        ["\(prefix).uncommitted_discarded"], .count, unit: "events",
        "exactly-once: events in results never committed (replayed instead)"),
      MetricInfo(
        ["\(prefix).state_bytes_mean", "\(prefix).state_bytes_max", "\(prefix).state_bytes"], .bytes,
        "window state (entries x state_entry_size): time-average, most (series: no suffix)"),
      MetricInfo(
        ["\(prefix).checkpoints", "\(prefix).checkpoints_failed"], .count, unit: "checkpoints",
        "checkpoints completed, and failed"),
      MetricInfo(
        ["\(prefix).checkpoint_seconds_mean", "\(prefix).alignment_seconds_mean"], .duration,
        "a completed checkpoint's time, and its barrier alignment"),
      MetricInfo(["\(prefix).failures"], .count, unit: "failures", "job failures"),
      MetricInfo(
        ["\(prefix).recovery_seconds_mean"], .duration, "failure to the lag being back where it was"),
      MetricInfo(
        ["\(prefix).consumer_lag_end", "\(prefix).consumer_lag"], .count, unit: "records",
        "records not yet read at the end (series: no suffix)"),
      MetricInfo(
        ["\(prefix).backpressure"], .level, unit: "sources", "mean number of sources waiting on a full window task"),
      MetricInfo(
        ["\(prefix).bytes_from_disk"], .bytes,
        "bytes the sources read from the brokers' disks (older than the page cache)"
      ),
      MetricInfo(
        ["\(prefix).fetch_retries"], .count, unit: "fetches",
        "fetches that found no leader (a broker down or cut off) and were tried again"),
      MetricInfo(["\(prefix).cpu_seconds"], .duration, unit: "core-s", "core-seconds of the job's tasks"),
    ]
  }

  package static let servingMetrics: [MetricInfo] = [
    MetricInfo(
      ["serving.answered", "serving.queries_failed"], .count, unit: "queries",
      "queries answered after the warm-up, and failed"),
    MetricInfo(["serving.query_latency_p50", "serving.query_latency_p99"], .duration, "client to answer"),
    MetricInfo(
      ["serving.freshness_mean", "serving.freshness_p50", "serving.freshness_p99", "serving.freshness_seconds"],
      .duration,
      "age of the answer's horizon: everything before it is in the answer (series: serving.freshness_seconds)"
    ),
    MetricInfo(
      ["serving.error_mean", "serving.error_now_mean"], .ratio,
      "relative error against the truth up to the horizon, and against every event that has happened (staleness"
        + " included)"),
    MetricInfo(["serving.exact_fraction"], .fraction, "exact answers"),
    MetricInfo(["serving.cpu_seconds"], .duration, unit: "core-s", "core-seconds of the store's lookups and writes"),
  ]

  package func metrics() -> Metrics {
    var m = Metrics()
    m.set("stream.events_generated", Double(log.generatedTotal))
    m.set("stream.events_appended", Double(log.appended))
    m.set("stream.append_retries", Double(log.appendFailures))
    if let job = jobs.first { jobMetrics(job, into: &m, prefix: "stream") }
    servingMetrics(into: &m)
    return m
  }

  package func jobMetrics(_ job: StreamJob, into m: inout Metrics, prefix: String) {
    let now = simulator.now
    let span = max(1e-9, (now - job.started).seconds)
    m.set("\(prefix).records_processed", Double(job.recordsProcessed))
    m.set("\(prefix).throughput", Double(job.recordsProcessed) / span)
    m.set("\(prefix).record_latency_p50", job.recordLatency.percentile(50))
    m.set("\(prefix).record_latency_p99", job.recordLatency.percentile(99))
    m.set("\(prefix).window_latency_p50", job.windowLatency.percentile(50))
    m.set("\(prefix).window_latency_p99", job.windowLatency.percentile(99))
    m.set("\(prefix).late_updates", Double(job.lateUpdates))
    m.set("\(prefix).late_dropped", Double(job.lateDropped))
    m.set("\(prefix).duplicates", Double(job.duplicates))
    m.set("\(prefix).uncommitted_discarded", Double(job.discardedUncommitted))
    m.set("\(prefix).state_bytes_mean", job.stateBytes.average(until: now))
    m.set("\(prefix).state_bytes_max", job.stateBytesMax)
    m.set("\(prefix).checkpoints", Double(job.checkpointTimes.count))
    m.set("\(prefix).checkpoints_failed", Double(job.checkpointsFailed))
    m.set("\(prefix).checkpoint_seconds_mean", job.checkpointTimes.count > 0 ? job.checkpointTimes.mean : .nan)
    m.set("\(prefix).alignment_seconds_mean", job.alignmentTimes.count > 0 ? job.alignmentTimes.mean : .nan)
    m.set("\(prefix).failures", Double(job.failures))
    m.set(
      "\(prefix).recovery_seconds_mean",
      job.recoveryTimes.isEmpty ? .nan : job.recoveryTimes.reduce(0, +) / Double(job.recoveryTimes.count))
    m.set("\(prefix).consumer_lag_end", job.status == .stopped ? .nan : Double(job.lag))
    m.set("\(prefix).backpressure", job.blockedSources.average(until: now))
    m.set("\(prefix).bytes_from_disk", job.bytesFromDisk)
    m.set("\(prefix).fetch_retries", Double(job.fetchRetries))
    m.set("\(prefix).cpu_seconds", job.cpuWork / p.platform.coreSpeed)
  }

  package func servingMetrics(into m: inout Metrics) {
    m.set("serving.answered", Double(store.answered))
    m.set("serving.queries_failed", Double(store.failedQueries))
    m.set("serving.query_latency_p50", store.latency.percentile(50))
    m.set("serving.query_latency_p99", store.latency.percentile(99))
    m.set("serving.freshness_mean", store.freshness.count > 0 ? store.freshness.mean : .nan)
    m.set("serving.freshness_p50", store.freshness.percentile(50))
    m.set("serving.freshness_p99", store.freshness.percentile(99))
    m.set("serving.error_mean", store.error.count > 0 ? store.error.mean : .nan)
    m.set("serving.exact_fraction", store.answered > 0 ? Double(store.exact) / Double(store.answered) : .nan)
    m.set("serving.error_now_mean", store.errorNow.count > 0 ? store.errorNow.mean : .nan)
    m.set("serving.cpu_seconds", store.serviceSeconds)
  }
}
