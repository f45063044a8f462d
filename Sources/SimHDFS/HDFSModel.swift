import SimKernel
import SimModel
import SimPlatform

/// HDFS as a model configs can name: `model: hdfs`.
public enum HDFSModel: SimulationModel {
  public static let name = "hdfs"
  public static let documentation: String? = "docs/models/hdfs.md"
  public static let summary =
    "HDFS: NameNode RPCs and heap, rack-aware placement, write pipelines, local reads, dead-node detection and re-replication"
  public static let usesPlatform = true
  public static let headlineMetrics = [
    "hdfs.write_throughput_mb", "hdfs.read_throughput_mb", "hdfs.recovery_seconds", "hdfs.blocks_lost",
  ]
  public static let metrics: [MetricInfo] = [
    MetricInfo(
      ["hdfs.write_throughput_mb", "hdfs.read_throughput_mb"], .rate, unit: "MB/s",
      "file bytes written or read per second by all clients, from the first file's start to the last one's end"),
    MetricInfo(
      ["hdfs.file_rate_mb_mean"], .rate, unit: "MB/s",
      "mean over files of size / time (TestDFSIO's per-task throughput)"
    ),
    MetricInfo(
      ["hdfs.file_write_latency_*", "hdfs.file_read_latency_*"], .duration,
      "a file's create to complete (or open to last block): mean, p50, p99"),
    MetricInfo(["hdfs.rpc_wait_mean", "hdfs.rpc_wait_p99"], .duration, "NameNode RPC queueing time"),
    MetricInfo(["hdfs.rpcs"], .count, unit: "RPCs", "NameNode RPCs made"),
    MetricInfo(["hdfs.namenode_heap_bytes"], .bytes, "namespace objects x namenode_object_bytes"),
    MetricInfo(["hdfs.files", "hdfs.blocks"], .count, "namespace objects"),
    MetricInfo(
      [
        "hdfs.under_replicated_blocks_max", "hdfs.under_replicated_blocks_end", "hdfs.missing_blocks_max",
        "hdfs.under_replicated_blocks", "hdfs.missing_blocks",
      ], .count, unit: "blocks",
      "worst seen, and at the end (series: no suffix)"),
    MetricInfo(
      ["hdfs.detection_seconds", "hdfs.rereplication_seconds", "hdfs.recovery_seconds"], .duration,
      "last repair: failure to dead-node declaration, declaration to every block replicated, failure to replicated"),
    MetricInfo(
      ["hdfs.detection_delay_mean", "hdfs.detection_delay_min", "hdfs.detection_delay_max"], .duration,
      "failure to dead-node declaration over every DataNode declared dead (NaN if none was)"),
    MetricInfo(
      ["hdfs.blocks_lost"], .count, unit: "blocks", "blocks with no replica left in the NameNode's map at the end"),
    MetricInfo(["hdfs.bytes_lost"], .bytes, "the bytes of those blocks"),
    MetricInfo(["hdfs.read_availability"], .fraction, "file reads that succeeded / file reads tried"),
    MetricInfo(
      ["hdfs.reads_node_local", "hdfs.reads_rack_local", "hdfs.reads_remote"], .fraction,
      "where block reads came from (shares)"),
    MetricInfo(["hdfs.blocks_written"], .count, unit: "blocks", "blocks written by clients"),
    MetricInfo(["hdfs.replica_bytes_written"], .bytes, "their bytes x replicas"),
  ]

  public static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> HDFSParameters {
    try HDFSParameters.decode(&reader, input: input)
  }

  public static func run(_ parameters: HDFSParameters, context: RunContext) throws(ValueError) -> RunOutput {
    try runOnPlatform(parameters.platform, faults: parameters.faults, context: context) { simulator, platform in
      HDFSCluster(parameters: parameters, platform: platform, simulator: simulator, context: context)
    }
  }
}

extension HDFSCluster: PlatformWorkload {
  package var timeseries: TimeSeries { series }

  package func metrics() -> Metrics {
    // Throughput over the span from the first measured file's start to the last one's end.
    let seconds = firstStart.map { (lastEnd - $0).seconds } ?? .nan
    var m = Metrics()
    m.set("hdfs.write_throughput_mb", bytesWritten > 0 ? bytesWritten / 1e6 / seconds : 0)
    m.set("hdfs.read_throughput_mb", bytesRead > 0 ? bytesRead / 1e6 / seconds : 0)
    m.set("hdfs.file_rate_mb_mean", fileRates.count > 0 ? fileRates.mean / 1e6 : .nan)
    for (name, h) in [("write", writeLatency), ("read", readLatency)] {
      m.set("hdfs.file_\(name)_latency_mean", h.count > 0 ? h.mean : .nan)
      m.set("hdfs.file_\(name)_latency_p50", h.percentile(50))
      m.set("hdfs.file_\(name)_latency_p99", h.percentile(99))
    }
    m.set("hdfs.rpcs", Double(rpcs))
    m.set("hdfs.rpc_wait_mean", namenode.waiting.count > 0 ? namenode.waiting.mean : .nan)
    m.set("hdfs.rpc_wait_p99", namenode.waiting.percentile(99))
    m.set("hdfs.files", Double(files.count))
    m.set("hdfs.blocks", Double(blocks.count))
    m.set("hdfs.namenode_heap_bytes", heapBytes)
    _ = blockHealth()
    m.set("hdfs.under_replicated_blocks_end", Double(blockHealth().0))
    m.set("hdfs.under_replicated_blocks_max", Double(underReplicatedMax))
    m.set("hdfs.missing_blocks_max", Double(missingMax))
    let last = repairs.last
    m.set("hdfs.detection_seconds", last?.detected ?? .nan)
    m.set("hdfs.rereplication_seconds", last?.repaired ?? .nan)
    m.set("hdfs.recovery_seconds", last?.recovered ?? .nan)
    m.set("hdfs.detection_delay_mean", detections.count > 0 ? detections.mean : .nan)
    m.set("hdfs.detection_delay_min", detections.count > 0 ? detections.minimum : .nan)
    m.set("hdfs.detection_delay_max", detections.count > 0 ? detections.maximum : .nan)
    let lost = blocks.indices.filter { blocks[$0].replicas.isEmpty && blocks[$0].pending == 0 && isStored($0) }
    m.set("hdfs.blocks_lost", Double(lost.count))
    m.set("hdfs.bytes_lost", lost.reduce(0.0) { $0 + blocks[$1].size })
    m.set("hdfs.read_availability", readsTried > 0 ? Double(readsTried - readsFailed) / Double(readsTried) : .nan)
    let reads = Double(locality.reduce(0, +))
    for (k, name) in ["node_local", "rack_local", "remote"].enumerated() {
      m.set("hdfs.reads_\(name)", reads > 0 ? Double(locality[k]) / reads : .nan)
    }
    m.set("hdfs.blocks_written", Double(blocksWritten))
    m.set("hdfs.replica_bytes_written", replicaBytes)
    return m
  }

  /// A block that was written (a failed pipeline's block never was).
  func isStored(_ block: Int) -> Bool { pendingTargets[Int32(block)] == nil && blocks[block].size > 0 }
}
