import SimKernel

/// A SimGrid-style cluster (`topology: cluster`): each host has its own link (`host_link`,
/// `host_link_latency`, full or half duplex as `duplex` says) to its cabinet's backbone; with
/// several cabinets each cabinet's backbone joins a top backbone.
///
///     platform:
///       topology: cluster
///       cabinets: 1                  # hosts are named cabinet1-host1 ... cabinetC-hostH
///       hosts_per_cabinet: 400
///       host_link: 1.25GB/s          # SimGrid's bw and lat
///       host_link_latency: 0
///       backbone: 25GB/s             # bb_bw and bb_lat: one per cabinet
///       backbone_latency: 0
///       backbone_sharing: shared     # bb_sharing_policy: shared or fatpipe
///       top_backbone: 100GB/s        # with cabinets > 1: joins the cabinets' backbones
///       top_backbone_latency: 0
///       top_backbone_sharing: shared
///
/// A route inside a cabinet is the sender's host link up, the cabinet's backbone and the
/// receiver's host link down (SimGrid's cluster with a backbone); across cabinets it also crosses
/// the sender's cabinet backbone, the top backbone and the receiver's cabinet backbone, in that
/// order. A `shared` backbone is one resource that every flow through it shares max-min, whatever
/// its direction (SimGrid's SHARED); a `fatpipe` one caps each flow at its bandwidth and is not
/// shared (SimGrid's FATPIPE: a backbone that the application cannot saturate). A cabinet is a
/// rack (for HDFS placement and rack faults).
public struct ClusterTopology: Sendable, Equatable {
  /// How flows share a backbone (`backbone_sharing`, `top_backbone_sharing`).
  public enum Sharing: String, Sendable, Equatable {
    /// One resource that every flow through it shares max-min, whatever its direction (SimGrid's SHARED).
    case shared
    /// No shared resource: each flow is capped at the backbone's bandwidth (SimGrid's FATPIPE).
    case fatpipe
  }

  /// Cabinets (`cabinets`), each a rack with its own backbone.
  public var cabinets = 1
  /// Hosts in each cabinet (`hosts_per_cabinet`).
  public var hostsPerCabinet = 4
  /// Each cabinet's backbone bandwidth in bytes per second (`backbone`; read with a default of
  /// hosts per cabinet x host link).
  public var backbone = 5e9
  /// Each cabinet's backbone latency (`backbone_latency`).
  public var backboneLatency = SimTime.microseconds(25)
  /// How flows share a cabinet's backbone (`backbone_sharing`).
  public var backboneSharing = Sharing.shared
  /// The bandwidth of the backbone joining the cabinets, in bytes per second (`top_backbone`; read
  /// with a default of cabinets x backbone; unused with one cabinet).
  public var topBackbone = 10e9
  /// The top backbone's latency (`top_backbone_latency`).
  public var topBackboneLatency = SimTime.microseconds(25)
  /// How flows share the top backbone (`top_backbone_sharing`).
  public var topBackboneSharing = Sharing.shared

  /// The defaults of an empty `topology: cluster` section, before the config's values are read.
  public init() {}

  /// The number of hosts: cabinets x hosts per cabinet.
  public var hostCount: Int { cabinets * hostsPerCabinet }

  /// `cabinet{c}-host{h}`, both from 1, cabinet by cabinet.
  public var hostNames: [String] {
    (1...cabinets).flatMap { c in (1...hostsPerCabinet).map { "cabinet\(c)-host\($0)" } }
  }

  static func decode(_ reader: inout ConfigReader, hostLink: Double) throws(ConfigError) -> ClusterTopology {
    var cluster = ClusterTopology()
    cluster.cabinets = try reader.int(
      "cabinets", default: 1, range: 1...10_000, help: "cabinets, each with its own backbone")
    cluster.hostsPerCabinet = try reader.int(
      "hosts_per_cabinet", default: cluster.hostsPerCabinet, range: 1...100_000, help: "hosts in each cabinet")
    guard cluster.hostCount <= 100_000 else {
      throw reader.error(
        "hosts_per_cabinet",
        "cabinets x hosts_per_cabinet is \(cluster.hostCount) hosts, more than the 100,000 a platform may have",
        hint: "use fewer cabinets or fewer hosts per cabinet")
    }
    let maximum = Quantity.maximumBandwidth
    cluster.backbone = try reader.quantity(
      "backbone", .bandwidth, default: min(maximum, Double(cluster.hostsPerCabinet) * hostLink),
      range: PlatformSpec.bandwidthRange,
      help: "each cabinet's backbone bandwidth (SimGrid's bb_bw; default: hosts_per_cabinet x host_link)")
    cluster.backboneLatency = try reader.duration(
      "backbone_latency", default: cluster.backboneLatency, range: PlatformSpec.latencyRange,
      help: "each cabinet's backbone latency (bb_lat)")
    cluster.backboneSharing = try sharing(&reader, "backbone_sharing")
    let topKeys = ["top_backbone", "top_backbone_latency", "top_backbone_sharing"]
    if cluster.cabinets == 1 {
      for key in topKeys where reader.has(key) {
        throw reader.error(
          key, "'\(key)' applies only to a cluster of several cabinets (here cabinets: 1)",
          hint: "remove it, or set cabinets: 2 or more")
      }
    } else {
      cluster.topBackbone = try reader.quantity(
        "top_backbone", .bandwidth, default: min(maximum, Double(cluster.cabinets) * cluster.backbone),
        range: PlatformSpec.bandwidthRange, help: "the backbone joining the cabinets (default: cabinets x backbone)")
      cluster.topBackboneLatency = try reader.duration(
        "top_backbone_latency", default: cluster.topBackboneLatency, range: PlatformSpec.latencyRange,
        help: "the top backbone's latency")
      cluster.topBackboneSharing = try sharing(&reader, "top_backbone_sharing")
    }
    return cluster
  }

  static func sharing(_ reader: inout ConfigReader, _ key: String) throws(ConfigError) -> Sharing {
    Sharing(
      rawValue: try reader.choice(
        key, ["shared", "fatpipe"], default: "shared",
        help: "shared: one resource all its flows share (SimGrid's SHARED); fatpipe: each flow capped at its"
          + " bandwidth, no sharing (FATPIPE)"))!
  }
}

/// A k-ary fat-tree (`topology: fat_tree`, Al-Fares et al. 2008): k pods (k even), each of k/2
/// edge and k/2 aggregation switches joined all to all; (k/2)^2 core switches, core j of group a
/// joined to aggregation switch a of every pod; k/2 hosts on each edge switch, k^3/4 in all.
///
///     platform:
///       topology: fat_tree
///       k: 4                         # hosts are named pod1-edge1-host1 ... pod4-edge2-host2
///       host_link: 10Gbps            # host <-> edge switch
///       host_link_latency: 25us
///       switch_link: 10Gbps          # every switch <-> switch link (default: host_link)
///       switch_link_latency: 25us
///
/// Routing is deterministic, by destination (D-mod-k): traffic to host d (numbered from 0 in
/// name order) goes up through aggregation switch d mod k/2 of its pod and, between pods, core
/// (d / (k/2)) mod k/2 of that aggregation switch's group, then down the only path to d. An edge
/// switch is a rack (for HDFS placement and rack faults).
public struct FatTreeTopology: Sendable, Equatable {
  /// The fat-tree's arity `k` (even, 2 ... ``maximumK``): k pods of k/2 edge and k/2 aggregation
  /// switches, (k/2)^2 cores, k^3/4 hosts.
  public var k = 4
  /// Bandwidth of every switch-to-switch link, each direction, in bytes per second (`switch_link`;
  /// read with the host link as its default).
  public var switchLink = 10e9 / 8
  /// Latency of every switch-to-switch link (`switch_link_latency`).
  public var switchLinkLatency = SimTime.microseconds(25)

  /// The defaults of an empty `topology: fat_tree` section, before the config's values are read.
  public init() {}

  /// The largest k: k^3/4 hosts stay within the 100,000 a platform may have (72: 93,312 hosts).
  public static let maximumK = 72

  var half: Int { k / 2 }
  /// The number of hosts: k^3/4.
  public var hostCount: Int { k * k * k / 4 }

  /// `pod{p}-edge{e}`, both from 1, pod by pod.
  public var edgeNames: [String] { (1...k).flatMap { p in (1...half).map { "pod\(p)-edge\($0)" } } }

  /// `pod{p}-edge{e}-host{h}`, all from 1, edge switch by edge switch.
  public var hostNames: [String] { edgeNames.flatMap { edge in (1...half).map { "\(edge)-host\($0)" } } }

  static func decode(_ reader: inout ConfigReader, hostLink: Double) throws(ConfigError) -> FatTreeTopology {
    var tree = FatTreeTopology()
    tree.k = try reader.int(
      "k", default: tree.k, range: 2...maximumK, help: "switch ports: k pods, k^3/4 hosts (k even)")
    guard tree.k % 2 == 0 else {
      throw reader.error(
        "k", "k must be even (each switch has k/2 ports down and k/2 up), not \(tree.k)",
        hint: "e.g. k: \(tree.k - 1) (\((tree.k - 1) * (tree.k - 1) * (tree.k - 1) / 4) hosts) or k: \(tree.k + 1)"
          + " (\((tree.k + 1) * (tree.k + 1) * (tree.k + 1) / 4) hosts)")
    }
    tree.switchLink = try reader.quantity(
      "switch_link", .bandwidth, default: hostLink, range: PlatformSpec.bandwidthRange,
      help: "every switch <-> switch link's bandwidth, each direction (default: host_link)")
    tree.switchLinkLatency = try reader.duration(
      "switch_link_latency", default: tree.switchLinkLatency, range: PlatformSpec.latencyRange,
      help: "every switch <-> switch link's latency")
    return tree
  }
}
