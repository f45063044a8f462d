import SimHDFS
import SimKernel
import SimModel
import SimPlatform

/// MapReduce over HDFS as a model configs can name: `model: mapreduce`.
public enum MapReduceModel: SimulationModel {
  public static let name = "mapreduce"
  public static let documentation: String? = "docs/models/mapreduce.md"
  public static let summary =
    "MapReduce over HDFS: locality-aware maps, spills, slowstart shuffle, reduces to HDFS, retries, lost outputs, speculation"
  public static let usesPlatform = true
  public static let headlineMetrics = [
    "mapreduce.job_seconds", "mapreduce.map_phase_seconds", "mapreduce.maps_node_local", "mapreduce.tasks_rerun*",
  ]
  public static let metrics: [MetricInfo] = [
    MetricInfo(
      ["mapreduce.job_seconds"], .duration, "submission to the last reduce's output in HDFS (NaN if the job failed)"),
    .flag(["mapreduce.job_failed"], "1 if a task failed max_attempts times"),
    MetricInfo(["mapreduce.map_phase_seconds"], .duration, "job start (after job_startup) to the last map's end"),
    MetricInfo(["mapreduce.maps", "mapreduce.reduces"], .count, unit: "tasks", "tasks"),
    MetricInfo(
      ["mapreduce.maps_node_local", "mapreduce.maps_rack_local", "mapreduce.maps_remote"], .fraction,
      "map launches by locality (shares)"),
    MetricInfo(
      ["mapreduce.bytes_read_hdfs", "mapreduce.bytes_spilled", "mapreduce.bytes_written_hdfs"], .bytes,
      "bytes read by maps, written to local disks by spills and merges, job output (once, not per replica)"),
    MetricInfo(
      ["mapreduce.bytes_shuffle_written", "mapreduce.bytes_shuffle_read"], .bytes,
      "map output (each map's once), and what the reduces that committed fetched: equal"),
    MetricInfo(
      ["mapreduce.bytes_map_output_rewritten"], .bytes,
      "map output written again by maps re-executed after their output was lost"),
    MetricInfo(
      ["mapreduce.bytes_shuffle_fetched", "mapreduce.bytes_shuffle_wasted", "mapreduce.bytes_shuffle_served"], .bytes,
      "every byte reduces fetched (read + wasted); fetched by attempts that did not commit or from outputs lost"
        + " mid-fetch; sent by the map hosts' shuffle services"),
    MetricInfo(
      ["mapreduce.bytes_shuffle_from_cache"], .bytes,
      "of the bytes the shuffle services sent, those still in the map host's page cache (page_cache): no disk read"),
    MetricInfo(["mapreduce.workers_killed"], .count, unit: "workers", "worker processes killed by worker_kills"),
    MetricInfo(
      ["mapreduce.tasks_rerun_failed", "mapreduce.tasks_rerun_lost_output"], .count, unit: "attempts",
      "attempts run again: after a failure or a lost host or worker, for a map output lost with its worker"),
    MetricInfo(
      ["mapreduce.backup_tasks", "mapreduce.backups_won"], .count, unit: "attempts",
      "speculative attempts launched, and those that finished first"),
    MetricInfo(
      ["mapreduce.map_seconds_mean", "mapreduce.reduce_seconds_mean"], .duration,
      "task durations: a map's, a reduce's after its shuffle"),
    MetricInfo(
      ["mapreduce.input_rate", "mapreduce.shuffle_rate", "mapreduce.output_rate"], .rate,
      "series: bytes read by maps, moved by the shuffle, written as output per second of each sampling interval"),
  ]

  public static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError)
    -> MapReduceParameters
  {
    try MapReduceParameters.decode(&reader, input: input)
  }

  public static func run(_ parameters: MapReduceParameters, context: RunContext) throws(ValueError) -> RunOutput {
    try runOnPlatform(parameters.hdfs.platform, faults: parameters.hdfs.faults, context: context) {
      simulator, platform in
      let hdfs = HDFSCluster(parameters: parameters.hdfs, platform: platform, simulator: simulator, context: context)
      let job = MapReduceJob(
        parameters: parameters, hdfs: hdfs, platform: platform, simulator: simulator, context: context)
      if let interval = context.timeseriesInterval { job.sample(every: interval) }
      return job
    }
  }
}

extension MapReduceJob: PlatformWorkload {
  package var timeseries: TimeSeries { sampler?.series ?? TimeSeries() }

  package func metrics() -> Metrics {
    var m = Metrics()
    m.set("mapreduce.job_seconds", finished.map { $0.seconds } ?? .nan)
    m.set("mapreduce.job_failed", failedJob ? 1 : 0)
    m.set("mapreduce.map_phase_seconds", mapPhaseEnd.map { ($0 - started).seconds } ?? .nan)
    m.set("mapreduce.maps", Double(maps))
    m.set("mapreduce.reduces", Double(p.reduces))
    let launches = Double(locality.reduce(0, +))
    for (k, name) in ["node_local", "rack_local", "remote"].enumerated() {
      m.set("mapreduce.maps_\(name)", launches > 0 ? Double(locality[k]) / launches : .nan)
    }
    m.set("mapreduce.bytes_read_hdfs", bytesRead)
    m.set("mapreduce.bytes_spilled", bytesSpilled)
    m.set("mapreduce.bytes_shuffle_written", shuffleWritten)
    m.set("mapreduce.bytes_shuffle_read", shuffleRead)
    m.set("mapreduce.bytes_map_output_rewritten", outputRewritten)
    m.set("mapreduce.bytes_shuffle_fetched", shuffleFetched)
    m.set("mapreduce.bytes_shuffle_wasted", shuffleWasted)
    m.set("mapreduce.bytes_shuffle_served", shuffleServed)
    m.set("mapreduce.bytes_shuffle_from_cache", shuffleFromCache)
    m.set("mapreduce.workers_killed", Double(workersKilled))
    m.set("mapreduce.bytes_written_hdfs", bytesWritten)
    m.set("mapreduce.tasks_rerun_failed", Double(rerunFailed))
    m.set("mapreduce.tasks_rerun_lost_output", Double(rerunLostOutput))
    m.set("mapreduce.backup_tasks", Double(backups))
    m.set("mapreduce.backups_won", Double(backupsWon))
    m.set("mapreduce.map_seconds_mean", mapDurations.count > 0 ? mapDurations.mean : .nan)
    m.set("mapreduce.reduce_seconds_mean", reduceDurations.count > 0 ? reduceDurations.mean : .nan)
    return m
  }
}
