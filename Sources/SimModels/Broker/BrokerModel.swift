import SimKernel
import SimPlatform

/// The Kafka-style broker as a model configs can name: `model: broker`.
public enum BrokerModel: SimulationModel {
  public static let name = "broker"
  public static let summary =
    "Kafka-style partitioned, replicated log: acks, ISR, min.insync.replicas, leader election, durability under faults"
  public static let usesPlatform = true
  public static let headlineMetrics = [
    "broker.produce_throughput_records", "broker.produce_latency_p99", "broker.availability",
    "broker.records_acked_lost",
  ]
  public static let metricDescriptions: [(name: String, meaning: String)] = [
    ("broker.records_produced", "records in batches created after the warm-up"),
    (
      "broker.records_acked, _failed, _in_flight",
      "their fate: acknowledged, failed back to the producer, still pending"
    ),
    ("broker.records_acked_lost", "acknowledged, then gone from the partition's log (the durability metric)"),
    ("broker.records_acked_unavailable", "acknowledged, on a replica, but the partition has no leader at the end"),
    ("broker.produce_throughput_records, _mb", "acknowledged records (and MB) per second"),
    ("broker.produce_latency_mean, _p50, _p99, _p999", "first record of a batch to its acknowledgement, seconds"),
    ("broker.availability", "acknowledged / (acknowledged + failed) records"),
    ("broker.unavailable_partition_seconds", "partition-seconds without a leader"),
    ("broker.under_replicated_partitions_mean", "time-average partitions whose ISR is short of the replication factor"),
    (
      "consumer.records_consumed, _duplicated",
      "records read by the consumer groups (each group counts), and read again"
    ),
    ("consumer.end_to_end_latency_mean, _p50, _p99", "first record of a batch to its consumption, seconds"),
    ("consumer.lag_mean, _max", "batches between the high watermark and the consumers' positions"),
    ("platform.*", "utilisation, bytes moved and fault costs (docs/models/platform.md)"),
  ]

  public static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> BrokerParameters {
    try BrokerParameters.decode(&reader, input: input)
  }

  public static func run(_ parameters: BrokerParameters, context: RunContext) throws(ValueError) -> RunOutput {
    try runOnPlatform(parameters.platform, faults: parameters.faults, context: context) { simulator, platform in
      let cluster = BrokerCluster(parameters: parameters, platform: platform, simulator: simulator, context: context)
      if parameters.consumerGroups > 0 {
        cluster.consumerGroups = ConsumerGroups(cluster: cluster, platform: platform, simulator: simulator)
      }
      return cluster
    }
  }
}

extension BrokerCluster: PlatformWorkload {
  var timeseries: TimeSeries { series }

  /// The fate of every batch created after the warm-up, and the rest of the metrics.
  func metrics() -> Metrics {
    let now = simulator.now
    let seconds = (now - warmup).seconds
    var produced = 0
    var acked = 0
    var failed = 0
    var inFlight = 0
    var lost = 0
    var unavailable = 0
    var ackedBytes = 0.0
    // Where each batch stands in its partition's logs.
    var inLeaderLog = Set<Int32>()
    var onSomeReplica = Set<Int32>()
    for partition in partitions {
      if let leader = partition.leader { inLeaderLog.formUnion(partition.replicas[leader].log) }
      for replica in partition.replicas { onSomeReplica.formUnion(replica.log) }
    }
    for (i, batch) in batches.enumerated() where batch.counted {
      produced += batch.records
      switch batch.state {
      case .inFlight: inFlight += batch.records
      case .failed: failed += batch.records
      case .acked:
        let id = Int32(i)
        if !onSomeReplica.contains(id), underWay[id] != nil {
          inFlight += batch.records  // acks=0: sent, not yet appended anywhere
          continue
        }
        acked += batch.records
        ackedBytes += batch.bytes
        if partitions[batch.partition].leader != nil {
          if !inLeaderLog.contains(id) { lost += batch.records }
        } else if onSomeReplica.contains(id) {
          unavailable += batch.records
        } else {
          lost += batch.records
        }
      }
    }
    var m = Metrics()
    m.set("broker.records_produced", Double(produced))
    m.set("broker.records_acked", Double(acked))
    m.set("broker.records_failed", Double(failed))
    m.set("broker.records_in_flight", Double(inFlight))
    m.set("broker.records_acked_lost", Double(lost))
    m.set("broker.records_acked_unavailable", Double(unavailable))
    m.set("broker.produce_throughput_records", Double(acked) / seconds)
    m.set("broker.produce_throughput_mb", ackedBytes / 1e6 / seconds)
    m.set("broker.produce_latency_mean", latency.count > 0 ? latency.mean : .nan)
    m.set("broker.produce_latency_p50", latency.percentile(50))
    m.set("broker.produce_latency_p99", latency.percentile(99))
    m.set("broker.produce_latency_p999", latency.percentile(99.9))
    m.set("broker.availability", acked + failed > 0 ? Double(acked) / Double(acked + failed) : .nan)
    m.set("broker.unavailable_partition_seconds", offline.average(until: now) * seconds)
    m.set("broker.under_replicated_partitions_mean", underReplicated.average(until: now))
    if let consumers = consumerGroups {
      m.set("consumer.records_consumed", Double(consumers.consumedRecords))
      m.set("consumer.records_duplicated", Double(consumers.duplicateRecords))
      m.set("consumer.end_to_end_latency_mean", consumers.endToEnd.count > 0 ? consumers.endToEnd.mean : .nan)
      m.set("consumer.end_to_end_latency_p50", consumers.endToEnd.percentile(50))
      m.set("consumer.end_to_end_latency_p99", consumers.endToEnd.percentile(99))
      m.set("consumer.lag_mean", consumers.lag.average(until: now))
      m.set("consumer.lag_max", consumers.lag.maximum)
    }
    return m
  }
}
