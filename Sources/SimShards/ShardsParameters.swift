import SimKernel
import SimModel
import SimPlatform

/// A sharded key-value store: shards on the first hosts of the platform, clients on the others,
/// a router mapping keys to shards, and the shard map's changes (shards added or removed, ranges
/// split) carried out as throttled bulk transfers.
public struct ShardsParameters: Sendable, Equatable {
  public enum Popularity: String, Sendable, Equatable { case uniform, zipf, hotset }

  public var platform: PlatformSpec
  public var faults: [FaultSpec]
  public var partitioning = Partitioning.hash
  /// Shards at the start, on hosts 0 ..< shards; each added shard takes the next host.
  public var shards = 4
  public var addShard: [SimTime] = []
  public var removeShard: [SimTime] = []
  public var threads = 30
  public var service = Distribution.exponential(mean: 0.001)
  public var keys = 100_000
  public var valueSize = Distribution.constant(4096)
  public var popularity = Popularity.uniform
  public var keySkew = 0.99
  public var hotFraction = 0.2
  public var hotShare = 0.8
  public var shiftInterval: SimTime?
  public var shiftKeys = 0
  public var rate = 10_000.0
  public var readFraction = 0.95
  public var vnodes = 16
  public var replication = 1
  public var splitSize = 10.0 * 1024 * 1024 * 1024
  /// Requests per second of one range above which it splits (nil: no load splits).
  public var splitLoad: Double?
  public var splitCheckInterval = SimTime.seconds(10)
  /// Bytes per second one shard streams out when rebalancing (nil: unthrottled).
  public var streamThroughput: Double? = 24 * 1024 * 1024

  /// Shard slots: the initial shards and one per `add_shard`, each on a host of its own.
  public var slots: Int { shards + addShard.count }
  /// Client hosts: every host after the shards'.
  public var clientHosts: [Int32] { (Int32(slots)..<Int32(platform.hostNames.count)).map { $0 } }

  /// Ranges at most (range partitioning): each split adds one.
  public static let maxRanges = 4096
  /// A value's size at most (each draw of `value_size` is clamped to it).
  public static let maxValueSize = 1024.0 * 1024 * 1024
  public static let maxKeys = 1_000_000
  public static let maxRate = 1e6

  public init(platform: PlatformSpec, faults: [FaultSpec] = []) {
    self.platform = platform
    self.faults = faults
  }

  static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> ShardsParameters {
    let platform = try PlatformSpec.decode(input)
    var p = ShardsParameters(
      platform: platform, faults: try FaultSpec.decode(input.faults, spec: platform, baseDirectory: input.baseDirectory)
    )
    let hosts = platform.hostNames.count
    p.partitioning = Partitioning(
      rawValue: try reader.choice(
        "partitioning", Partitioning.allCases.map(\.rawValue), default: "hash",
        help: "hash: stable hash mod N; consistent: a token ring with vnodes per shard (Cassandra);"
          + " range: contiguous key ranges split at split_size or split_load (HBase regions, MongoDB chunks)"))!
    p.shards = try reader.int(
      "shards", default: max(1, min(4, hosts - 1)), range: 1...max(1, hosts - 1),
      help: "shards at the start, one per host from the first (clients need a host of their own)")
    p.addShard = try times(&reader, "add_shard", help: "times at which a shard is added on the next host, ascending")
    p.removeShard = try times(
      &reader, "remove_shard", help: "times at which the newest shard is removed (its keys move away), ascending")
    guard p.slots <= hosts - 1 else {
      throw reader.error(
        p.addShard.isEmpty ? "shards" : "add_shard",
        "\(p.shards) shards and \(p.addShard.count) added need \(p.slots) hosts and the clients one more;"
          + " the platform has \(hosts)",
        hint: "add hosts to the platform (hosts_per_rack, racks) or use fewer shards")
    }
    p.replication = try reader.int(
      "replication", default: 1, range: 1...p.shards,
      help: "copies of each key: its shard and the next ones (a request goes to the first one up)")
    // Shards in the map never drop below the replication factor.
    var events = p.addShard.map { ($0, 1) } + p.removeShard.map { ($0, -1) }
    events.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 > $1.1) }
    var count = p.shards
    for (time, change) in events {
      count += change
      guard count >= p.replication else {
        throw reader.error(
          "remove_shard",
          "removing a shard at \(time.formatted) leaves \(count), fewer than replication \(p.replication)",
          hint: "remove fewer shards, or add one before")
      }
    }
    p.threads = try reader.int(
      "threads", default: 30, range: 1...10_000,
      help: "request handler threads per shard (HBase hbase.regionserver.handler.count, 30)")
    p.service = try reader.distribution(
      "service", .duration, default: .exponential(mean: 0.001), baseDirectory: input.baseDirectory,
      help: "a request's service time at its shard")
    p.keys = try reader.int("keys", default: 100_000, range: 1...maxKeys, help: "distinct keys, ordered 0 ..< keys")
    guard p.keys >= p.shards else {
      throw reader.error("keys", "\(p.keys) keys cannot be spread over \(p.shards) shards", hint: "keys >= shards")
    }
    p.valueSize = try reader.distribution(
      "value_size", .size, default: .constant(4096), baseDirectory: input.baseDirectory,
      help: "each key's value size, drawn once per key (clamped to 0...1GiB)")
    p.popularity = Popularity(
      rawValue: try reader.choice(
        "key_distribution", ["uniform", "zipf", "hotset"], default: "uniform",
        help: "key popularity by rank; rank r is key r (+ the shift): the popular keys are adjacent"))!
    p.keySkew = try reader.double(
      "key_skew", default: 0.99, range: 0...100, help: "zipf: the exponent (YCSB's zipfian constant is 0.99)")
    p.hotFraction = try reader.double(
      "hot_fraction", default: 0.2, range: 0...1, help: "hotset: share of keys that are hot (YCSB hotspotdatafraction)")
    p.hotShare = try reader.double(
      "hot_share", default: 0.8, range: 0...1,
      help: "hotset: share of requests to the hot keys (YCSB hotspotopnfraction)")
    p.shiftInterval = try reader.optionalPeriod(
      "shift_interval", default: .zero, zeroMeans: "no shift",
      help: "every this long the popularity ranking rotates by shift_keys keys (0: never)")
    p.shiftKeys = try reader.int(
      "shift_keys", default: max(1, p.keys / 10), range: 0...p.keys, help: "keys the ranking moves at each shift")
    p.rate = try reader.quantity(
      "rate", .rate, default: 10_000, range: 1e-6...maxRate, help: "requests per second of all clients (Poisson)")
    p.readFraction = try reader.probability("read_fraction", default: 0.95, help: "share of reads (YCSB workload B)")
    p.vnodes = try reader.int(
      "vnodes", default: 16, range: 1...4096, help: "consistent: tokens per shard (Cassandra num_tokens, 16 in 4.x)")
    p.splitSize = try reader.quantity(
      "split_size", .size, default: 10 * 1024 * 1024 * 1024, range: 1...Quantity.maximumSize,
      help: "range: a range holding more bytes splits (HBase hbase.hregion.max.filesize, 10GiB)")
    let load = try reader.quantity(
      "split_load", .rate, default: 0, help: "range: a range serving more requests/s splits (0: no load splits)")
    p.splitLoad = load > 0 ? load : nil
    p.splitCheckInterval = try reader.duration(
      "split_check_interval", default: .seconds(10), range: .milliseconds(100)...SimTime.max,
      help: "range: how often ranges are checked for splitting (and load measured)")
    let throttle = try reader.quantity(
      "stream_throughput", .bandwidth, default: 24 * 1024 * 1024,
      help: "rebalancing: bytes/s a shard streams out (Cassandra stream_throughput_outbound, 24MiB/s; 0: unthrottled)")
    p.streamThroughput = throttle > 0 ? throttle : nil
    return p
  }

  /// A list of times, ascending.
  static func times(_ reader: inout ConfigReader, _ key: String, help: String) throws(ConfigError) -> [SimTime] {
    let items = try reader.list(key, help: help)
    guard items.count <= 64 else {
      throw reader.error(key, "\(items.count) times are more than the limit of 64", hint: "each is a rebalance")
    }
    var result: [SimTime] = []
    for (i, node) in items.enumerated() {
      guard let text = node.scalarText, let t = try? SimTime(parsing: text) else {
        throw ConfigError(
          location: node.location, keyPath: reader.keyPath("\(key).\(i)"), message: "expected a time such as 30s",
          hint: "\(key): [30s, 60s]")
      }
      if let last = result.last, t < last {
        throw ConfigError(
          location: node.location, keyPath: reader.keyPath("\(key).\(i)"),
          message: "\(t.formatted) is before \(last.formatted): the times must be ascending", hint: "\(key): [30s, 60s]"
        )
      }
      result.append(t)
    }
    return result
  }
}
