import SimKernel

/// A host of the platform, by index.
public struct HostID: Hashable, Comparable, Sendable {
  public var index: Int32
  public init(_ index: Int32) { self.index = index }
  public static func < (a: HostID, b: HostID) -> Bool { a.index < b.index }
}

/// Hears of hosts going down and up, of disks failing and of partitions forming and healing.
public protocol PlatformObserver: AnyObject {
  func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator)
  func diskFailed(_ host: HostID, disk: Int, in simulator: Simulator)
  func reachabilityChanged(in simulator: Simulator)
}

extension PlatformObserver {
  public func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator) {}
  public func diskFailed(_ host: HostID, disk: Int, in simulator: Simulator) {}
  public func reachabilityChanged(in simulator: Simulator) {}
}

/// Hosts in racks on a two-level tree (host <-> top-of-rack <-> core), built on a ``FluidModel``.
///
/// Host `h` (from 1) of rack `r` (from 1) is named `rack{r}-host{h}`; its disks are
/// `rack{r}-host{h}/disk{d}` (from 0); the uplink of rack `r` is `rack{r}-uplink`. Every link is
/// full duplex: one resource per direction. Routes are fixed by the tree: a transfer inside a
/// rack uses the sender's host link up and the receiver's down; across racks it also uses the
/// sender rack's uplink up and the receiver rack's down (with `duplex: half`, the two directions
/// of a link are one resource). A host's cores are one resource of
/// capacity cores x speed, and one computation uses at most one core.
public final class Platform {
  public struct Host {
    public let name: String
    public let rack: Int
    public var up = true
    let cpu: ResourceID
    let linkUp: ResourceID
    let linkDown: ResourceID
    /// Every link direction that touches the host (both directions of each of its links).
    var links: [ResourceID] = []
    var diskRead: [ResourceID] = []
    var diskWrite: [ResourceID] = []
    var diskFailed: [Bool] = []
  }

  public let spec: PlatformSpec
  public let fluid: FluidModel
  unowned let simulator: Simulator
  public internal(set) var hosts: [Host] = []
  var rackUp: [ResourceID] = []
  var rackDown: [ResourceID] = []
  /// Explicit topologies: each link's resources (from its first end to its second, and back).
  var linkResources: [(forward: ResourceID, backward: ResourceID)] = []
  var explicitAdjacency: [[(link: Int, neighbour: Int)]] = []
  var routeCache: [Int64: (resources: [ResourceID], latency: SimTime)] = [:]
  let rackOfHost: [Int]
  var observers: [PlatformObserver] = []
  /// Active partitions: each separates two groups of hosts.
  var partitions: [(id: Int, a: Set<Int32>, b: Set<Int32>)] = []
  var nextPartition = 0
  var downCauses: [Int] = []
  var linkDownCauses: [Int32: Int] = [:]
  var downHosts = 0
  var failedDisks = 0
  /// Degraded disks in force, by id: each slows one disk's read and/or write side.
  var degradations: [(id: Int, host: Int32, disk: Int, read: Double?, write: Double?)] = []
  var nextDegradation = 0
  var linksDown = 0
  var activePartitions = 0
  /// Statistics.
  var hostDown: [TimeWeightedAverage] = []
  var partitioned = TimeWeightedAverage()
  public internal(set) var faultLog = TimeSeries()
  /// Hosts grouped by what runs on them (``assignRole(_:hosts:)``), in the order named.
  public internal(set) var roles: [(name: String, hosts: [HostID])] = []

  public init(spec: PlatformSpec, simulator: Simulator) {
    self.spec = spec
    self.simulator = simulator
    fluid = FluidModel(simulator: simulator)
    rackOfHost = spec.rackOfHost
    if let explicit = spec.explicit {
      buildExplicit(explicit)
      return
    }
    for r in 1...spec.racks {
      let up = fluid.addResource(
        name: "rack\(r)-uplink" + (spec.fullDuplex ? "-up" : ""), capacity: spec.uplink, kind: .uplink)
      rackUp.append(up)
      rackDown.append(
        spec.fullDuplex ? fluid.addResource(name: "rack\(r)-uplink-down", capacity: spec.uplink, kind: .uplink) : up)
      for h in 1...spec.hostsPerRack {
        let name = "rack\(r)-host\(h)"
        let cpu = fluid.addResource(name: name + "/cpu", capacity: Double(spec.cores) * spec.coreSpeed, kind: .cpu)
        let linkUp = fluid.addResource(
          name: name + (spec.fullDuplex ? "/link-up" : "/link"), capacity: spec.hostLink, kind: .hostLink)
        let linkDown =
          spec.fullDuplex
          ? fluid.addResource(name: name + "/link-down", capacity: spec.hostLink, kind: .hostLink) : linkUp
        var host = Host(name: name, rack: r - 1, cpu: cpu, linkUp: linkUp, linkDown: linkDown)
        host.links = linkUp == linkDown ? [linkUp] : [linkUp, linkDown]
        for d in 0..<spec.disks {
          host.diskRead.append(fluid.addResource(name: "\(name)/disk\(d)-read", capacity: spec.diskRead, kind: .disk))
          host.diskWrite.append(
            fluid.addResource(name: "\(name)/disk\(d)-write", capacity: spec.diskWrite, kind: .disk))
          host.diskFailed.append(false)
        }
        hosts.append(host)
        hostDown.append(TimeWeightedAverage())
        downCauses.append(0)
      }
    }
  }

  func addDisks(_ host: inout Host) {
    for d in 0..<spec.disks {
      host.diskRead.append(fluid.addResource(name: "\(host.name)/disk\(d)-read", capacity: spec.diskRead, kind: .disk))
      host.diskWrite.append(
        fluid.addResource(name: "\(host.name)/disk\(d)-write", capacity: spec.diskWrite, kind: .disk))
      host.diskFailed.append(false)
    }
  }

  /// Hosts and links from lists: a link touching a host counts as a host link, the others as
  /// uplinks (for utilisation by class).
  func buildExplicit(_ topology: ExplicitTopology) {
    let hostNames = topology.hosts.map(\.name)
    var cpus: [ResourceID] = []
    for host in topology.hosts {
      cpus.append(
        fluid.addResource(name: host.name + "/cpu", capacity: Double(spec.cores) * spec.coreSpeed, kind: .cpu))
    }
    var incident = [[ResourceID]](repeating: [], count: topology.hosts.count)
    for link in topology.links {
      let kind: ResourceClass = hostNames.contains(link.ends.0) || hostNames.contains(link.ends.1) ? .hostLink : .uplink
      let forward = fluid.addResource(
        name: spec.fullDuplex ? "\(link.name)/\(link.ends.0)->\(link.ends.1)" : link.name, capacity: link.bandwidth,
        kind: kind)
      let backward =
        spec.fullDuplex
        ? fluid.addResource(name: "\(link.name)/\(link.ends.1)->\(link.ends.0)", capacity: link.bandwidth, kind: kind)
        : forward
      linkResources.append((forward, backward))
      for end in [link.ends.0, link.ends.1] {
        if let h = hostNames.firstIndex(of: end) {
          incident[h].append(forward)
          if backward != forward { incident[h].append(backward) }
        }
      }
    }
    explicitAdjacency = topology.adjacency()
    for (i, entry) in topology.hosts.enumerated() {
      let first = incident[i].first ?? cpus[i]
      var host = Host(name: entry.name, rack: rackOfHost[i], cpu: cpus[i], linkUp: first, linkDown: first)
      host.links = incident[i]
      addDisks(&host)
      hosts.append(host)
      hostDown.append(TimeWeightedAverage())
      downCauses.append(0)
    }
  }

  /// The path of an explicit topology, as resources in the direction of travel, and its latency.
  func explicitRoute(from source: Int, to destination: Int) -> (resources: [ResourceID], latency: SimTime) {
    let key = Int64(source) * Int64(hosts.count) + Int64(destination)
    if let cached = routeCache[key] { return cached }
    let topology = spec.explicit!
    let path =
      topology.routes.first { $0.from == source && $0.to == destination }?.links
      ?? topology.shortestPath(from: source, to: destination, adjacency: explicitAdjacency) ?? []
    var resources: [ResourceID] = []
    var latency = SimTime.zero
    var at = topology.hosts[source].name
    for l in path {
      let link = topology.links[l]
      let forward = link.ends.0 == at
      resources.append(forward ? linkResources[l].forward : linkResources[l].backward)
      latency += link.latency
      at = forward ? link.ends.1 : link.ends.0
    }
    routeCache[key] = (resources, latency)
    return (resources, latency)
  }

  public var hostCount: Int { hosts.count }

  /// The host called `name` (`rack2-host7`), if there is one.
  public func host(named name: String) -> HostID? {
    guard let i = hosts.firstIndex(where: { $0.name == name }) else { return nil }
    return HostID(Int32(i))
  }

  public func name(of host: HostID) -> String { hosts[Int(host.index)].name }
  public func rack(of host: HostID) -> Int { hosts[Int(host.index)].rack }
  public func isUp(_ host: HostID) -> Bool { hosts[Int(host.index)].up }
  /// The disks of a host (`platform.disks`, or an explicit host's own count).
  public func diskCount(of host: HostID) -> Int { hosts[Int(host.index)].diskRead.count }
  /// Whether a disk of a host has failed (its data is gone; it takes no more work).
  public func isDiskFailed(_ host: HostID, disk: Int) -> Bool { hosts[Int(host.index)].diskFailed[disk] }
  public func hosts(inRack rack: Int) -> [HostID] {
    rackOfHost.indices.filter { rackOfHost[$0] == rack }.map { HostID(Int32($0)) }
  }

  public func addObserver(_ observer: PlatformObserver) { observers.append(observer) }

  // MARK: Routes and activities

  /// The resources a transfer from `source` to `destination` crosses, and its latency.
  public func route(from source: HostID, to destination: HostID) -> (resources: [ResourceID], latency: SimTime) {
    let s = hosts[Int(source.index)]
    let d = hosts[Int(destination.index)]
    if source == destination { return ([], .zero) }
    if spec.explicit != nil { return explicitRoute(from: Int(source.index), to: Int(destination.index)) }
    let latency = treeLatency(sameRack: s.rack == d.rack)
    if s.rack == d.rack { return ([s.linkUp, d.linkDown], latency) }
    return ([s.linkUp, rackUp[s.rack], rackDown[d.rack], d.linkDown], latency)
  }

  /// The route's latency alone (a control message's delay), without building the route on a tree.
  public func latency(from source: HostID, to destination: HostID) -> SimTime {
    if source == destination { return .zero }
    if spec.explicit != nil { return route(from: source, to: destination).latency }
    return treeLatency(sameRack: hosts[Int(source.index)].rack == hosts[Int(destination.index)].rack)
  }

  /// On the tree: host link, top-of-rack, host link; across racks the two uplinks too.
  func treeLatency(sameRack: Bool) -> SimTime {
    sameRack
      ? spec.hostLinkLatency + spec.hostLinkLatency
      : spec.hostLinkLatency + spec.uplinkLatency + spec.uplinkLatency + spec.hostLinkLatency
  }

  /// Whether two hosts can talk: both up and no partition between them.
  public func reachable(_ a: HostID, _ b: HostID) -> Bool {
    guard hosts[Int(a.index)].up, hosts[Int(b.index)].up else { return false }
    return !separated(a.index, b.index)
  }

  func separated(_ a: Int32, _ b: Int32) -> Bool {
    partitions.contains { ($0.a.contains(a) && $0.b.contains(b)) || ($0.a.contains(b) && $0.b.contains(a)) }
  }

  /// Sends `bytes` from one host to another; the observer hears of the end (latency included)
  /// or of a failure (a host down, a link down, a partition).
  @discardableResult
  public func transfer(
    bytes: Double, from source: HostID, to destination: HostID, observer: any ActivityObserver, tag: Int64 = 0
  )
    -> ActivityID
  {
    if !hosts[Int(source.index)].up || !hosts[Int(destination.index)].up {
      return fluid.startFailed(observer: observer, tag: tag, reason: .hostDown)
    }
    if separated(source.index, destination.index) {
      return fluid.startFailed(observer: observer, tag: tag, reason: .partitioned)
    }
    let (resources, latency) = route(from: source, to: destination)
    return fluid.start(
      amount: bytes, on: resources, latency: latency, observer: observer, tag: tag,
      endpoints: (source.index, destination.index))
  }

  /// A pipelined stream (an HDFS write pipeline, a replica copy): `bytes` read from a disk of
  /// `source` (if `readDisk`), sent along `hosts` in turn (each hop's route), and written to a
  /// disk of every host after the first (if `writeDisks`), all at one rate: one activity over
  /// every resource on the way, limited by the most contended. `disks` picks each host's disk
  /// (default disk0). A resource on the way twice counts once. Partitions fail it by its two
  /// ends only.
  @discardableResult
  public func pipeline(
    bytes: Double, hosts path: [HostID], readDisk: Bool, writeDisks: Bool, disks: [Int]? = nil,
    observer: any ActivityObserver, tag: Int64 = 0
  ) -> ActivityID {
    precondition(!path.isEmpty, "a pipeline needs a host")
    for host in path where !hosts[Int(host.index)].up {
      return fluid.startFailed(observer: observer, tag: tag, reason: .hostDown)
    }
    var resources: [ResourceID] = []
    var seen = Set<Int32>()
    func use(_ r: ResourceID) { if seen.insert(r.index).inserted { resources.append(r) } }
    var latency = SimTime.zero
    for (k, host) in path.enumerated() {
      let h = hosts[Int(host.index)]
      let disk = disks?[k] ?? 0
      if (k == 0 && readDisk) || (k > 0 && writeDisks) {
        guard !h.diskFailed[disk] else { return fluid.startFailed(observer: observer, tag: tag, reason: .diskFailed) }
        use(k == 0 ? h.diskRead[disk] : h.diskWrite[disk])
      }
      guard k + 1 < path.count else { continue }
      if separated(host.index, path[k + 1].index) {
        return fluid.startFailed(observer: observer, tag: tag, reason: .partitioned)
      }
      let hop = route(from: host, to: path[k + 1])
      for r in hop.resources { use(r) }
      latency = latency + hop.latency
    }
    if readDisk || writeDisks { latency = latency + spec.diskLatency }
    return fluid.start(
      amount: bytes, on: resources, latency: latency, observer: observer, tag: tag,
      endpoints: (path.first!.index, path.last!.index))
  }

  /// A control message (a request header, an acknowledgement): it takes the route's latency and
  /// no bandwidth, so it costs one event rather than a share of the links. It fails if the hosts
  /// cannot reach each other when it is sent; one already on its way arrives.
  @discardableResult
  public func message(from source: HostID, to destination: HostID, observer: any ActivityObserver, tag: Int64 = 0)
    -> ActivityID
  {
    if !hosts[Int(source.index)].up || !hosts[Int(destination.index)].up {
      return fluid.startFailed(observer: observer, tag: tag, reason: .hostDown)
    }
    if separated(source.index, destination.index) {
      return fluid.startFailed(observer: observer, tag: tag, reason: .partitioned)
    }
    return fluid.start(
      amount: 0, on: [], latency: latency(from: source, to: destination), observer: observer, tag: tag,
      endpoints: (source.index, destination.index))
  }

  /// Reads or writes `bytes` on a disk of a host. The platform's per-operation latency is added
  /// unless `latency` is given (a write into the page cache, flushed later, has next to none).
  @discardableResult
  public func diskIO(
    bytes: Double, write: Bool, host: HostID, disk: Int = 0, observer: any ActivityObserver, tag: Int64 = 0,
    latency: SimTime? = nil
  )
    -> ActivityID
  {
    let h = hosts[Int(host.index)]
    precondition(disk < h.diskRead.count, "host \(h.name) has no disk\(disk)")
    if !h.up { return fluid.startFailed(observer: observer, tag: tag, reason: .hostDown) }
    if h.diskFailed[disk] { return fluid.startFailed(observer: observer, tag: tag, reason: .diskFailed) }
    let resource = write ? h.diskWrite[disk] : h.diskRead[disk]
    return fluid.start(
      amount: bytes, on: [resource], latency: latency ?? spec.diskLatency, observer: observer, tag: tag,
      endpoints: (host.index, host.index))
  }

  /// Many-to-one data arriving at `destination` from all over the cluster (a reducer's shuffle
  /// fetches, aggregated): it shares the destination's host link and its rack's downlink, which
  /// is where an all-to-all shuffle meets its limit; the senders' links are left out. With an
  /// explicit topology, the route from the first host stands in for "all over".
  @discardableResult
  public func gather(bytes: Double, to destination: HostID, observer: any ActivityObserver, tag: Int64 = 0)
    -> ActivityID
  {
    let d = hosts[Int(destination.index)]
    guard d.up else { return fluid.startFailed(observer: observer, tag: tag, reason: .hostDown) }
    if spec.explicit != nil {
      // A platform of one host gathers from itself (no network on the way).
      let source = HostID(destination.index == 0 && hosts.count > 1 ? 1 : 0)
      return transfer(bytes: bytes, from: source, to: destination, observer: observer, tag: tag)
    }
    let resources = spec.racks > 1 ? [rackDown[d.rack], d.linkDown] : [d.linkDown]
    let latency = treeLatency(sameRack: spec.racks == 1)
    return fluid.start(
      amount: bytes, on: resources, latency: latency, observer: observer, tag: tag,
      endpoints: (destination.index, destination.index))
  }

  /// Stops an activity before it ends (a killed task, the losing copy of a speculative one); its
  /// observer hears nothing more.
  public func cancel(_ activity: ActivityID) { fluid.cancel(activity) }

  /// Runs `work` units on one core of a host (processor sharing when cores are oversubscribed).
  @discardableResult
  public func compute(work: Double, host: HostID, observer: any ActivityObserver, tag: Int64 = 0) -> ActivityID {
    if !hosts[Int(host.index)].up { return fluid.startFailed(observer: observer, tag: tag, reason: .hostDown) }
    return fluid.start(
      amount: work, on: [hosts[Int(host.index)].cpu], maxRate: spec.coreSpeed, observer: observer, tag: tag,
      endpoints: (host.index, host.index))
  }
}
