import Foundation
import SimKernel
import SimModel
import SimPlatform

/// A replicated key-value store (Dynamo / Cassandra / Riak in `ap` mode, a Raft group per key
/// range in `cp` mode), its clients and the message delays between them.
public struct QuorumParameters: Sendable, Equatable {
  public enum Mode: String, Sendable, Equatable { case ap, cp }

  /// A group of clients on some hosts, with its own rate and read/write mix.
  public struct ClientGroup: Sendable, Equatable {
    public var name: String
    public var hosts: [Int32]
    /// Requests per second of the whole group (Poisson), spread over its hosts.
    public var rate: Double
    public var readFraction: Double
  }

  /// The four legs of a request between coordinator and replica (the WARS model of
  /// Probabilistically Bounded Staleness): nil takes the platform network's latency.
  public struct Legs: Sendable, Equatable {
    public var write: Distribution?
    public var ack: Distribution?
    public var read: Distribution?
    public var response: Distribution?
  }

  public var platform: PlatformSpec
  public var faults: [FaultSpec]
  public var mode = Mode.ap
  /// Store nodes on the first `nodes` hosts.
  public var nodes = 5
  public var replication = 3
  public var readQuorum = 2
  public var writeQuorum = 2
  public var vnodes = 16
  public var keys = 1000
  public var keySkew: Double?  // nil: uniform; else Zipf exponent
  public var clients: [ClientGroup] = []
  public var requestTimeout = SimTime.seconds(1)
  public var legs = Legs()
  /// Reads go to all N replicas (and take the first R answers) or to R of them.
  public var readAll = true
  // AP mode.
  public var sloppyQuorum = true
  public var hintedHandoff = true
  public var handoffInterval = SimTime.seconds(1)
  public var readRepair = true
  public var antiEntropyInterval: SimTime? = .seconds(10)
  /// Test switch: writes go to W replicas only, with no repair, hints or anti-entropy.
  public var propagate = true
  // CP mode (Raft).
  public var ranges = 16
  public var electionTimeout = SimTime.milliseconds(150)
  public var heartbeatInterval = SimTime.milliseconds(50)
  // Metrics.
  public var visibilityTimes: [SimTime] = [
    .zero, .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100),
  ]
  /// Share of AP writes probed for PBS t-visibility (0: none).
  public var probeFraction = 1.0
  /// P(consistent) levels whose t-visibility is reported, in (0, 1).
  public var pbsTargets = [0.99, 0.999, 0.9999]

  /// `visibility_t` entries at most: each is a counter every probe and client read updates.
  static let maxVisibilityTimes = 100
  /// Digits of a PBS target at most (0.999999): the metric's name is spelled from them.
  static let maxTargetDigits = 6

  /// The metric name's suffix for a target: its digits after "0." (0.999 -> 999).
  public static func targetName(_ target: Double) -> String {
    var digits = Quantity.shortest(target)
    if digits.hasPrefix("0.") { digits.removeFirst(2) }
    return digits
  }

  static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> QuorumParameters {
    let platform = try PlatformSpec.decode(input)
    var p = QuorumParameters(
      platform: platform, faults: try FaultSpec.decode(input.faults, spec: platform, baseDirectory: input.baseDirectory)
    )
    let hosts = platform.hostNames
    p.mode = Mode(
      rawValue: try reader.choice(
        "mode", ["ap", "cp"], default: "ap",
        help: "ap: sloppy quorums, hinted handoff, read repair (Dynamo); cp: a Raft leader per key range"))!
    p.nodes = try reader.int(
      "nodes", default: min(5, max(1, hosts.count - 1)), range: 1...max(1, hosts.count - 1),
      help: "store nodes, on the first hosts (clients need a host of their own)")
    p.replication = try reader.int(
      "replication", default: min(3, p.nodes), range: 1...p.nodes, help: "N: replicas per key (<= nodes)")
    p.readQuorum = try consistency(&reader, "read_consistency", n: p.replication, help: "R: replies a read waits for")
    p.writeQuorum = try consistency(&reader, "write_consistency", n: p.replication, help: "W: acks a write waits for")
    p.vnodes = try reader.int("vnodes", default: 16, range: 1...1024, help: "tokens per node on the hash ring")
    p.keys = try reader.int("keys", default: 1000, range: 1...10_000_000, help: "distinct keys")
    let popularity = try reader.choice(
      "key_distribution", ["uniform", "zipf"], default: "uniform", help: "key popularity")
    let skew = try reader.quantity("key_skew", .number, default: 1.0, help: "Zipf exponent (key_distribution: zipf)")
    guard skew >= 0 else { throw reader.error("key_skew", "key_skew must be >= 0") }
    p.keySkew = popularity == "zipf" ? skew : nil
    p.requestTimeout = try reader.duration(
      "request_timeout", default: .seconds(1), help: "a request not answered within this fails")
    guard p.requestTimeout > .zero else { throw reader.error("request_timeout", "request_timeout must be positive") }
    p.readAll =
      try reader.choice(
        "read_fanout", ["all", "quorum"], default: "all",
        help: "all: ask every replica, take the first R answers; quorum: ask R random replicas") == "all"
    var legs = try reader.mapping(
      "legs", help: "per-leg delay distributions (write, ack, read, response) in place of the network's latency")
    p.legs.write = try optionalDistribution(&legs, "write", baseDirectory: input.baseDirectory)
    p.legs.ack = try optionalDistribution(&legs, "ack", baseDirectory: input.baseDirectory)
    p.legs.read = try optionalDistribution(&legs, "read", baseDirectory: input.baseDirectory)
    p.legs.response = try optionalDistribution(&legs, "response", baseDirectory: input.baseDirectory)
    try legs.finish()
    p.sloppyQuorum = try reader.bool(
      "sloppy_quorum", default: true, help: "ap: unreachable replicas are stood in for by the next nodes (with hints)")
    p.hintedHandoff = try reader.bool("hinted_handoff", default: true, help: "ap: stand-ins hand their writes over")
    p.handoffInterval = try reader.period(
      "handoff_interval", default: .seconds(1), help: "ap: how often a node retries handing its hints over")
    p.readRepair = try reader.bool(
      "read_repair", default: true, help: "ap: a read writes the newest version back to replicas that answered older")
    p.antiEntropyInterval = try reader.optionalPeriod(
      "anti_entropy_interval", default: .seconds(10), zeroMeans: "no anti-entropy",
      help: "ap: each node syncs with a peer this often (0: never)")
    p.propagate = try reader.bool(
      "propagate", default: true,
      help: "test switch: false sends each write to W replicas only, with no repair, hints or anti-entropy")
    p.ranges = try reader.int("ranges", default: 16, range: 1...100_000, help: "cp: key ranges, one Raft group each")
    p.electionTimeout = try reader.duration(
      "election_timeout", default: .milliseconds(150),
      help: "cp: a follower without a heartbeat for a random 1-2x this starts an election")
    p.heartbeatInterval = try reader.period(
      "heartbeat_interval", default: .milliseconds(50), help: "cp: the leader's heartbeat period")
    guard p.heartbeatInterval < p.electionTimeout else {
      throw reader.error("heartbeat_interval", "heartbeat_interval must be below election_timeout")
    }
    let times = try reader.list(
      "visibility_t", help: "times after a commit at which to report P(consistent), ascending (at most 100)")
    guard times.count <= maxVisibilityTimes else {
      throw reader.error(
        "visibility_t", "\(times.count) times are more than the limit of \(maxVisibilityTimes)",
        hint: "every probe and client read updates a counter per time; the t-visibility targets need no grid")
    }
    if !times.isEmpty {
      p.visibilityTimes = []
      for (i, node) in times.enumerated() {
        guard let text = node.scalarText, let t = try? SimTime(parsing: text) else {
          throw ConfigError(
            location: node.location, keyPath: reader.keyPath("visibility_t.\(i)"),
            message: "expected a duration such as 5ms", hint: "visibility_t: [0, 1ms, 10ms, 100ms]")
        }
        if let last = p.visibilityTimes.last, t <= last {
          throw ConfigError(
            location: node.location, keyPath: reader.keyPath("visibility_t.\(i)"),
            message: "\(t.formatted) is not after \(last.formatted): the times must be ascending",
            hint: "list each time once, smallest first, e.g. [0, 1ms, 10ms, 100ms]")
        }
        p.visibilityTimes.append(t)
      }
    }
    let fraction = try reader.double(
      "probe_fraction", default: 1, help: "ap: share of writes probed for PBS t-visibility, 0...1 (0: none)")
    guard (0...1).contains(fraction) else {
      throw reader.error(
        "probe_fraction", "\(Quantity.shortest(fraction)) is out of range: expected 0...1",
        hint: "a share of the writes, e.g. 1 (every write) or 0.1")
    }
    p.probeFraction = fraction
    let targets = try reader.list(
      "pbs_targets",
      help: "P(consistent) levels in (0, 1) whose t-visibility is reported (default [0.99, 0.999, 0.9999])")
    if !targets.isEmpty {
      p.pbsTargets = []
      for (i, node) in targets.enumerated() {
        let keyPath = reader.keyPath("pbs_targets.\(i)")
        guard let text = node.scalarText, let target = Double(text), target.isFinite else {
          throw ConfigError(
            location: node.location, keyPath: keyPath, message: "expected a probability such as 0.999",
            hint: "pbs_targets: [0.99, 0.999, 0.9999]")
        }
        guard target > 0, target < 1 else {
          throw ConfigError(
            location: node.location, keyPath: keyPath,
            message: "\(Quantity.shortest(target)) is out of range: expected a probability strictly between 0 and 1",
            hint: target > 1 && target < 100
              ? "write \(String(format: "%g", target / 100)) for \(Quantity.shortest(target))%" : "e.g. 0.999")
        }
        guard targetName(target).count <= maxTargetDigits else {
          throw ConfigError(
            location: node.location, keyPath: keyPath,
            message: "\(Quantity.shortest(target)) has more than \(maxTargetDigits) decimal digits",
            hint: "the metric is named by the digits (0.999: quorum.pbs_t_visibility_999); e.g. 0.99999")
        }
        guard !p.pbsTargets.contains(target) else {
          throw ConfigError(
            location: node.location, keyPath: keyPath, message: "\(Quantity.shortest(target)) is listed twice",
            hint: "list each target once")
        }
        p.pbsTargets.append(target)
      }
    }
    p.clients = try decodeClients(&reader, platform: platform, nodes: p.nodes)
    return p
  }

  /// ONE, QUORUM, ALL or a number from 1 to N.
  static func consistency(_ reader: inout ConfigReader, _ key: String, n: Int, help: String) throws(ConfigError)
    -> Int
  {
    let text = try reader.string(key, default: "quorum", help: help + " (one, quorum, all or a number <= N)")
    switch text.lowercased() {
    case "one": return 1
    case "quorum": return n / 2 + 1
    case "all": return n
    default:
      guard let k = Int(text), (1...n).contains(k) else {
        throw reader.error(key, "'\(text)' is not a consistency level", hint: "use one, quorum, all or 1...\(n)")
      }
      return k
    }
  }

  static func optionalDistribution(_ reader: inout ConfigReader, _ key: String, baseDirectory: String?)
    throws(ConfigError) -> Distribution?
  {
    guard reader.has(key) else {
      reader.describe(key, kind: "distribution of duration", help: "delay of this leg (default: the network's)")
      return nil
    }
    return try reader.distribution(key, .duration, baseDirectory: baseDirectory)
  }

  /// Requests per second of a client group at most: each is simulated with its messages.
  static let maxClientRate = 1e6

  /// `clients:` a list of groups `{name, hosts: [names or racks], rate, read_fraction}`; by
  /// default one group on every host that is not a store node, 1,000 requests/s, 90% reads.
  static func decodeClients(_ reader: inout ConfigReader, platform: PlatformSpec, nodes: Int) throws(ConfigError)
    -> [ClientGroup]
  {
    let names = platform.hostNames
    let items = try reader.list("clients", help: "client groups: {name, hosts, rate, read_fraction}")
    if items.isEmpty {
      return [
        ClientGroup(name: "clients", hosts: (nodes..<names.count).map { Int32($0) }, rate: 1000, readFraction: 0.9)
      ]
    }
    var groups: [ClientGroup] = []
    for (i, node) in items.enumerated() {
      var item = try ConfigReader(node, path: reader.keyPath("clients.\(i)"))
      let name = try item.string("name", default: "group\(i)", help: "the group's name in metrics")
      guard !groups.contains(where: { $0.name == name }) else {
        throw item.error("name", "two client groups are named '\(name)'")
      }
      guard let hostsNode = item.node("hosts") else {
        throw item.error(nil, "a client group needs 'hosts'", hint: "e.g. hosts: [rack2-host1] or hosts: [rack2]")
      }
      let hosts = try FaultSpec.group(hostsNode, names: names, spec: platform, keyPath: item.keyPath("hosts"))
      let rate = try item.quantity("rate", .rate, default: 1000, help: "requests per second of the group")
      guard rate > 0 else { throw item.error("rate", "rate must be > 0") }
      guard rate <= maxClientRate else {
        throw item.error(
          "rate", "\(Quantity.format(rate, as: .rate)) is more than the model's limit of 1M/s per client group",
          hint: "every request is simulated with its messages one by one; e.g. rate: 1k/s")
      }
      let readFraction = try item.quantity("read_fraction", .number, default: 0.9, help: "share of reads")
      guard (0...1).contains(readFraction) else { throw item.error("read_fraction", "read_fraction must be in 0...1") }
      try item.finish()
      groups.append(ClientGroup(name: name, hosts: hosts, rate: rate, readFraction: readFraction))
    }
    return groups
  }
}
