import SimKernel
import SimModel
import SimPlatform

/// The events: who generates them, how big they are, their keys, and how late they reach the log.
public struct EventWorkload: Sendable, Equatable {
  /// Events per second (Poisson), by event time.
  public var rate = 1000.0
  /// Bytes per event on the wire and on disk.
  public var size = 1024.0
  public var keys = 1000
  /// Zipf exponent of key popularity, or nil for uniform keys.
  public var keySkew: Double?
  /// From an event's time to its arrival at the log: out-of-order arrival when it varies.
  public var arrivalDelay = Distribution.constant(0)
  /// Events that happened before the run (at the same rate, in order): the master dataset's
  /// history, and what the log holds of it within its retention.
  public var history = SimTime.zero
}

/// The log the events go through: a Kafka topic (`partitions`, replication, `retention.ms`).
public struct LogParameters: Sendable, Equatable {
  public var partitions = 8
  public var replication = 3
  /// Kafka's `retention.ms` (7 days by default).
  public var retention = SimTime.seconds(7 * 86_400)
  /// The producer sends what has arrived once per interval (a linger), one batch per partition.
  public var produceInterval = SimTime.milliseconds(100)
  /// Records younger than this are read from the brokers' page cache; older ones from disk.
  public var pageCacheAge = SimTime.seconds(60)
  /// A dead leader's partitions move to the next live replica once its session times out
  /// (KRaft's `broker.session.timeout.ms`, 9 s).
  public var leaderFailover = SimTime.seconds(9)
}

/// The stream job: Flink's model (a source chained with a map/filter, a keyed exchange, a
/// windowed count per key, a sink), with its names where it has them.
public struct StreamJobParameters: Sendable, Equatable {
  public enum Guarantee: String, Sendable, Equatable {
    case atLeastOnce = "at_least_once"
    case exactlyOnce = "exactly_once"
  }

  public var parallelism = 4
  /// CPU of one core per record: deserialising in the source, the map/filter, the window's update.
  public var sourceCost = 2e-6
  public var mapCost = 1e-6
  public var windowCost = 2e-6
  /// The filter keeps the events of this fraction of the keys (the first ones).
  public var keepKeys = 1.0
  public var windowSize = SimTime.seconds(60)
  /// Equal to the size for tumbling windows; smaller for sliding ones.
  public var windowSlide = SimTime.seconds(60)
  /// The watermark trails the largest event time seen by this much (BoundedOutOfOrderness).
  public var maxOutOfOrderness = SimTime.seconds(5)
  /// A window's state is kept this long past its end: late events within it update the result,
  /// later ones are dropped.
  public var allowedLateness = SimTime.zero
  public var guarantee = Guarantee.exactlyOnce
  /// `execution.checkpointing.interval` (nil: no checkpoints).
  public var checkpointInterval: SimTime? = .seconds(60)
  /// Bytes of state per (window, key) entry.
  public var stateEntrySize = 64.0
  /// Kafka's `max.poll.records`.
  public var maxPollRecords = 500
  /// Records a window task may have queued before its sources stop (backpressure).
  public var bufferRecords = 20_000
  /// How long until a lost TaskManager is noticed (Flink's `heartbeat.timeout`: 50 s).
  public var failureDetection = SimTime.seconds(50)
  /// The fixed-delay restart strategy's delay.
  public var restartDelay = SimTime.seconds(1)
  /// Deploying the tasks again before they restore their state.
  public var redeploy = SimTime.seconds(2)

  public var isTumbling: Bool { windowSlide == windowSize }
}

/// The serving store: views by key on a few hosts, each with a pool of request threads.
public struct ServingParameters: Sendable, Equatable {
  /// Queries per second (Poisson), each for one key drawn like the events' keys.
  public var queryRate = 100.0
  public var threads = 8
  /// One lookup's service time.
  public var queryService = Distribution.exponential(mean: 0.0005)
  /// Applying one (window, key) update.
  public var writeService = SimTime.microseconds(10)
}

/// Which hosts do what: the log's brokers, the stream job's workers, the serving store, the
/// query clients, and the HDFS DataNodes the checkpoints go to.
public struct StreamHosts: Sendable, Equatable {
  public var brokers: [Int32] = []
  public var workers: [Int32] = []
  public var store: [Int32] = []
  public var clients: [Int32] = []
  public var storage: [Int32] = []
}

/// `model: stream`: events through a log and a stream job into a serving store.
public struct StreamParameters: Sendable, Equatable {
  public var platform: PlatformSpec
  public var faults: [FaultSpec]
  public var events = EventWorkload()
  public var log = LogParameters()
  public var job = StreamJobParameters()
  public var serving = ServingParameters()
  public var hosts = StreamHosts()

  static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> StreamParameters {
    let platform = try PlatformSpec.decode(input)
    var p = StreamParameters(
      platform: platform, faults: try FaultSpec.decode(input.faults, spec: platform, baseDirectory: input.baseDirectory)
    )
    try p.decodeParts(&reader, input: input)
    return p
  }

  /// The parts every architecture shares: `events`, `log`, `job`, `serving`, `hosts`.
  package mutating func decodeParts(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) {
    var e = try reader.mapping("events", help: "the events: rate, size, keys, arrival delay, history")
    events.rate = try e.quantity("rate", .rate, default: 1000, help: "events per second (Poisson)")
    guard events.rate > 0 else { throw e.error("rate", "rate must be positive", hint: "e.g. rate: 1k/s") }
    guard events.rate <= Self.maxEventRate else {
      throw e.error(
        "rate", "\(Quantity.format(events.rate, as: .rate)) is more than the model's limit of 1M/s",
        hint: "every event is simulated one by one; e.g. rate: 10k/s")
    }
    events.size = try e.quantity("size", .size, default: 1024, help: "bytes per event")
    guard events.size > 0 else { throw e.error("size", "size must be positive") }
    guard events.size <= Self.maxRecordSize else {
      throw e.error(
        "size", "\(Quantity.format(events.size, as: .size)) is more than the model's limit of 1GiB per event",
        hint: "Kafka's message.max.bytes is a 32-bit count of bytes; e.g. size: 1KiB")
    }
    events.keys = try e.int("keys", default: 1000, range: 1...1_000_000, help: "distinct keys")
    let popularity = try e.choice("key_distribution", ["uniform", "zipf"], default: "uniform", help: "key popularity")
    let skew = try e.quantity("key_skew", .number, default: 1.0, help: "Zipf exponent (key_distribution: zipf)")
    guard skew >= 0 else { throw e.error("key_skew", "key_skew must be >= 0") }
    events.keySkew = popularity == "zipf" ? skew : nil
    events.arrivalDelay = try e.distribution(
      "arrival_delay", .duration, default: .constant(0), baseDirectory: input.baseDirectory,
      help: "event time to arrival at the log (out of order when it varies)")
    events.history = try Self.nonNegative(
      &e, "history", default: .zero, help: "events before the run, at the same rate")
    try e.finish()

    var l = try reader.mapping("log", help: "the topic: partitions, replication, retention")
    log.partitions = try l.int("partitions", default: 8, range: 1...10_000, help: "partitions of the topic")
    log.replication = try l.int(
      "replication", default: min(3, max(1, hosts.brokers.count)), range: 1...max(1, hosts.brokers.count),
      help: "replication.factor (acks=all)")
    log.retention = try l.duration("retention", default: .seconds(7 * 86_400), help: "retention.ms")
    guard log.retention > .zero else { throw l.error("retention", "retention must be positive") }
    log.produceInterval = try l.period(
      "produce_interval", default: .milliseconds(100), help: "the producer sends what has arrived this often")
    log.pageCacheAge = try Self.nonNegative(
      &l, "page_cache_age", default: .seconds(60), help: "records younger than this are read from memory")
    log.leaderFailover = try Self.nonNegative(
      &l, "leader_failover", default: .seconds(9),
      help: "broker.session.timeout.ms: a dead leader's partitions move to a live replica after this")
    try l.finish()

    var j = try reader.mapping("job", help: "the stream job: parallelism, costs, window, watermarks, checkpoints")
    job.parallelism = try j.int("parallelism", default: 4, range: 1...4096, help: "tasks per operator")
    job.sourceCost = try j.duration("source_cost", default: .microseconds(2), help: "CPU per record to read it").seconds
    job.mapCost = try j.duration("map_cost", default: .microseconds(1), help: "CPU per record in the map/filter")
      .seconds
    job.windowCost = try j.duration(
      "window_cost", default: .microseconds(2), help: "CPU per record in the keyed window"
    ).seconds
    job.keepKeys = try j.probability(
      "keep_keys", default: 1, help: "the filter keeps the events of this fraction of the keys")
    job.windowSize = try j.duration("window", default: .seconds(60), help: "window size")
    guard job.windowSize > .zero else { throw j.error("window", "window must be positive", hint: "e.g. window: 1min") }
    job.windowSlide = try j.duration("slide", default: job.windowSize, help: "slide (= window: tumbling)")
    guard job.windowSlide > .zero, job.windowSize.nanoseconds % job.windowSlide.nanoseconds == 0 else {
      throw j.error("slide", "slide must be positive and divide the window", hint: "e.g. window: 1min, slide: 10s")
    }
    try checkWindowLimits(j, key: j.has("slide") ? "slide" : "window")
    job.maxOutOfOrderness = try Self.nonNegative(
      &j, "max_out_of_orderness", default: .seconds(5), help: "the watermark trails the largest event time by this")
    job.allowedLateness = try Self.nonNegative(
      &j, "allowed_lateness", default: .zero, help: "late events within this update a window; later ones are dropped")
    job.guarantee = StreamJobParameters.Guarantee(
      rawValue: try j.choice(
        "guarantee", ["exactly_once", "at_least_once"], default: "exactly_once",
        help: "exactly_once: a transactional sink committed on checkpoints; at_least_once: results sent at once"))!
    job.checkpointInterval = try j.optionalPeriod(
      "checkpoint_interval", default: .seconds(60), zeroMeans: "no checkpoints",
      help: "execution.checkpointing.interval (0: none)")
    job.stateEntrySize = try j.quantity("state_entry_size", .size, default: 64, help: "state per (window, key)")
    guard job.stateEntrySize <= Self.maxRecordSize else {
      throw j.error(
        "state_entry_size", "\(Quantity.format(job.stateEntrySize, as: .size)) is more than the model's limit of 1GiB",
        hint: "bytes of state per (window, key); e.g. state_entry_size: 64B")
    }
    job.maxPollRecords = try j.int("max_poll_records", default: 500, range: 1...10_000_000, help: "max.poll.records")
    job.bufferRecords = try j.int(
      "buffer_records", default: 20_000, range: 1...1_000_000_000,
      help: "records queued at a window task before its sources wait (backpressure)")
    job.failureDetection = try Self.nonNegative(
      &j, "failure_detection", default: .seconds(50), help: "heartbeat.timeout: a lost worker is noticed after this")
    job.restartDelay = try Self.nonNegative(
      &j, "restart_delay", default: .seconds(1), help: "fixed-delay restart strategy")
    job.redeploy = try Self.nonNegative(&j, "redeploy", default: .seconds(2), help: "deploying the tasks again")
    try j.finish()

    var s = try reader.mapping("serving", help: "the serving store and its queries")
    serving.queryRate = try s.quantity("query_rate", .rate, default: 100, help: "queries per second (0: none)")
    guard serving.queryRate >= 0 else { throw s.error("query_rate", "query_rate must be >= 0") }
    guard serving.queryRate <= Self.maxEventRate else {
      throw s.error(
        "query_rate", "\(Quantity.format(serving.queryRate, as: .rate)) is more than the model's limit of 1M/s",
        hint: "every query is simulated one by one; e.g. query_rate: 100/s")
    }
    serving.threads = try s.int("threads", default: 8, range: 1...10_000, help: "request threads per store host")
    serving.queryService = try s.distribution(
      "query_service", .duration, default: .exponential(mean: 0.0005), baseDirectory: input.baseDirectory,
      help: "one lookup's service time")
    serving.writeService = try Self.nonNegative(
      &s, "write_service", default: .microseconds(10), help: "applying one (window, key) update")
    try s.finish()
  }

  /// `hosts: {brokers, workers, store, clients}`: host or rack names; by default the brokers on
  /// the first three hosts after `reserved`, one store host and one client host at the end, and
  /// the stream workers on the rest. Checkpoints go to the DataNodes `storage`.
  package static func decodeHosts(
    _ reader: inout ConfigReader, platform: PlatformSpec, reserved: Int, storage: [Int32]
  ) throws(ConfigError) -> StreamHosts {
    let names = platform.hostNames
    let free = Array(reserved..<names.count).map { Int32($0) }
    guard free.count >= 4 else {
      throw reader.error(
        nil, "the architecture needs at least \(reserved + 4) hosts, the platform has \(names.count)",
        hint: "brokers, stream workers, a store host and a client host: e.g. platform: {racks: 2, hosts_per_rack: 6}")
    }
    let brokerCount = min(3, free.count - 3)
    var h = try reader.mapping("hosts", help: "which hosts do what: brokers, workers, store, clients")
    func group(_ h: inout ConfigReader, _ key: String, default value: [Int32], help: String) throws(ConfigError)
      -> [Int32]
    {
      h.describe(key, kind: "host or rack names", help: help)
      guard let node = h.node(key) else { return value }
      let hosts = try FaultSpec.group(node, names: names, spec: platform, keyPath: h.keyPath(key))
      guard !hosts.isEmpty else { throw h.error(key, "\(key) names no host") }
      return hosts
    }
    var result = StreamHosts()
    result.brokers = try group(&h, "brokers", default: Array(free.prefix(brokerCount)), help: "the log's brokers")
    result.store = try group(&h, "store", default: [free[free.count - 2]], help: "the serving store's hosts")
    result.clients = try group(&h, "clients", default: [free[free.count - 1]], help: "where queries come from")
    result.workers = try group(
      &h, "workers", default: Array(free[brokerCount..<(free.count - 2)]), help: "the stream job's TaskManagers")
    try h.finish()
    result.storage = storage.isEmpty ? result.brokers : storage
    return result
  }

  /// Events per second at most: every event is generated, routed and counted one by one.
  static let maxEventRate = 1e6
  /// Bytes per event, or per (window, key) state entry, at most (1 GiB).
  static let maxRecordSize = 1_073_741_824.0
  /// Windows an event belongs to (window / slide) at most: it updates each of them.
  static let maxWindowsPerEvent = 1000
  /// (slide, key) counts per simulated second at most (keys / slide): the truth and the views
  /// keep one per key for every slide, so this bounds their growth (4 MB per simulated second).
  static let maxCountsPerSecond = 1e6
  /// (slide, key) counts of the history at most (keys x history / slide, 200 MB of counts).
  static let maxHistoryCounts = 5e7

  /// The limits the window's slide sets with the rate, the keys and the history.
  func checkWindowLimits(_ j: ConfigReader, key: String) throws(ConfigError) {
    let slide = job.windowSlide.seconds
    guard job.windowSize.nanoseconds / job.windowSlide.nanoseconds <= Self.maxWindowsPerEvent else {
      throw j.error(
        key,
        "window / slide is \(job.windowSize.nanoseconds / job.windowSlide.nanoseconds) windows per event, "
          + "more than the model's limit of \(Self.maxWindowsPerEvent)",
        hint: "every event updates each window it is in; use a longer slide")
    }
    guard events.rate * slide <= Double(Int32.max) else {
      throw j.error(
        key,
        "events.rate x slide is \(Quantity.shortest(events.rate * slide)) events per slide, "
          + "more than the 2^31 - 1 a slide's count holds",
        hint: "use a shorter slide (window) or a lower events.rate")
    }
    guard Double(events.keys) / slide <= Self.maxCountsPerSecond else {
      throw j.error(
        key,
        "events.keys / slide is \(Quantity.shortest(Double(events.keys) / slide)) counts per simulated second, "
          + "more than the model's limit of 1,000,000",
        hint: "a count is kept per key and slide; use a longer slide or fewer events.keys")
    }
    let history = Double(events.keys) * (events.history.seconds / slide).rounded(.down)
    guard history <= Self.maxHistoryCounts else {
      throw j.error(
        key,
        "events.keys x events.history / slide is \(Quantity.shortest(history)) counts of history, "
          + "more than the model's limit of 50,000,000",
        hint: "a count is kept per key and slide; use a shorter events.history, a longer slide or fewer keys")
    }
  }

  static func nonNegative(_ reader: inout ConfigReader, _ key: String, default value: SimTime, help: String)
    throws(ConfigError) -> SimTime
  {
    let t = try reader.duration(key, default: value, help: help)
    guard t >= .zero else { throw reader.error(key, "\(key) must be >= 0") }
    return t
  }
}
