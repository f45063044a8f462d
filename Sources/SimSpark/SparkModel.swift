import SimHDFS
import SimKernel
import SimModel
import SimPlatform

/// An iterative job over HDFS, the Spark way or the MapReduce way: `model: spark`.
public enum SparkModel: SimulationModel {
  public static let name = "spark"
  public static let documentation: String? = "docs/models/spark.md"
  public static let summary =
    "iterative jobs over HDFS: Spark executors with cached partitions and lineage recomputation, or a MapReduce job per iteration"
  public static let usesPlatform = true
  public static let headlineMetrics = [
    "spark.job_seconds", "spark.first_iteration_seconds", "spark.later_iteration_seconds_mean", "spark.cache_hit_ratio",
  ]
  public static let metrics: [MetricInfo] = [
    MetricInfo(["spark.job_seconds"], .duration, "start to the last iteration's end (NaN if the job failed)"),
    .flag(["spark.job_failed"], "1 if a task failed max_failures times"),
    MetricInfo(["spark.iterations_done"], .count, unit: "iterations", "iterations finished"),
    MetricInfo(
      [
        "spark.first_iteration_seconds", "spark.later_iteration_seconds_mean", "spark.later_iteration_seconds_max",
        "spark.iteration_seconds",
      ], .duration,
      "the first iteration (which reads and caches), and the others (series: spark.iteration_seconds); with engine"
        + " spark an iteration spans its stages (the application is up), with engine mapreduce its job from"
        + " submission: start-up, tasks, shuffle"),
    MetricInfo(
      ["spark.tasks_process_local", "spark.tasks_node_local", "spark.tasks_rack_local", "spark.tasks_any"], .fraction,
      "task launches by locality (shares)"),
    MetricInfo(
      ["spark.cache_hit_ratio"], .fraction, "tasks after the first iteration whose partition was cached where they ran"),
    MetricInfo(
      ["spark.cache_remote_reads"], .count, unit: "tasks",
      "tasks that fetched their cached partition from the executor holding it"),
    MetricInfo(["spark.cached_fraction"], .fraction, "partitions cached (in memory or on disk) at the end"),
    MetricInfo(
      ["spark.bytes_read_hdfs", "spark.shuffle_bytes"], .bytes,
      "input read from HDFS (every recomputation too), bytes shuffled"),
    MetricInfo(
      ["spark.recomputed_lost", "spark.recomputed_uncached", "spark.rerun_shuffle"], .count, unit: "tasks",
      "later tasks recomputed from lineage, their partition cached nowhere: its copy was lost with its executor (or"
        + " disk), or it was never cached (did not fit, or no cache); tasks run again for lost shuffle output"),
    MetricInfo(
      ["spark.speculative_tasks", "spark.speculative_won"], .count, unit: "tasks",
      "speculative copies launched, and those that finished first"),
  ]

  public static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> SparkParameters {
    try SparkParameters.decode(&reader, input: input)
  }

  public static func run(_ parameters: SparkParameters, context: RunContext) throws(ValueError) -> RunOutput {
    try runOnPlatform(parameters.hdfs.platform, faults: parameters.hdfs.faults, context: context) {
      simulator, platform in
      let hdfs = HDFSCluster(parameters: parameters.hdfs, platform: platform, simulator: simulator, context: context)
      return SparkJob(
        parameters: parameters, hdfs: hdfs, platform: platform, simulator: simulator, streams: context.streams)
    }
  }
}

extension SparkJob: PlatformWorkload {
  package var timeseries: TimeSeries { series }

  package func metrics() -> Metrics {
    var m = Metrics()
    m.set("spark.job_seconds", finished.map { $0.seconds } ?? .nan)
    m.set("spark.job_failed", failedJob ? 1 : 0)
    m.set("spark.iterations_done", Double(iterationTimes.count))
    m.set("spark.first_iteration_seconds", iterationTimes.first ?? .nan)
    let later = iterationTimes.dropFirst()
    m.set("spark.later_iteration_seconds_mean", later.isEmpty ? .nan : later.reduce(0, +) / Double(later.count))
    m.set("spark.later_iteration_seconds_max", later.max() ?? .nan)
    let launches = Double(locality.reduce(0, +))
    for (k, name) in ["process_local", "node_local", "rack_local", "any"].enumerated() {
      m.set("spark.tasks_\(name)", launches > 0 ? Double(locality[k]) / launches : .nan)
    }
    m.set("spark.cache_hit_ratio", lookups > 0 ? Double(hits) / Double(lookups) : .nan)
    m.set("spark.cached_fraction", Double(cachedOn.filter { $0 != nil }.count) / Double(max(1, partitions)))
    m.set("spark.bytes_read_hdfs", bytesRead)
    m.set("spark.shuffle_bytes", shuffleBytes)
    m.set("spark.recomputed_lost", Double(recomputedLost))
    m.set("spark.recomputed_uncached", Double(recomputedUncached))
    m.set("spark.cache_remote_reads", Double(remoteReads))
    m.set("spark.rerun_shuffle", Double(rerunShuffle))
    m.set("spark.speculative_tasks", Double(speculative))
    m.set("spark.speculative_won", Double(speculativeWon))
    return m
  }
}
