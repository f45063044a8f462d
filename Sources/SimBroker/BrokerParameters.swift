import SimKernel
import SimModel
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
  /// Where the coordination service (ZooKeeper, or the KRaft controller quorum) is reached: nil,
  /// with the largest group of brokers that reach each other (KRaft on the brokers), or on one
  /// host (a ZooKeeper ensemble off the brokers): a broker that cannot reach it is declared dead.
  public var coordinationHost: Int32?
  /// How long the controller takes to notice a dead broker (its session timeout).
  public var sessionTimeout = SimTime.seconds(18)

  /// Broker storage: the page cache takes appends at once and the disk gets them when the kernel
  /// writes dirty pages back (every `flushInterval`, or sooner above `dirtyBackground`; appends
  /// stall above `dirtyMax`, as Linux's dirty_writeback_centisecs, dirty_background_ratio and
  /// dirty_ratio do). Reads of data older than the last `pageCache` bytes a broker appended go to disk.
  public var flushInterval = SimTime.seconds(5)
  public var dirtyBackground = 0.1 * 64 * 1_073_741_824
  public var dirtyMax = 0.2 * 64 * 1_073_741_824
  public var pageCache = 58.0 * 1_073_741_824
  /// retention.ms and retention.bytes (per partition; nil: none), checked every
  /// log.retention.check.interval.ms.
  public var retention: SimTime? = .seconds(7 * 24 * 3600)
  public var retentionBytes: Double?
  public var retentionCheckInterval = SimTime.seconds(300)
  /// Whether a host crash takes the log tail still in the page cache with it (a power loss); by
  /// default a crash keeps the log (a broker process dying on a live machine).
  public var crashLosesPageCache = false

  public var producers = 2
  /// Records per second of each producer (Poisson).
  public var recordRate = 10_000.0
  public var recordSize = 1024.0
  /// Bytes each record adds on the wire and on disk besides its value: Kafka's v2 record
  /// framing (length, attributes, timestamp and offset deltas, header count: about 10 bytes of
  /// varints) plus the key. A batch adds a 61-byte header.
  public var recordOverhead = 10.0
  public static let batchHeader = 61.0
  /// CPU time the producer's application thread spends per record (serialising, partitioning,
  /// appending to the accumulator): a producer sends at most 1 / this records a second.
  public var producerRecordCPU = SimTime.nanoseconds(500)
  public var acks = Acks.all
  public var batchSize = 16_384.0
  public var linger = SimTime.milliseconds(5)
  public var retryBackoff = SimTime.milliseconds(100)
  public var deliveryTimeout = SimTime.seconds(120)
  public var requestTimeout = SimTime.seconds(30)
  public var maxInFlight = 5
  public var maxRequestSize = 1_048_576.0
  public var bufferMemory = 33_554_432.0
  public var maxBlock = SimTime.seconds(60)
  /// Record keys: none (the sticky partitioner), uniform over `keyCount` keys, or Zipf with
  /// exponent `keySkew`; a key's partition is a hash of it, as the default partitioner's murmur2.
  public enum Keys: String, Sendable, Equatable { case none, uniform, zipf }
  public var keys = Keys.none
  public var keyCount = 1000
  public var keySkew = 1.0
  public var replicaFetchResponseMaxBytes = 10_485_760.0
  /// replica.fetch.min.bytes: a leader parks a follower's fetch until this much is there (or
  /// `replica.fetch.wait.max.ms` passes); num.replica.fetchers: fetcher threads per source broker.
  public var replicaFetchMinBytes = 1.0
  public var replicaFetchers = 1
  /// Partitions of records without keys: Kafka's sticky partitioner (since 2.4: a batch at a
  /// time) or round robin (a record at a time, the default before 2.4, and RoundRobinPartitioner).
  public var roundRobin = false

  /// Request handling on the brokers (Kafka's SocketServer and request handler pool): a
  /// connection's requests are read one at a time (the channel is muted until the response is
  /// sent) by one of `num.network.threads` processors, queued (at most `queued.max.requests`,
  /// then the processors block) for `num.io.threads` handler threads. CPU on the broker's cores:
  /// `requestCPU` per request on a handler thread, plus produce bytes at `appendRate` (checking
  /// the batch's CRC and copying it into the page cache; a follower appending fetched data pays
  /// the same), and request bytes at `networkRate` on a processor (socket to buffer). Fetch
  /// responses go out by sendfile (no CPU per byte). 0 makes a cost free.
  public var networkThreads = 3
  public var queuedMaxRequests = 500
  public var ioThreads = 8
  public var requestCPU = SimTime.microseconds(100)
  public var appendRate = 1e9
  public var networkRate = 5e9
  /// log.dirs: how many of the host's disks hold logs (partitions spread round robin over them).
  public var logDirs = 1

  /// Consumer groups (each reads every record) and members per group (they share partitions).
  public var consumerGroups = 0
  public var consumersPerGroup = 2
  public var fetchMaxWait = SimTime.milliseconds(500)
  public var maxPartitionFetchBytes = 1_048_576.0
  public var autoCommitInterval = SimTime.seconds(5)
  public var consumerSessionTimeout = SimTime.seconds(45)
  /// Where a consumer whose position retention deleted starts again: the end (Kafka's default,
  /// skipping what it had not read) or the oldest record kept.
  public var autoOffsetResetEarliest = false

  /// Records that fit in one batch (at least one).
  public var recordsPerBatch: Int {
    max(1, Int((batchSize - Self.batchHeader) / (recordSize + recordOverhead)))
  }

  /// A batch's size on the wire and on disk.
  public func wireBytes(records: Int) -> Double {
    Self.batchHeader + Double(records) * (recordSize + recordOverhead)
  }

  /// The records a second a producer offers: its rate, unless its thread cannot keep up.
  public var producerRate: Double {
    producerRecordCPU > .zero ? min(recordRate, 1 / producerRecordCPU.seconds) : recordRate
  }

  static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> BrokerParameters {
    let platform = try PlatformSpec.decode(input)
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
    // A host name or majority; the hint names the nearest and the range, not every host.
    let coordination = try reader.string(
      "coordination", default: "majority",
      help: "where brokers reach ZooKeeper/KRaft: majority (the largest connected group of brokers) or a host")
    if coordination != "majority" {
      guard let host = platform.hostNames.firstIndex(of: coordination) else {
        var hint = "majority, or a host: \(platform.hostNames.first ?? "")...\(platform.hostNames.last ?? "")"
        if let near = closestMatch(to: coordination, among: ["majority"] + platform.hostNames) {
          hint = "did you mean '\(near)'? " + hint
        }
        throw reader.error("coordination", "'\(coordination)' is neither majority nor a host", hint: hint)
      }
      p.coordinationHost = Int32(host)
    }
    p.sessionTimeout = try reader.duration(
      "session_timeout", default: .seconds(18), help: "how long the controller takes to declare a broker dead")
    let memory = platform.memory
    p.flushInterval = try reader.period(
      "flush_interval", default: .seconds(5), help: "how often dirty pages go to disk (dirty_writeback_centisecs)")
    p.dirtyBackground = try reader.quantity(
      "dirty_background", .size, default: 0.1 * memory,
      help: "dirty bytes that start a write-back at once (dirty_background_ratio 10% of memory)")
    p.dirtyMax = try reader.quantity(
      "dirty_max", .size, default: 0.2 * memory, help: "dirty bytes at which appends stall (dirty_ratio 20%)")
    guard p.dirtyMax >= p.dirtyBackground else {
      throw reader.error("dirty_max", "dirty_max must be at least dirty_background")
    }
    p.pageCache = try reader.quantity(
      "page_cache", .size, default: max(0, memory - 6 * 1_073_741_824),
      help: "bytes of recent log a broker serves from memory (host memory minus a 6 GiB heap)")
    let retention = try reader.duration(
      "retention", default: .seconds(7 * 24 * 3600), help: "retention.ms (0: keep everything)")
    p.retention = retention > .zero ? retention : nil
    let retentionBytes = try reader.quantity(
      "retention_bytes", .size, default: 0, help: "retention.bytes per partition (0: no limit)")
    p.retentionBytes = retentionBytes > 0 ? retentionBytes : nil
    p.retentionCheckInterval = try reader.period(
      "retention_check_interval", default: .seconds(300), help: "log.retention.check.interval.ms")
    p.crashLosesPageCache = try reader.bool(
      "crash_loses_page_cache", default: false,
      help: "a host crash loses what was not yet written back (a power loss)")
    p.producers = try reader.int("producers", default: 2, range: 1...100_000, help: "producer clients")
    guard p.producers * p.partitions <= 10_000_000 else {
      throw reader.error("producers", "producers x partitions must be at most 10,000,000 (each pair has a queue)")
    }
    p.recordRate = try reader.quantity(
      "record_rate", .rate, default: 10_000, help: "records per second per producer (Poisson)")
    guard p.recordRate > 0 else { throw reader.error("record_rate", "record_rate must be > 0") }
    p.recordSize = try reader.quantity("record_size", .size, default: 1024, help: "bytes per record")
    guard p.recordSize >= 1 else { throw reader.error("record_size", "record_size must be at least 1B") }
    p.recordOverhead = try reader.quantity(
      "record_overhead", .size, default: 10,
      help: "framing bytes per record besides the value (v2 varints ~10B, plus the key's bytes)")
    p.producerRecordCPU = try reader.duration(
      "producer_record_cpu", default: .nanoseconds(500),
      help: "CPU time per record in the producer's thread (0: unlimited)")
    p.acks = Acks(rawValue: try reader.choice("acks", ["0", "1", "all"], default: "all", help: "acks"))!
    p.batchSize = try reader.quantity("batch_size", .size, default: 16_384, help: "batch.size")
    p.linger = try reader.duration("linger", default: .milliseconds(5), help: "linger.ms")
    p.retryBackoff = try reader.duration("retry_backoff", default: .milliseconds(100), help: "retry.backoff.ms")
    p.deliveryTimeout = try reader.duration("delivery_timeout", default: .seconds(120), help: "delivery.timeout.ms")
    p.requestTimeout = try reader.duration("request_timeout", default: .seconds(30), help: "request.timeout.ms")
    p.maxInFlight = try reader.int(
      "max_in_flight_requests_per_connection", default: 5, range: 1...1000,
      help: "max.in.flight.requests.per.connection")
    p.maxRequestSize = try reader.quantity("max_request_size", .size, default: 1_048_576, help: "max.request.size")
    p.bufferMemory = try reader.quantity("buffer_memory", .size, default: 33_554_432, help: "buffer.memory")
    guard p.bufferMemory >= p.batchSize, p.maxRequestSize >= p.batchSize else {
      throw reader.error("buffer_memory", "buffer_memory and max_request_size must hold at least one batch_size")
    }
    p.maxBlock = try reader.duration("max_block", default: .seconds(60), help: "max.block.ms")
    p.keys = Keys(
      rawValue: try reader.choice(
        "keys", ["none", "uniform", "zipf"], default: "none",
        help: "record keys: none (sticky partitioner), uniform or zipf"))!
    p.keyCount = try reader.int("key_count", default: 1000, range: 1...10_000_000, help: "distinct keys")
    p.keySkew = try reader.quantity("key_skew", .number, default: 1.0, help: "Zipf exponent of the key popularity")
    guard p.keySkew >= 0 else { throw reader.error("key_skew", "key_skew must be >= 0") }
    p.replicaFetchResponseMaxBytes = try reader.quantity(
      "replica_fetch_response_max_bytes", .size, default: 10_485_760, help: "replica.fetch.response.max.bytes")
    p.consumerGroups = try reader.int(
      "consumer_groups", default: 0, range: 0...1000, help: "consumer groups (0: none); each reads every record")
    p.consumersPerGroup = try reader.int(
      "consumers_per_group", default: 2, range: 1...100_000, help: "members of a group, sharing its partitions")
    p.fetchMaxWait = try reader.duration("fetch_max_wait", default: .milliseconds(500), help: "fetch.max.wait.ms")
    p.maxPartitionFetchBytes = try reader.quantity(
      "max_partition_fetch_bytes", .size, default: 1_048_576, help: "max.partition.fetch.bytes")
    p.autoCommitInterval = try reader.period(
      "auto_commit_interval", default: .seconds(5), help: "auto.commit.interval.ms")
    p.consumerSessionTimeout = try reader.duration(
      "consumer_session_timeout", default: .seconds(45), help: "session.timeout.ms of the consumers")
    p.autoOffsetResetEarliest =
      try reader.choice(
        "auto_offset_reset", ["latest", "earliest"], default: "latest",
        help: "auto.offset.reset: where a consumer past the log start begins") == "earliest"
    p.replicaFetchMinBytes = try reader.quantity(
      "replica_fetch_min_bytes", .size, default: 1, range: 1...1_073_741_824,
      help: "replica.fetch.min.bytes: bytes a follower's fetch waits for (up to replica_fetch_wait_max)")
    p.replicaFetchers = try reader.int(
      "num_replica_fetchers", default: 1, range: 1...64, help: "num.replica.fetchers: fetcher threads per source broker"
    )
    p.roundRobin =
      try reader.choice(
        "partitioner", ["sticky", "round_robin"], default: "sticky",
        help: "records without keys: sticky (a batch at a time, Kafka >= 2.4) or round_robin (a record at a time)")
      == "round_robin"
    if p.roundRobin, p.keys != .none {
      throw reader.error("partitioner", "partitioner: round_robin is for records without keys", hint: "keys: none")
    }
    p.networkThreads = try reader.int(
      "num_network_threads", default: 3, range: 1...1024, help: "num.network.threads: processors reading requests")
    p.queuedMaxRequests = try reader.int(
      "queued_max_requests", default: 500, range: 1...1_000_000,
      help: "queued.max.requests: requests waiting for a handler before the processors block")
    p.ioThreads = try reader.int(
      "num_io_threads", default: 8, range: 1...1024, help: "num.io.threads: request handler threads")
    p.requestCPU = try reader.duration(
      "request_cpu", default: p.requestCPU, range: .zero...SimTime.seconds(1),
      help: "CPU time a handler thread spends per request (0: free)")
    p.appendRate = try reader.quantity(
      "append_rate", .bandwidth, default: 1e9, range: 0...1e15,
      help: "bytes per second one core checks and appends to the log (0: free)")
    p.networkRate = try reader.quantity(
      "network_thread_rate", .bandwidth, default: 5e9, range: 0...1e15,
      help: "bytes per second a network thread reads from a socket (0: free)")
    p.logDirs = try reader.int(
      "log_dirs", default: 1, range: 1...platform.disks,
      help: "log.dirs: disks per broker holding logs (at most the platform's disks: \(platform.disks))")
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
