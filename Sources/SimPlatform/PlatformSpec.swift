import SimKernel

/// The machines and network of a run, as the config's `platform:` section describes them.
///
///     platform:
///       racks: 4
///       hosts_per_rack: 10          # hosts are named rack1-host1 ... rack4-host10
///       cores: 8                    # per host
///       core_speed: 1               # work units per second per core (a computation of 2 units
///                                   # takes 2 s on one core)
///       memory: 64GiB
///       disks: 1                    # per host: rackR-hostH/disk0, /disk1, ...
///       disk_read: 200MB/s
///       disk_write: 150MB/s
///       disk_latency: 5ms           # per operation
///       disk_capacity: 4TB
///       host_link: 10Gbps           # host <-> top-of-rack switch, full duplex
///       host_link_latency: 25us
///       oversubscription: 4         # rack uplink = hosts_per_rack x host_link / oversubscription
///       uplink_latency: 25us        # top-of-rack <-> core
///       duplex: full                # or half: both directions of a link share its bandwidth
///
/// Every value has a range, checked where it is read (docs/models/platform.md gives the reasons):
/// bandwidths 1 B/s to 1 PB/s, latencies 0 to 1 h, memory and disk capacity 1 MiB to 2^60 B,
/// 1 to 64 disks and 1 to 4,096 cores per host, core speed 1e-9 to 1e12, oversubscription 0.001
/// to 1e6, up to 10,000 racks of up to 10,000 hosts and 100,000 hosts in all (an explicit
/// topology: up to 1,000 hosts, 1,000 switches and 10,000 links; a cluster or a fat-tree:
/// 100,000 hosts).
///
/// `topology:` picks the network: `tree` (this one, the default), `explicit` (lists:
/// ``ExplicitTopology``), `cluster` (SimGrid's cluster with a backbone, in cabinets:
/// ``ClusterTopology``) or `fat_tree` (``FatTreeTopology``); the last two compute their routes.
public struct PlatformSpec: Sendable, Equatable {
  /// Bandwidths of links and disks, in bytes per second: from 1 B/s (8 bps), so that a rack's
  /// uplink (hosts x link / oversubscription) is never rounded to zero, to the largest bandwidth
  /// of any quantity (1 PB/s).
  public static let bandwidthRange = 1.0...Quantity.maximumBandwidth
  /// Latencies of links and disks: at most an hour, so that sums along any route stay far below
  /// the clock's 292 years.
  public static let latencyRange = SimTime.zero...SimTime.seconds(3600)
  /// Memory and disk capacity per host or disk: from 1 MiB to the largest size (2^60 B).
  public static let capacityRange = 1_048_576.0...Quantity.maximumSize

  /// The tree's racks; the other topologies set it to their count of racks (an explicit
  /// topology's rack labels, a cluster's cabinets, a fat-tree's edge switches), and
  /// `hostsPerRack` to a cabinet's or an edge switch's hosts.
  public var racks = 2
  /// Hosts in each rack (`hosts_per_rack`).
  public var hostsPerRack = 4
  /// Cores per host (`cores`).
  public var cores = 8
  /// Work units per second of one core (`core_speed`): a computation of `w` units alone on a core
  /// takes `w / coreSpeed` seconds.
  public var coreSpeed = 1.0
  /// Memory per host in bytes (`memory`; 64 GiB). The platform does not model memory; models size
  /// their caches and buffers by it.
  public var memory = 64.0 * 1_073_741_824
  /// Disks per host (`disks`), each with its own read and write sides.
  public var disks = 1
  /// Read bandwidth of each disk, in bytes per second (`disk_read`; 200 MB/s).
  public var diskRead = 200e6
  /// Write bandwidth of each disk, in bytes per second (`disk_write`; 150 MB/s).
  public var diskWrite = 150e6
  /// Latency added to each disk operation (`disk_latency`; 5 ms).
  public var diskLatency = SimTime.milliseconds(5)
  /// Capacity of each disk in bytes (`disk_capacity`; 4 TB). Read and range-checked, but the
  /// platform does not track what a disk holds, so nothing is refused when it is full.
  public var diskCapacity = 4e12
  /// Bandwidth of each host's link, each direction, in bytes per second (`host_link`; 10 Gbps).
  public var hostLink = 10e9 / 8
  /// Latency of a host's link (`host_link_latency`).
  public var hostLinkLatency = SimTime.microseconds(25)
  /// Hosts' link bandwidth over the rack uplink's (`oversubscription`): see ``uplink``.
  public var oversubscription = 1.0
  /// Latency of a rack's uplink, top-of-rack to core (`uplink_latency`).
  public var uplinkLatency = SimTime.microseconds(25)
  /// Full duplex: each direction of a link has the whole bandwidth; half (split) duplex: both
  /// directions share it.
  public var fullDuplex = true
  /// Hosts, switches and links given as lists (`topology: explicit`); nil for the tree.
  public var explicit: ExplicitTopology?
  /// A SimGrid-style cluster (`topology: cluster`); nil for the other topologies.
  public var cluster: ClusterTopology?
  /// A k-ary fat-tree (`topology: fat_tree`); nil for the other topologies.
  public var fatTree: FatTreeTopology?
  /// The prices of hosts, disk and traffic (the config's top-level `cost:` section, read with
  /// ``CostSpec/decode(_:spec:)`` once the hosts are known); nil: no cost metrics.
  public var cost: CostSpec?

  /// The default platform: 2 racks of 4 hosts with the defaults above (the values of an empty
  /// `platform:` section).
  public init() {}

  /// Every host name, in host order.
  public var hostNames: [String] {
    if let explicit { return explicit.hosts.map(\.name) }
    if let cluster { return cluster.hostNames }
    if let fatTree { return fatTree.hostNames }
    return (1...racks).flatMap { r in (1...hostsPerRack).map { "rack\(r)-host\($0)" } }
  }

  /// Every rack name, in rack order.
  public var rackNames: [String] {
    if let explicit { return explicit.racks }
    if let cluster { return (1...cluster.cabinets).map { "cabinet\($0)" } }
    if let fatTree { return fatTree.edgeNames }
    return (1...racks).map { "rack\($0)" }
  }

  /// The rack (index into ``rackNames``) of each host.
  public var rackOfHost: [Int] {
    if let explicit { return explicit.rackAssignment().ofHost }
    if let cluster { return (0..<cluster.cabinets).flatMap { Array(repeating: $0, count: cluster.hostsPerCabinet) } }
    if let fatTree { return (0..<fatTree.hostCount).map { $0 / (fatTree.k / 2) } }
    return (0..<racks).flatMap { r in Array(repeating: r, count: hostsPerRack) }
  }

  /// The rack uplink's bandwidth (each direction).
  public var uplink: Double { Double(hostsPerRack) * hostLink / oversubscription }

  /// Reads the `platform:` section; absent keys keep their defaults.
  public static func decode(_ node: ConfigNode?) throws(ConfigError) -> PlatformSpec {
    var reader = try ConfigReader(node ?? ConfigNode(.null), path: "platform")
    var spec = PlatformSpec()
    let topology = try reader.choice(
      "topology", ["tree", "explicit", "cluster", "fat_tree"], default: "tree",
      help: "tree: racks of hosts under one core switch; explicit: hosts, switches and links as lists;"
        + " cluster: hosts on a shared backbone (SimGrid's <cluster>), in cabinets; fat_tree: a k-ary fat-tree")
    let keys: [String: [String]] = [
      "tree": ["racks", "hosts_per_rack", "host_link", "host_link_latency", "oversubscription", "uplink_latency"],
      "explicit": ["hosts", "switches", "links", "routes"],
      "cluster": [
        "cabinets", "hosts_per_cabinet", "host_link", "host_link_latency", "backbone", "backbone_latency",
        "backbone_sharing", "top_backbone", "top_backbone_latency", "top_backbone_sharing",
      ],
      "fat_tree": ["k", "host_link", "host_link_latency", "switch_link", "switch_link_latency"],
    ]
    let hints = [
      "tree": "racks and hosts_per_rack give its hosts", "explicit": "links give bandwidths and latencies here",
      "cluster": "a cluster has cabinets, hosts_per_cabinet, host_link and backbone keys",
      "fat_tree": "a fat-tree has k, host_link and switch_link keys",
    ]
    let own = Set(keys[topology]!)
    for other in ["tree", "explicit", "cluster", "fat_tree"] where other != topology {
      for key in keys[other]! where !own.contains(key) && reader.has(key) {
        throw reader.error(
          key, "'\(key)' does not apply to a topology: \(topology) platform",
          hint: "add 'topology: \(other)' to use it; \(hints[topology]!)")
      }
    }
    switch topology {
    case "explicit":
      spec.explicit = try ExplicitTopology.decode(&reader)
      spec.racks = spec.rackNames.count
    case "cluster":
      try spec.decodeHostLink(
        &reader, help: ("host <-> backbone bandwidth, each direction (SimGrid's bw)", "host <-> backbone latency (lat)")
      )
      spec.cluster = try ClusterTopology.decode(&reader, hostLink: spec.hostLink)
      spec.racks = spec.cluster!.cabinets
      spec.hostsPerRack = spec.cluster!.hostsPerCabinet
    case "fat_tree":
      try spec.decodeHostLink(
        &reader, help: ("host <-> edge switch bandwidth, each direction", "host <-> edge switch latency"))
      spec.fatTree = try FatTreeTopology.decode(&reader, hostLink: spec.hostLink)
      spec.racks = spec.fatTree!.k * spec.fatTree!.k / 2
      spec.hostsPerRack = spec.fatTree!.k / 2
    default:
      spec.racks = try reader.int("racks", default: spec.racks, range: 1...10_000, help: "racks")
      spec.hostsPerRack = try reader.int(
        "hosts_per_rack", default: spec.hostsPerRack, range: 1...10_000, help: "hosts in each rack")
      guard spec.racks * spec.hostsPerRack <= 100_000 else {
        throw reader.error("hosts_per_rack", "racks x hosts_per_rack must be at most 100,000 hosts")
      }
      try spec.decodeHostLink(
        &reader, help: ("host <-> top-of-rack bandwidth, each direction", "host <-> top-of-rack latency"))
      spec.oversubscription = try reader.double(
        "oversubscription", default: spec.oversubscription, range: 1e-3...1e6,
        help: "rack hosts' bandwidth / rack uplink bandwidth (1 = non-blocking)")
      spec.uplinkLatency = try reader.duration(
        "uplink_latency", default: spec.uplinkLatency, range: latencyRange, help: "top-of-rack <-> core latency")
    }
    spec.cores = try reader.int("cores", default: spec.cores, range: 1...4096, help: "cores per host")
    spec.coreSpeed = try reader.double(
      "core_speed", default: spec.coreSpeed, range: 1e-9...1e12, help: "work units per second per core")
    spec.memory = try reader.quantity(
      "memory", .size, default: spec.memory, range: capacityRange, help: "memory per host")
    spec.disks = try reader.int("disks", default: spec.disks, range: 1...64, help: "disks per host")
    spec.diskRead = try reader.quantity(
      "disk_read", .bandwidth, default: spec.diskRead, range: bandwidthRange, help: "read bandwidth per disk")
    spec.diskWrite = try reader.quantity(
      "disk_write", .bandwidth, default: spec.diskWrite, range: bandwidthRange, help: "write bandwidth per disk")
    spec.diskLatency = try reader.duration(
      "disk_latency", default: spec.diskLatency, range: latencyRange, help: "latency per disk operation")
    spec.diskCapacity = try reader.quantity(
      "disk_capacity", .size, default: spec.diskCapacity, range: capacityRange, help: "capacity per disk")
    spec.fullDuplex =
      try reader.choice(
        "duplex", ["full", "half"], default: "full",
        help: "full: each direction has the whole bandwidth; half: both directions share it") == "full"
    try reader.finish()
    return spec
  }

  /// `host_link` and `host_link_latency`: a host's own link (to its top-of-rack switch, its
  /// cluster's backbone or its fat-tree edge switch).
  mutating func decodeHostLink(_ reader: inout ConfigReader, help: (String, String)) throws(ConfigError) {
    hostLink = try reader.quantity(
      "host_link", .bandwidth, default: hostLink, range: PlatformSpec.bandwidthRange, help: help.0)
    hostLinkLatency = try reader.duration(
      "host_link_latency", default: hostLinkLatency, range: PlatformSpec.latencyRange, help: help.1)
  }

}
