import SimKernel
import SimModel
import SimPlatform

/// The Kafka-style broker as a model configs can name: `model: broker`.
public enum BrokerModel: SimulationModel {
  public static let name = "broker"
  public static let documentation: String? = "docs/models/broker.md"
  public static let summary =
    "Kafka-style partitioned, replicated log: acks, ISR, min.insync.replicas, leader election, durability under faults"
  public static let usesPlatform = true
  public static let judgesSteadyState = true
  public static let headlineMetrics = [
    "broker.produce_throughput_records", "broker.produce_latency_p99", "broker.availability",
    "broker.records_acked_lost",
  ]
  public static let metrics: [MetricInfo] = [
    MetricInfo(["broker.records_produced"], .count, unit: "records", "records in batches created after the warm-up"),
    MetricInfo(
      ["broker.records_acked", "broker.records_failed", "broker.records_in_flight"], .count, unit: "records",
      "their fate: acknowledged, failed back to the producer, still pending"),
    MetricInfo(
      ["broker.records_acked_lost"], .count, unit: "records",
      "acknowledged, then gone from the partition's log (the durability metric)"),
    MetricInfo(
      ["broker.records_acked_unavailable"], .count, unit: "records",
      "acknowledged, on a replica, but the partition has no leader at the end"),
    MetricInfo(
      ["broker.produce_throughput_records"], .rate, unit: "records/s",
      "records acknowledged in the measured window (after the warm-up) per second of it; also a time series, per"
        + " sampling interval"),
    MetricInfo(["broker.produce_throughput_mb"], .rate, unit: "MB/s", "the same in MB (10^6 bytes) per second"),
    MetricInfo(
      ["broker.records_buffered_end"], .count, unit: "records",
      "records not yet acknowledged or failed at the end (in the producers' buffers, queues or requests), whenever"
        + " made"),
    MetricInfo(
      [
        "broker.produce_latency_mean", "broker.produce_latency_p50", "broker.produce_latency_p99",
        "broker.produce_latency_p999", "broker.produce_latency",
      ], .duration,
      "first record of a batch to its acknowledgement (series: the mean per sampling interval)"),
    MetricInfo(["broker.availability"], .fraction, "acknowledged / (acknowledged + failed) records"),
    MetricInfo(
      ["broker.unavailable_partition_seconds"], .duration,
      "partition-seconds without a working leader (none, or one down or cut off from the controller)"),
    MetricInfo(
      ["broker.under_replicated_partitions_mean", "broker.under_replicated_partitions", "broker.offline_partitions"],
      .level, unit: "partitions",
      "time-average partitions whose ISR is short of the replication factor (series: under-replicated and offline"
        + " partitions)"),
    MetricInfo(
      ["broker.producers_blocked_mean"], .level, unit: "producers", "time-average producers blocked on buffer.memory"),
    MetricInfo(
      ["broker.producer_cpu_utilisation"], .fraction,
      "share of a producer thread's time spent on records (producer_record_cpu)"),
    MetricInfo(
      ["broker.partition_skew"], .ratio, "records in the busiest partition / the mean (1: even; keyed records skew it)"),
    MetricInfo(
      ["broker.bottleneck"], .category,
      categories: [0: "none", 1: "network", 2: "disk", 3: "producers", 4: "producer CPU", 5: "broker CPU"],
      "what limits throughput: the busiest resource when it is >= 80% used (network, a broker's disk or CPU, the"
        + " producers' CPU), or the producers (blocked on buffer.memory: in-flight requests and round trips)"),
    MetricInfo(["broker.bottleneck_utilisation"], .fraction, "the busiest resource's utilisation"),
    MetricInfo(
      ["broker.utilisation.cpu", "broker.utilisation.disk", "broker.utilisation.link"], .fraction,
      "time-average utilisation of the broker hosts' own cores, disks (read and write sides) and links (both"
        + " directions), averaged over the brokers only"),
    MetricInfo(
      ["broker.dirty_bytes", "broker.producer_buffer_bytes"], .bytes,
      "steady-state signals: page-cache dirty bytes (all brokers), buffer.memory in use (all producers)"),
    MetricInfo(
      ["consumer.records_consumed", "consumer.records_duplicated"], .count, unit: "records",
      "records read by the consumer groups (each group counts), and read again"),
    MetricInfo(
      [
        "consumer.end_to_end_latency_mean", "consumer.end_to_end_latency_p50", "consumer.end_to_end_latency_p99",
        "consumer.end_to_end_latency_p999",
      ], .duration, "first record of a batch to its consumption"),
    MetricInfo(
      ["consumer.records_skipped"], .count, unit: "records",
      "records deleted by retention before a group read them (auto.offset.reset)"),
    MetricInfo(
      ["consumer.rebalances"], .count, unit: "rebalances",
      "rebalances: a member's session expired or a member rejoined (each group counts)"),
    MetricInfo(
      ["consumer.disk_read_bytes"], .bytes, "bytes consumers read from the leaders' disks (older than the page cache)"),
    MetricInfo(
      ["consumer.lag_mean", "consumer.lag_max", "consumer.lag"], .level, unit: "records",
      "records between the high watermark and the groups' positions (sampled; series: no suffix)"),
  ]

  public static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> BrokerParameters {
    try BrokerParameters.decode(&reader, input: input)
  }

  public static func run(_ parameters: BrokerParameters, context: RunContext) throws(ValueError) -> RunOutput {
    try run(parameters, context: context, settles: true)
  }

  /// `settles: false` keeps every batch to the end (Settlement.swift): the tests' cross-check.
  static func run(_ parameters: BrokerParameters, context: RunContext, settles: Bool) throws(ValueError) -> RunOutput {
    try runOnPlatform(parameters.platform, faults: parameters.faults, context: context) { simulator, platform in
      let cluster = BrokerCluster(
        parameters: parameters, platform: platform, simulator: simulator, context: context, settles: settles)
      if parameters.consumerGroups > 0 {
        cluster.consumerGroups = ConsumerGroups(cluster: cluster, platform: platform, simulator: simulator)
      }
      return cluster
    }
  }
}

extension BrokerCluster: PlatformWorkload {
  var timeseries: TimeSeries { series }

  /// Throughput, latency, and the state that a sustained overload fills: the page cache's dirty
  /// bytes (a disk slower than the appends: writes stall at dirty_max) and the producers'
  /// buffer.memory in use (a cluster slower than the producers).
  func watchSteadyState(_ monitor: SteadyStateMonitor) {
    monitor.rate("broker.produce_throughput_records") { [unowned self] in Double(ackedTotal) }
    monitor.mean(
      "broker.produce_latency", sum: { [unowned self] in latencySum }, count: { [unowned self] in Double(latencyCount) }
    )
    monitor.level("broker.dirty_bytes") { [unowned self] in
      storage.reduce(0) { $0 + $1.dirty + ($1.writingBack?.bytes ?? 0) }
    }
    monitor.level("broker.producer_buffer_bytes") { [unowned self] in bufferUsed.reduce(0, +) }
  }

  /// The fate of every batch created after the warm-up (those settled during the run, and the
  /// rest), and the rest of the metrics.
  func metrics() -> Metrics {
    countOpenBatches()
    let now = simulator.now
    let seconds = (now - warmup).seconds
    var produced = settled.produced
    var acked = 0
    var failed = settled.failed
    var inFlight = 0
    var lost = 0
    var unavailable = 0
    // Records not acknowledged or failed yet, whenever their batch was made.
    var buffered = 0
    for (i, partition) in partitions.enumerated() {
      acked += settled.acked[i]
      // Settled: held by every replica, so readable if the partition has a leader.
      if partition.leader == nil { unavailable += settled.acked[i] }
    }
    // Where each batch stands: in its partition's leader's log, on some replica, or still on its
    // way to a leader (acks=0 counts it delivered when sent: it is in flight, not lost, yet).
    var inLeaderLog = BitSet(count: batches.count)
    var onSomeReplica = BitSet(count: batches.count)
    var underWay = BitSet(count: batches.count)
    for partition in partitions {
      if let leader = partition.leader { for batch in partition.replicas[leader].log { inLeaderLog.insert(batch) } }
      for replica in partition.replicas { for batch in replica.log { onSomeReplica.insert(batch) } }
    }
    for request in requests.values { for batch in request.batches { underWay.insert(batch) } }
    for (i, batch) in batches.enumerated() where batch.created <= now && batch.state != .settled {
      let records = Int(batch.records)
      let id = Int32(i)
      let pending =
        batch.state == .inFlight || batch.state == .acked && !onSomeReplica.contains(id) && underWay.contains(id)
      if pending { buffered += records }
      guard batch.counted else { continue }
      produced += records
      switch batch.state {
      case .settled: continue
      case .inFlight: inFlight += records
      case .failed: failed += records
      case .acked:
        if pending {
          inFlight += records
          continue
        }
        acked += records
        if partitions[Int(batch.partition)].leader != nil {
          if !inLeaderLog.contains(id) { lost += records }
        } else if onSomeReplica.contains(id) {
          unavailable += records
        } else {
          lost += records
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
    m.set("broker.records_buffered_end", Double(buffered))
    m.set("broker.produce_throughput_records", Double(ackedInWindow) / seconds)
    m.set("broker.produce_throughput_mb", Double(ackedInWindow) * p.recordSize / 1e6 / seconds)
    m.set("broker.produce_latency_mean", latency.count > 0 ? latency.mean : .nan)
    m.set("broker.produce_latency_p50", latency.percentile(50))
    m.set("broker.produce_latency_p99", latency.percentile(99))
    m.set("broker.produce_latency_p999", latency.percentile(99.9))
    m.set("broker.availability", acked + failed > 0 ? Double(acked) / Double(acked + failed) : .nan)
    m.set("broker.unavailable_partition_seconds", offline.average(until: now) * seconds)
    m.set("broker.under_replicated_partitions_mean", underReplicated.average(until: now))
    m.set("broker.producers_blocked_mean", blocked.average(until: now))
    let cpu = Double(produced) / seconds / Double(p.producers) * p.producerRecordCPU.seconds
    m.set("broker.producer_cpu_utilisation", cpu)
    // Skew: the busiest partition's records against the mean (1 = even).
    let perPartition = partitions.indices.map { i in
      partitions[i].leader.map { leader in
        partitions[i].replicas[leader].log.reduce(settled.logRecords[i]) { $0 + Int(batches[Int($1)].records) }
      } ?? 0
    }
    let mean = Double(perPartition.reduce(0, +)) / Double(max(1, perPartition.count))
    m.set("broker.partition_skew", mean > 0 ? Double(perPartition.max()!) / mean : .nan)
    m.set("broker.utilisation.cpu", platform.utilisation(of: .cpu, role: "broker").mean)
    m.set("broker.utilisation.disk", platform.utilisation(of: .disk, role: "broker").mean)
    m.set("broker.utilisation.link", platform.utilisation(of: .hostLink, role: "broker").mean)
    let (code, utilisation) = bottleneck(producerCPU: cpu)
    m.set("broker.bottleneck", Double(code.rawValue))
    m.set("broker.bottleneck_utilisation", utilisation)
    if let consumers = consumerGroups {
      m.set("consumer.records_consumed", Double(consumers.consumedRecords))
      m.set("consumer.records_duplicated", Double(consumers.duplicateRecords))
      m.set("consumer.records_skipped", Double(consumers.skippedRecords))
      m.set("consumer.rebalances", Double(consumers.rebalances))
      m.set("consumer.disk_read_bytes", consumers.diskReadBytes)
      m.set("consumer.end_to_end_latency_mean", consumers.endToEnd.count > 0 ? consumers.endToEnd.mean : .nan)
      m.set("consumer.end_to_end_latency_p50", consumers.endToEnd.percentile(50))
      m.set("consumer.end_to_end_latency_p99", consumers.endToEnd.percentile(99))
      m.set("consumer.end_to_end_latency_p999", consumers.endToEnd.percentile(99.9))
      m.set("consumer.lag_mean", consumers.lag.average(until: now))
      m.set("consumer.lag_max", consumers.lag.maximum)
    }
    return m
  }

  /// What limits the producers: the class of the busiest resource if it is at least 80% used (a
  /// link shared max-min fairly by produce and replication traffic seldom gets further): any
  /// link (a producer's own link or an uplink limits as a broker's does), a broker's disk, a
  /// broker's CPU (request handling), a producer's thread;
  /// else the producers themselves (blocked on buffer.memory: requests in flight and round
  /// trips limit them), else nothing (the offered load gets through).
  enum Bottleneck: Int {
    case none = 0
    case network = 1
    case disk = 2
    case producers = 3
    case producerCPU = 4
    case brokerCPU = 5
  }

  func bottleneck(producerCPU cpu: Double) -> (Bottleneck, Double) {
    let link = [ResourceClass.hostLink, .uplink].compactMap { platform.busiest($0)?.utilisation }.max() ?? 0
    let disk = platform.utilisation(of: .disk, role: "broker").busiest
    let brokerCPU = platform.utilisation(of: .cpu, role: "broker").busiest
    let busiest = max(link, disk, brokerCPU, cpu)
    if busiest >= 0.8 {
      if link == busiest { return (.network, link) }
      if disk == busiest { return (.disk, disk) }
      return brokerCPU == busiest ? (.brokerCPU, brokerCPU) : (.producerCPU, cpu)
    }
    if blocked.average(until: simulator.now) > 0.01 { return (.producers, busiest) }
    return (.none, busiest)
  }
}
