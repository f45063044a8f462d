import SimKernel
import SimModel
import SimPlatform
import SimStream

/// The Lambda and Kappa architectures on one workload: `model: lambda-kappa`.
public enum LambdaKappaModel: SimulationModel {
  public static let name = "lambda-kappa"
  public static let documentation: String? = "docs/models/lambda-kappa.md"
  public static let summary =
    "Lambda (HDFS master dataset + MapReduce batch views + a stream speed layer, merged at query time) or Kappa (one stream path, reprocessing by replaying the log): freshness, query latency, answer error, cost"
  public static let usesPlatform = true
  public static let headlineMetrics = [
    "serving.freshness_p50", "serving.freshness_p99", "serving.query_latency_p99", "serving.error_mean",
    "cost.total_cpu_seconds",
  ]
  public static let metrics: [MetricInfo] =
    StreamPipeline.servingMetrics + [
      MetricInfo(
        [
          "cost.speed_cpu_seconds", "cost.batch_cpu_seconds", "cost.serving_cpu_seconds", "cost.reprocess_cpu_seconds",
          "cost.total_cpu_seconds",
        ], .duration, unit: "core-s", "core-seconds spent by each layer"),
      MetricInfo(
        ["cost.speed_bytes", "cost.batch_bytes"], .bytes,
        "bytes the stream jobs fetched, and the batch jobs read from HDFS"),
      MetricInfo(
        ["batch.runs", "batch.runs_failed", "batch.views_loaded"], .count, unit: "runs",
        "lambda: batch runs started, failed, published"),
      MetricInfo(["batch.run_seconds_mean", "batch.run_seconds_max"], .duration, "lambda: a run's time"),
      MetricInfo(["batch.input_bytes_mean"], .bytes, "lambda: a run's input"),
      MetricInfo(
        ["kappa.catch_up_seconds"], .duration,
        "kappa: from the new version's start until it has read as far as the old one"),
      MetricInfo(["kappa.reprocessed_events"], .count, unit: "events", "kappa: what the new version read by then"),
      MetricInfo(["kappa.reprocess_rate"], .rate, unit: "events/s", "kappa: the same per second"),
      MetricInfo(
        ["kappa.switch_seconds"], .duration,
        "kappa: from the start to the switch-over (its view's horizon reaches the old one's: the next commit after"
          + " catching up)"),
      MetricInfo(
        ["kappa.unrecoverable_events"], .count, unit: "events",
        "kappa: events older than the log's retention, which no replay can see"),
      .flag(["kappa.switched"], "kappa: 1 if the new version took over"),
    ] + StreamPipeline.jobMetrics(prefix: "stream") + StreamPipeline.jobMetrics(prefix: "reprocess")

  public static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError)
    -> LambdaKappaParameters
  {
    try LambdaKappaParameters.decode(&reader, input: input)
  }

  public static func run(_ parameters: LambdaKappaParameters, context: RunContext) throws(ValueError) -> RunOutput {
    try runOnPlatform(parameters.stream.platform, faults: parameters.stream.faults, context: context) {
      simulator, platform in
      Architecture(parameters: parameters, simulator: simulator, platform: platform, context: context)
    }
  }
}

/// The architecture's parts on the platform: the stream path, and the batch layer (Lambda) or
/// the reprocessing job (Kappa).
final class Architecture: EventHandler, PlatformWorkload {
  let p: LambdaKappaParameters
  let pipeline: StreamPipeline
  var batch: BatchLayer?
  unowned let simulator: Simulator
  var me = EntityID(0)
  var reprocessing: StreamJob?
  var switchedAt: SimTime?
  var caughtUpAt: SimTime?
  var caughtUpEvents = 0
  var reprocessed = 0
  var timeseries: TimeSeries { pipeline.timeseries }

  init(parameters: LambdaKappaParameters, simulator: Simulator, platform: Platform, context: RunContext) {
    p = parameters
    self.simulator = simulator
    let lambda = parameters.architecture == .lambda
    pipeline = StreamPipeline(
      parameters: parameters.stream, reads: lambda ? .lambda(speed: parameters.speedLayer) : .stream,
      speedLayer: !lambda || parameters.speedLayer, simulator: simulator, platform: platform, context: context)
    me = simulator.register(self)
    if lambda {
      batch = BatchLayer(
        parameters: parameters, log: pipeline.log, store: pipeline.store, platform: platform, simulator: simulator,
        context: context)
    } else if let at = parameters.reprocessAt {
      simulator.schedule(at: at, to: me)
      // The new version will replay the log from its start: until it exists, nothing is dropped.
      if at <= context.duration {
        pipeline.log.floors.append { [unowned self] _ in self.reprocessing == nil ? 0 : Int.max }
      }
    }
  }

  /// Kappa: the new version starts from the start of the log, into a view of its own; the
  /// store switches to it once it has caught up with the old one, which then stops.
  func handle(_ event: Event, in simulator: Simulator) {
    if reprocessing == nil {
      let log = pipeline.log
      reprocessing = pipeline.addJob(
        parallelism: p.reprocessParallelism, start: .earliest, at: simulator.now,
        base: Array(repeating: 0, count: log.events.keys), from: log.historyStart, fold: true)
      simulator.schedule(after: .milliseconds(100), to: me)
      return
    }
    guard switchedAt == nil, let job = reprocessing, let old = pipeline.jobs.first else { return }
    let store = pipeline.store
    if caughtUpAt == nil, job.status == .running, job.lag <= old.lag {
      caughtUpAt = simulator.now
      caughtUpEvents = job.recordsIn
    }
    if job.status == .running, store.views[job.view].horizon >= store.views[old.view].horizon {
      switchedAt = simulator.now
      reprocessed = job.recordsIn
      store.current = job.view
      old.stop()
    } else {
      simulator.schedule(after: .milliseconds(100), to: me)
    }
  }

  func metrics() -> Metrics {
    var m = Metrics()
    pipeline.servingMetrics(into: &m)
    let coreSpeed = p.stream.platform.coreSpeed
    let speed = pipeline.jobs.reduce(0) { $0 + $1.cpuWork } / coreSpeed
    let reprocess = (reprocessing?.cpuWork ?? 0) / coreSpeed
    let batchCPU = (batch?.cpuWork ?? 0) / coreSpeed
    m.set("cost.speed_cpu_seconds", speed - reprocess)
    m.set("cost.reprocess_cpu_seconds", reprocess)
    m.set("cost.batch_cpu_seconds", batchCPU)
    m.set("cost.serving_cpu_seconds", pipeline.store.serviceSeconds)
    m.set("cost.total_cpu_seconds", speed + batchCPU + pipeline.store.serviceSeconds)
    m.set("cost.speed_bytes", pipeline.jobs.reduce(0) { $0 + $1.bytesFetched })
    m.set("cost.batch_bytes", batch?.bytesRead ?? 0)
    if let batch {
      m.set("batch.runs", Double(batch.run))
      m.set("batch.runs_failed", Double(batch.runsFailed))
      m.set("batch.views_loaded", Double(batch.viewsLoaded))
      m.set("batch.run_seconds_mean", batch.runSeconds.count > 0 ? batch.runSeconds.mean : .nan)
      m.set("batch.run_seconds_max", batch.runSeconds.count > 0 ? batch.runSeconds.maximum : .nan)
      m.set("batch.input_bytes_mean", batch.inputBytes.count > 0 ? batch.inputBytes.mean : .nan)
    }
    if p.architecture == .kappa {
      let start = p.reprocessAt ?? .zero
      let catchUp = caughtUpAt.map { ($0 - start).seconds } ?? .nan
      m.set("kappa.switched", switchedAt == nil ? 0 : 1)
      m.set("kappa.catch_up_seconds", catchUp)
      m.set("kappa.switch_seconds", switchedAt.map { ($0 - start).seconds } ?? .nan)
      m.set("kappa.reprocessed_events", caughtUpAt == nil ? .nan : Double(caughtUpEvents))
      m.set("kappa.reprocess_rate", caughtUpAt == nil ? .nan : Double(caughtUpEvents) / catchUp)
      m.set("kappa.unrecoverable_events", reprocessing.map { Double($0.unrecoverable) } ?? 0)
    }
    m.set("stream.events_generated", Double(pipeline.log.generatedTotal))
    if let job = pipeline.jobs.first { pipeline.jobMetrics(job, into: &m, prefix: "stream") }
    if let job = reprocessing { pipeline.jobMetrics(job, into: &m, prefix: "reprocess") }
    return m
  }
}
