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
/// topology: up to 1,000 hosts, 1,000 switches and 10,000 links).
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

  public var racks = 2
  public var hostsPerRack = 4
  public var cores = 8
  public var coreSpeed = 1.0
  public var memory = 64.0 * 1_073_741_824
  public var disks = 1
  public var diskRead = 200e6
  public var diskWrite = 150e6
  public var diskLatency = SimTime.milliseconds(5)
  public var diskCapacity = 4e12
  public var hostLink = 10e9 / 8
  public var hostLinkLatency = SimTime.microseconds(25)
  public var oversubscription = 1.0
  public var uplinkLatency = SimTime.microseconds(25)
  /// Full duplex: each direction of a link has the whole bandwidth; half (split) duplex: both
  /// directions share it.
  public var fullDuplex = true
  /// Hosts, switches and links given as lists (`topology: explicit`); nil for the tree.
  public var explicit: ExplicitTopology?

  public init() {}

  /// Every host name, in host order.
  public var hostNames: [String] {
    if let explicit { return explicit.hosts.map(\.name) }
    return (1...racks).flatMap { r in (1...hostsPerRack).map { "rack\(r)-host\($0)" } }
  }

  /// Every rack name, in rack order.
  public var rackNames: [String] {
    if let explicit { return explicit.racks }
    return (1...racks).map { "rack\($0)" }
  }

  /// The rack (index into ``rackNames``) of each host.
  public var rackOfHost: [Int] {
    if let explicit {
      let racks = explicit.racks
      return explicit.hosts.map { host in racks.firstIndex(of: host.rack)! }
    }
    return (0..<racks).flatMap { r in Array(repeating: r, count: hostsPerRack) }
  }

  /// The rack uplink's bandwidth (each direction).
  public var uplink: Double { Double(hostsPerRack) * hostLink / oversubscription }

  /// Reads the `platform:` section; absent keys keep their defaults.
  public static func decode(_ node: ConfigNode?) throws(ConfigError) -> PlatformSpec {
    var reader = try ConfigReader(node ?? ConfigNode(.null), path: "platform")
    var spec = PlatformSpec()
    let topology = try reader.choice(
      "topology", ["tree", "explicit"], default: "tree",
      help: "tree: racks of hosts under one core switch; explicit: hosts, switches and links as lists")
    let treeKeys = ["racks", "hosts_per_rack", "host_link", "host_link_latency", "oversubscription", "uplink_latency"]
    let listKeys = ["hosts", "switches", "links", "routes"]
    for key in topology == "tree" ? listKeys : treeKeys where reader.has(key) {
      throw reader.error(
        key, "'\(key)' does not apply to a topology: \(topology) platform",
        hint: topology == "tree"
          ? "add 'topology: explicit' to list hosts and links" : "links give bandwidths and latencies here")
    }
    if topology == "explicit" {
      spec.explicit = try ExplicitTopology.decode(&reader)
    } else {
      spec.racks = try reader.int("racks", default: spec.racks, range: 1...10_000, help: "racks")
      spec.hostsPerRack = try reader.int(
        "hosts_per_rack", default: spec.hostsPerRack, range: 1...10_000, help: "hosts in each rack")
      guard spec.racks * spec.hostsPerRack <= 100_000 else {
        throw reader.error("hosts_per_rack", "racks x hosts_per_rack must be at most 100,000 hosts")
      }
      spec.hostLink = try reader.quantity(
        "host_link", .bandwidth, default: spec.hostLink, range: bandwidthRange,
        help: "host <-> top-of-rack bandwidth, each direction")
      spec.hostLinkLatency = try reader.duration(
        "host_link_latency", default: spec.hostLinkLatency, range: latencyRange, help: "host <-> top-of-rack latency")
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

}
