import SimKernel
import SimPlatform

/// HDFS as a model configs can name: `model: hdfs`.
public enum HDFSModel: SimulationModel {
  public static let name = "hdfs"
  public static let summary =
    "HDFS: NameNode RPCs and heap, rack-aware placement, write pipelines, local reads, dead-node detection and re-replication"
  public static let usesPlatform = true
  public static let headlineMetrics = [
    "hdfs.write_throughput_mb", "hdfs.read_throughput_mb", "hdfs.recovery_seconds", "hdfs.blocks_lost",
  ]
  public static let metricDescriptions: [(name: String, meaning: String)] = [
    (
      "hdfs.write_throughput_mb, hdfs.read_throughput_mb",
      "file bytes written or read per second by all clients, from the first file's start to the last one's end (MB/s)"
    ),
    ("hdfs.file_rate_mb_mean", "mean over files of size / time (TestDFSIO's per-task throughput), MB/s"),
    ("hdfs.file_write_latency_*, hdfs.file_read_latency_*", "a file's create to complete (or open to last block), s"),
    ("hdfs.rpc_wait_mean, _p99; hdfs.rpcs", "NameNode RPC queueing time (s) and RPCs made"),
    ("hdfs.namenode_heap_bytes; hdfs.files, hdfs.blocks", "namespace objects x namenode_object_bytes"),
    (
      "hdfs.under_replicated_blocks_max, _end; hdfs.missing_blocks_max",
      "worst seen, and at the end (series: no suffix)"
    ),
    (
      "hdfs.detection_seconds, hdfs.rereplication_seconds, hdfs.recovery_seconds",
      "last repair: failure to dead-node declaration, declaration to every block replicated, failure to replicated"
    ),
    (
      "hdfs.detection_delay_mean, _min, _max",
      "failure to dead-node declaration over every DataNode declared dead (s; NaN if none was)"
    ),
    ("hdfs.blocks_lost, hdfs.bytes_lost", "blocks with no replica left in the NameNode's map at the end"),
    ("hdfs.read_availability", "file reads that succeeded / file reads tried"),
    ("hdfs.reads_node_local, _rack_local, _remote", "where block reads came from (shares)"),
    ("hdfs.blocks_written, hdfs.replica_bytes_written", "blocks written by clients, and their bytes x replicas"),
    ("platform.*", "the platform's metrics (docs/models/platform.md)"),
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
  var timeseries: TimeSeries { series }

  func metrics() -> Metrics {
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
