import SimKernel
import SimPlatform

/// A Kafka-style cluster and its producers, with Kafka's own parameter names (dots become
/// underscores in YAML keys: `min.insync.replicas` is `min_insync_replicas`) and defaults.
public struct BrokerParameters: Sendable, Equatable {
  public enum Acks: String, Sendable, Equatable {
    case none = "0"
    case leader = "1"
    case all = "all"
  }

  public var platform: PlatformSpec
  public var faults: [FaultSpec]
  /// Brokers run on the first `brokers` hosts; producers on the hosts after them (round robin).
  public var brokers = 3
  public var partitions = 6
  public var replicationFactor = 3
  public var minInsyncReplicas = 2
  public var uncleanLeaderElection = false
  public var replicaLagTimeMax = SimTime.seconds(30)
  public var replicaFetchWaitMax = SimTime.milliseconds(500)
  public var replicaFetchMaxBytes = 1_048_576.0
  /// How long the controller takes to notice a dead broker (its session timeout).
  public var sessionTimeout = SimTime.seconds(18)

  public var producers = 2
  /// Records per second of each producer (Poisson).
  public var recordRate = 10_000.0
  public var recordSize = 1024.0
  public var acks = Acks.all
  public var batchSize = 16_384.0
  public var linger = SimTime.milliseconds(5)
  public var retryBackoff = SimTime.milliseconds(100)
  public var deliveryTimeout = SimTime.seconds(120)
  public var requestTimeout = SimTime.seconds(30)

  /// Consumer groups (each reads every record) and members per group (they share partitions).
  public var consumerGroups = 0
  public var consumersPerGroup = 2
  public var fetchMaxWait = SimTime.milliseconds(500)
  public var maxPartitionFetchBytes = 1_048_576.0
  public var autoCommitInterval = SimTime.seconds(5)
  public var consumerSessionTimeout = SimTime.seconds(45)

  /// Records that fit in one batch (at least one).
  public var recordsPerBatch: Int { max(1, Int(batchSize / recordSize)) }

  static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> BrokerParameters {
    let platform = try PlatformSpec.decode(input.platform)
    var p = BrokerParameters(
      platform: platform, faults: try FaultSpec.decode(input.faults, spec: platform, baseDirectory: input.baseDirectory)
    )
    let hosts = platform.hostNames.count
    p.brokers = try reader.int(
      "brokers", default: min(3, hosts), range: 1...max(1, hosts), help: "brokers, on the first hosts")
    p.partitions = try reader.int("partitions", default: 6, range: 1...100_000, help: "partitions of the topic")
    p.replicationFactor = try reader.int(
      "replication_factor", default: min(3, p.brokers), range: 1...p.brokers,
      help: "replicas per partition (<= brokers)")
    p.minInsyncReplicas = try reader.int(
      "min_insync_replicas", default: min(2, p.replicationFactor), range: 1...p.replicationFactor,
      help: "min.insync.replicas: fewest in-sync replicas an acks=all write needs")
    p.uncleanLeaderElection = try reader.bool(
      "unclean_leader_election_enable", default: false,
      help: "unclean.leader.election.enable: elect an out-of-sync replica")
    p.replicaLagTimeMax = try reader.duration(
      "replica_lag_time_max", default: .seconds(30),
      help: "replica.lag.time.max.ms: a follower this far behind leaves the ISR")
    p.replicaFetchWaitMax = try reader.duration(
      "replica_fetch_wait_max", default: .milliseconds(500),
      help: "replica.fetch.wait.max.ms: a caught-up follower's long poll")
    p.replicaFetchMaxBytes = try reader.quantity(
      "replica_fetch_max_bytes", .size, default: 1_048_576, help: "replica.fetch.max.bytes per partition fetch")
    p.sessionTimeout = try reader.duration(
      "session_timeout", default: .seconds(18), help: "how long the controller takes to declare a broker dead")
    p.producers = try reader.int("producers", default: 2, range: 1...100_000, help: "producer clients")
    p.recordRate = try reader.quantity(
      "record_rate", .rate, default: 10_000, help: "records per second per producer (Poisson)")
    guard p.recordRate > 0 else { throw reader.error("record_rate", "record_rate must be > 0") }
    p.recordSize = try reader.quantity("record_size", .size, default: 1024, help: "bytes per record")
    guard p.recordSize >= 1 else { throw reader.error("record_size", "record_size must be at least 1B") }
    p.acks = Acks(rawValue: try reader.choice("acks", ["0", "1", "all"], default: "all", help: "acks"))!
    p.batchSize = try reader.quantity("batch_size", .size, default: 16_384, help: "batch.size")
    p.linger = try reader.duration("linger", default: .milliseconds(5), help: "linger.ms")
    p.retryBackoff = try reader.duration("retry_backoff", default: .milliseconds(100), help: "retry.backoff.ms")
    p.deliveryTimeout = try reader.duration("delivery_timeout", default: .seconds(120), help: "delivery.timeout.ms")
    p.requestTimeout = try reader.duration("request_timeout", default: .seconds(30), help: "request.timeout.ms")
    p.consumerGroups = try reader.int(
      "consumer_groups", default: 0, range: 0...1000, help: "consumer groups (0: none); each reads every record")
    p.consumersPerGroup = try reader.int(
      "consumers_per_group", default: 2, range: 1...100_000, help: "members of a group, sharing its partitions")
    p.fetchMaxWait = try reader.duration("fetch_max_wait", default: .milliseconds(500), help: "fetch.max.wait.ms")
    p.maxPartitionFetchBytes = try reader.quantity(
      "max_partition_fetch_bytes", .size, default: 1_048_576, help: "max.partition.fetch.bytes")
    p.autoCommitInterval = try reader.duration(
      "auto_commit_interval", default: .seconds(5), help: "auto.commit.interval.ms")
    guard p.autoCommitInterval > .zero else { throw reader.error("auto_commit_interval", "must be positive") }
    p.consumerSessionTimeout = try reader.duration(
      "consumer_session_timeout", default: .seconds(45), help: "session.timeout.ms of the consumers")
    guard p.deliveryTimeout >= p.linger + p.requestTimeout else {
      throw reader.error(
        "delivery_timeout", "delivery_timeout must be at least linger + request_timeout, as Kafka requires")
    }
    guard hosts > p.brokers else {
      throw reader.error(
        "brokers", "producers need hosts of their own: the platform has \(hosts) hosts for \(p.brokers) brokers")
    }
    return p
  }
}
