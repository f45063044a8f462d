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
public struct PlatformSpec: Sendable, Equatable {
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
      spec.hostLink = try positive(
        &reader, "host_link", .bandwidth, spec.hostLink, "host <-> top-of-rack bandwidth, each direction")
      spec.hostLinkLatency = try reader.duration(
        "host_link_latency", default: spec.hostLinkLatency, help: "host <-> top-of-rack latency")
      spec.oversubscription = try reader.double(
        "oversubscription", default: spec.oversubscription, range: 1e-3...1e6,
        help: "rack hosts' bandwidth / rack uplink bandwidth (1 = non-blocking)")
      spec.uplinkLatency = try reader.duration(
        "uplink_latency", default: spec.uplinkLatency, help: "top-of-rack <-> core latency")
    }
    spec.cores = try reader.int("cores", default: spec.cores, range: 1...4096, help: "cores per host")
    spec.coreSpeed = try reader.double(
      "core_speed", default: spec.coreSpeed, range: 1e-9...1e12, help: "work units per second per core")
    spec.memory = try reader.quantity("memory", .size, default: spec.memory, help: "memory per host")
    spec.disks = try reader.int("disks", default: spec.disks, range: 0...64, help: "disks per host")
    spec.diskRead = try positive(&reader, "disk_read", .bandwidth, spec.diskRead, "read bandwidth per disk")
    spec.diskWrite = try positive(&reader, "disk_write", .bandwidth, spec.diskWrite, "write bandwidth per disk")
    spec.diskLatency = try reader.duration(
      "disk_latency", default: spec.diskLatency, help: "latency per disk operation")
    spec.diskCapacity = try positive(&reader, "disk_capacity", .size, spec.diskCapacity, "capacity per disk")
    spec.fullDuplex =
      try reader.choice(
        "duplex", ["full", "half"], default: "full",
        help: "full: each direction has the whole bandwidth; half: both directions share it") == "full"
    try reader.finish()
    return spec
  }

  private static func positive(
    _ reader: inout ConfigReader, _ key: String, _ kind: QuantityKind, _ value: Double, _ help: String
  )
    throws(ConfigError) -> Double
  {
    let read = try reader.quantity(key, kind, default: value, help: help)
    guard read > 0 else { throw reader.error(key, "\(key) must be > 0") }
    return read
  }
}
