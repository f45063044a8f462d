import SimKernel

/// A host of the platform, by index.
public struct HostID: Hashable, Comparable, Sendable {
  /// The host's position in host order (the order of ``PlatformSpec/hostNames``), from 0.
  public var index: Int32
  /// The host at `index` (0 ..< ``Platform/hostCount``).
  public init(_ index: Int32) { self.index = index }
  /// Host order, for sorting hosts deterministically.
  public static func < (a: HostID, b: HostID) -> Bool { a.index < b.index }
}

/// Hears of hosts going down and up, of disks failing and of partitions forming and healing.
public protocol PlatformObserver: AnyObject {
  /// `host` went down (`up` false: its activities have already failed) or came back up (every cause
  /// of its being down has ended).
  func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator)
  /// Disk `disk` of `host` failed for good: what it held is lost (its activities have already failed).
  func diskFailed(_ host: HostID, disk: Int, in simulator: Simulator)
  /// A partition formed or healed, or a link went down or came back: ``Platform/reachable(_:_:)`` may
  /// answer differently now.
  func reachabilityChanged(in simulator: Simulator)
}

extension PlatformObserver {
  /// Does nothing: an observer implements only what it needs.
  public func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator) {}
  /// Does nothing.
  public func diskFailed(_ host: HostID, disk: Int, in simulator: Simulator) {}
  /// Does nothing.
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
///
/// Units: bytes for transfers and disk operations, bytes per second for bandwidths, work units
/// for computations (a core does `core_speed` of them per second), seconds or ``SimTime`` for
/// latencies. Every activity takes an observer and a tag and reports back once, inside the
/// simulation: finished (after its latency) or failed (a host, disk or link down, a partition).
/// Routes and tie-breaks are fixed by host and link order, so a run does not depend on the machine.
///
/// ```swift
/// let platform = Platform(spec: spec, simulator: simulator)
/// let (a, b) = (HostID(0), HostID(5))
/// platform.transfer(bytes: 64e6, from: a, to: b, observer: self, tag: Int64(block))
/// platform.compute(work: 2, host: b, observer: self, tag: Int64(task))   // 2 s on one core
/// ```
public final class Platform {
  /// A host as built: its name, rack and state, and its resources (internal).
  public struct Host {
    /// `rack{r}-host{h}`, or the explicit, cluster or fat-tree name.
    public let name: String
    /// Its rack, from 0: an index into ``PlatformSpec/rackNames`` (a cabinet, an edge switch, a label).
    public let rack: Int
    /// Whether it is up (see ``Platform/setHost(_:down:)``).
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

  /// The description the platform was built from.
  public let spec: PlatformSpec
  /// The fluid model holding every resource of the platform (for direct use of its resources).
  public let fluid: FluidModel
  unowned let simulator: Simulator
  /// The hosts, in host order (``HostID/index``).
  public internal(set) var hosts: [Host] = []
  var rackUp: [ResourceID] = []
  var rackDown: [ResourceID] = []
  /// Explicit topologies: each link's resources (from its first end to its second, and back).
  var linkResources: [(forward: ResourceID, backward: ResourceID)] = []
  var explicitAdjacency: [[(link: Int, neighbour: Int)]] = []
  var routeCache: [Int64: (resources: [ResourceID], latency: SimTime)] = [:]
  /// The last breadth-first search of an explicit topology (its source, each node's step back):
  /// a shuffle asks for the routes of one source after another, so one search serves a source's
  /// every destination.
  var searchSource = -1
  var searchTree: [(node: Int, link: Int)?] = []
  /// A cluster's backbones: each cabinet's (nil: fatpipe) and the top one (nil: fatpipe or one cabinet).
  var cabinetBackbone: [ResourceID?] = []
  var topBackbone: ResourceID?
  /// A fat-tree's switch links, (up, down) resources: edge e of pod p to its aggregation switch a
  /// at `(p * k/2 + e) * k/2 + a`; aggregation a of pod p to its core j at `(p * k/2 + a) * k/2 + j`.
  var edgeToAggregation: [(up: ResourceID, down: ResourceID)] = []
  var aggregationToCore: [(up: ResourceID, down: ResourceID)] = []
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
  /// Every change of the fault counts (`faults.hosts_down`, `faults.disks_failed`, ...) at the time it
  /// happened: one sample per fault event, not per interval.
  public internal(set) var faultLog = TimeSeries()
  /// Hosts grouped by what runs on them (``assignRole(_:hosts:)``), in the order named.
  public internal(set) var roles: [(name: String, hosts: [HostID])] = []
  /// Where the cost window starts (the last ``resetStatistics()``), and the bytes sent from each
  /// egress group to each since then (`egressBytes[from * groups + to]`; empty unless priced).
  var costWindowStart = SimTime.zero
  var egressBytes: [Double] = []
  /// Since when each host has been provisioned (nil: not now), and its provisioned seconds in the
  /// cost window before that (``setProvisioned(_:_:)``).
  var provisionedSince: [SimTime?] = []
  var billedBefore: [Double] = []
  /// The hosts of metered pipelines of over two hosts, by activity slot (with its generation: a
  /// slot is reused, so an entry of a pipeline that failed is simply overwritten or ignored).
  var pipelineHops: [Int32: (generation: UInt32, hosts: [Int32])] = [:]

  /// Builds the hosts, links, disks and cores of `spec` on a new ``FluidModel`` of `simulator`. The
  /// spec is taken as valid (``PlatformSpec/decode(_:)`` checks every value it reads).
  public init(spec: PlatformSpec, simulator: Simulator) {
    self.spec = spec
    self.simulator = simulator
    fluid = FluidModel(simulator: simulator)
    rackOfHost = spec.rackOfHost
    defer {
      provisionedSince = Array(repeating: .zero, count: hosts.count)
      billedBefore = Array(repeating: 0, count: hosts.count)
      meterEgress()
    }
    if let explicit = spec.explicit {
      buildExplicit(explicit)
      return
    }
    if let cluster = spec.cluster {
      buildCluster(cluster)
      return
    }
    if let fatTree = spec.fatTree {
      buildFatTree(fatTree)
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

  /// A host with its cpu, its own link (two resources with full duplex) and its disks, in rack `rack`.
  func addHost(name: String, rack: Int) {
    let cpu = fluid.addResource(name: name + "/cpu", capacity: Double(spec.cores) * spec.coreSpeed, kind: .cpu)
    let linkUp = fluid.addResource(
      name: name + (spec.fullDuplex ? "/link-up" : "/link"), capacity: spec.hostLink, kind: .hostLink)
    let linkDown =
      spec.fullDuplex ? fluid.addResource(name: name + "/link-down", capacity: spec.hostLink, kind: .hostLink) : linkUp
    var host = Host(name: name, rack: rack, cpu: cpu, linkUp: linkUp, linkDown: linkDown)
    host.links = linkUp == linkDown ? [linkUp] : [linkUp, linkDown]
    addDisks(&host)
    hosts.append(host)
    hostDown.append(TimeWeightedAverage())
    downCauses.append(0)
  }

  /// A cluster: hosts cabinet by cabinet, then each cabinet's backbone and the top one. A shared
  /// backbone is one resource for both directions (SimGrid's SHARED); a cabinet's backbone also
  /// stands as its rack's uplink, for link faults.
  func buildCluster(_ cluster: ClusterTopology) {
    let names = cluster.hostNames
    for (i, name) in names.enumerated() { addHost(name: name, rack: i / cluster.hostsPerCabinet) }
    for c in 1...cluster.cabinets {
      let backbone =
        cluster.backboneSharing == .shared
        ? fluid.addResource(name: "cabinet\(c)-backbone", capacity: cluster.backbone, kind: .uplink) : nil
      cabinetBackbone.append(backbone)
      if let backbone {
        rackUp.append(backbone)
        rackDown.append(backbone)
      }
    }
    if cluster.cabinets > 1, cluster.topBackboneSharing == .shared {
      topBackbone = fluid.addResource(name: "top-backbone", capacity: cluster.topBackbone, kind: .uplink)
    }
  }

  /// A fat-tree: hosts edge switch by edge switch, then the edge-aggregation links pod by pod,
  /// then the aggregation-core links.
  func buildFatTree(_ tree: FatTreeTopology) {
    let half = tree.half
    let names = tree.hostNames
    for (i, name) in names.enumerated() { addHost(name: name, rack: i / half) }
    func link(_ a: String, _ b: String) -> (up: ResourceID, down: ResourceID) {
      let up = fluid.addResource(
        name: spec.fullDuplex ? "\(a)->\(b)" : "\(a)-\(b)", capacity: tree.switchLink, kind: .uplink)
      let down = spec.fullDuplex ? fluid.addResource(name: "\(b)->\(a)", capacity: tree.switchLink, kind: .uplink) : up
      return (up, down)
    }
    for p in 1...tree.k {
      for e in 1...half {
        for a in 1...half { edgeToAggregation.append(link("pod\(p)-edge\(e)", "pod\(p)-agg\(a)")) }
      }
    }
    for p in 1...tree.k {
      for a in 1...half {
        for j in 1...half { aggregationToCore.append(link("pod\(p)-agg\(a)", "core\(a)-\(j)")) }
      }
    }
  }

  /// Hosts and links from lists: a link touching a host counts as a host link, the others as
  /// uplinks (for utilisation by class).
  func buildExplicit(_ topology: ExplicitTopology) {
    var hostIndex: [String: Int] = [:]
    for (i, host) in topology.hosts.enumerated() { hostIndex[host.name] = i }
    var cpus: [ResourceID] = []
    for host in topology.hosts {
      cpus.append(
        fluid.addResource(name: host.name + "/cpu", capacity: Double(spec.cores) * spec.coreSpeed, kind: .cpu))
    }
    var incident = [[ResourceID]](repeating: [], count: topology.hosts.count)
    for link in topology.links {
      let kind: ResourceClass = hostIndex[link.ends.0] != nil || hostIndex[link.ends.1] != nil ? .hostLink : .uplink
      let forward = fluid.addResource(
        name: spec.fullDuplex ? "\(link.name)/\(link.ends.0)->\(link.ends.1)" : link.name, capacity: link.bandwidth,
        kind: kind)
      let backward =
        spec.fullDuplex
        ? fluid.addResource(name: "\(link.name)/\(link.ends.1)->\(link.ends.0)", capacity: link.bandwidth, kind: kind)
        : forward
      linkResources.append((forward, backward))
      for end in [link.ends.0, link.ends.1] {
        if let h = hostIndex[end] {
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
    let path = topology.listedRoute(from: source, to: destination) ?? searchedPath(from: source, to: destination)
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

  /// The fewest-links path of an explicit topology (``ExplicitTopology/shortestPath(from:to:adjacency:)``,
  /// from one search per source rather than per pair: the search visits nodes in the same order,
  /// so each node's step back is the same).
  func searchedPath(from source: Int, to destination: Int) -> [Int] {
    let topology = spec.explicit!
    if searchSource != source {
      searchTree = topology.breadthFirst(from: source, until: nil, adjacency: explicitAdjacency)
      searchSource = source
    }
    guard searchTree[destination] != nil else { return [] }
    var path: [Int] = []
    var at = destination
    while let step = searchTree[at] {
      path.append(step.link)
      at = step.node
    }
    return path.reversed()
  }

  /// A cluster's route: host link up, the cabinets' backbones (and the top one between
  /// cabinets), host link down; fatpipe backbones are in the latency but not the resources.
  func clusterRoute(_ cluster: ClusterTopology, from s: Host, to d: Host) -> (
    resources: [ResourceID], latency: SimTime
  ) {
    var resources = [s.linkUp]
    if let backbone = cabinetBackbone[s.rack] { resources.append(backbone) }
    var latency = spec.hostLinkLatency + cluster.backboneLatency + spec.hostLinkLatency
    if s.rack != d.rack {
      if let topBackbone { resources.append(topBackbone) }
      if let backbone = cabinetBackbone[d.rack] { resources.append(backbone) }
      latency += cluster.topBackboneLatency + cluster.backboneLatency
    }
    resources.append(d.linkDown)
    return (resources, latency)
  }

  /// The rate a flow between two hosts may not exceed: a cluster's fatpipe backbones on the way
  /// (infinity elsewhere).
  public func rateCap(from source: HostID, to destination: HostID) -> Double {
    guard let cluster = spec.cluster, source != destination else { return .infinity }
    var cap = cluster.backboneSharing == .fatpipe ? cluster.backbone : .infinity
    if rack(of: source) != rack(of: destination), cluster.topBackboneSharing == .fatpipe {
      cap = min(cap, cluster.topBackbone)
    }
    return cap
  }

  /// A fat-tree's route by destination (D-mod-k): up through aggregation switch d mod k/2 and
  /// core (d / (k/2)) mod k/2 of its group, down the one path to d.
  func fatTreeRoute(_ tree: FatTreeTopology, from source: Int, to destination: Int) -> (
    resources: [ResourceID], latency: SimTime
  ) {
    let half = tree.half
    let (sourceEdge, destinationEdge) = (source / half, destination / half)
    let (sourcePod, destinationPod) = (sourceEdge / half, destinationEdge / half)
    let s = hosts[source]
    let d = hosts[destination]
    let hostLatency = spec.hostLinkLatency + spec.hostLinkLatency
    if sourceEdge == destinationEdge { return ([s.linkUp, d.linkDown], hostLatency) }
    let a = destination % half
    let up = edgeToAggregation[sourceEdge * half + a].up
    let down = edgeToAggregation[destinationEdge * half + a].down
    if sourcePod == destinationPod {
      return ([s.linkUp, up, down, d.linkDown], hostLatency + tree.switchLinkLatency + tree.switchLinkLatency)
    }
    let j = (destination / half) % half
    let coreUp = aggregationToCore[(sourcePod * half + a) * half + j].up
    let coreDown = aggregationToCore[(destinationPod * half + a) * half + j].down
    let switchLatency =
      tree.switchLinkLatency + tree.switchLinkLatency + tree.switchLinkLatency
      + tree.switchLinkLatency
    return ([s.linkUp, up, coreUp, coreDown, down, d.linkDown], hostLatency + switchLatency)
  }

  /// A host "far" from `host` on a native or explicit topology: the first host of another
  /// cabinet or pod if there is one, else another host (nil on a platform of one host). Its
  /// route stands in for "all over the cluster" in ``serve(bytes:from:disk:observer:tag:)`` and
  /// ``gather(bytes:to:observer:tag:)``.
  func farHost(from host: HostID) -> HostID? {
    guard hosts.count > 1 else { return nil }
    let i = Int(host.index)
    if let cluster = spec.cluster, cluster.cabinets > 1 {
      return HostID(Int32(hosts[i].rack == 0 ? cluster.hostsPerCabinet : 0))
    }
    if let tree = spec.fatTree {
      let pod = tree.half * tree.half
      return HostID(Int32(i / pod == 0 ? pod : 0))
    }
    return HostID(i == 0 ? 1 : 0)
  }

  /// How many of the first resources of a native topology's route are the sender's side (its host
  /// link and the uplinks it alone chooses): a cluster's host link and cabinet backbone (when it
  /// is a resource), a fat-tree's host, edge and aggregation uplinks; the rest is the receiver's.
  /// Both are the first half: [up, backbone?, top?, backbone?, down] and [up, edge, aggregation,
  /// core, aggregation, edge] (a shared backbone of one cabinet goes to the receiver's side, so a
  /// byte of a shuffle is charged to it once).
  func senderSide(of routeLength: Int) -> Int { routeLength / 2 }

  /// The number of hosts.
  public var hostCount: Int { hosts.count }

  /// The host called `name` (`rack2-host7`), if there is one.
  public func host(named name: String) -> HostID? {
    guard let i = hosts.firstIndex(where: { $0.name == name }) else { return nil }
    return HostID(Int32(i))
  }

  /// The host's name (`rack2-host7`).
  public func name(of host: HostID) -> String { hosts[Int(host.index)].name }
  /// The host's rack, from 0.
  public func rack(of host: HostID) -> Int { hosts[Int(host.index)].rack }
  /// Whether the host is up now.
  public func isUp(_ host: HostID) -> Bool { hosts[Int(host.index)].up }
  /// The disks of a host (`platform.disks`, or an explicit host's own count).
  public func diskCount(of host: HostID) -> Int { hosts[Int(host.index)].diskRead.count }
  /// Whether a disk of a host has failed (its data is gone; it takes no more work).
  public func isDiskFailed(_ host: HostID, disk: Int) -> Bool { hosts[Int(host.index)].diskFailed[disk] }
  /// The hosts of rack `rack` (from 0), in host order.
  ///
  /// - Complexity: O(hosts).
  public func hosts(inRack rack: Int) -> [HostID] {
    rackOfHost.indices.filter { rackOfHost[$0] == rack }.map { HostID(Int32($0)) }
  }

  /// Adds an observer of host, disk and reachability changes, kept alive by the platform (so it
  /// holds the platform `unowned`). Observers are told in the order they were added.
  public func addObserver(_ observer: PlatformObserver) { observers.append(observer) }

  /// Stops telling `observer` of hosts, disks and reachability (its part in the run is over).
  public func removeObserver(_ observer: PlatformObserver) { observers.removeAll { $0 === observer } }

  // MARK: Routes and activities

  /// The resources a transfer from `source` to `destination` crosses, and its latency.
  public func route(from source: HostID, to destination: HostID) -> (resources: [ResourceID], latency: SimTime) {
    let s = hosts[Int(source.index)]
    let d = hosts[Int(destination.index)]
    if source == destination { return ([], .zero) }
    if spec.explicit != nil { return explicitRoute(from: Int(source.index), to: Int(destination.index)) }
    if let cluster = spec.cluster { return clusterRoute(cluster, from: s, to: d) }
    if let tree = spec.fatTree { return fatTreeRoute(tree, from: Int(source.index), to: Int(destination.index)) }
    let latency = treeLatency(sameRack: s.rack == d.rack)
    if s.rack == d.rack { return ([s.linkUp, d.linkDown], latency) }
    return ([s.linkUp, rackUp[s.rack], rackDown[d.rack], d.linkDown], latency)
  }

  /// The route's latency alone (a control message's delay), without building the route on a tree.
  public func latency(from source: HostID, to destination: HostID) -> SimTime {
    if source == destination { return .zero }
    if spec.explicit != nil || spec.cluster != nil || spec.fatTree != nil {
      return route(from: source, to: destination).latency
    }
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
    let ends = (source.index, destination.index)
    if !hosts[Int(source.index)].up || !hosts[Int(destination.index)].up {
      return fluid.startFailed(observer: observer, tag: tag, reason: .hostDown, amount: bytes, endpoints: ends)
    }
    if separated(source.index, destination.index) {
      return fluid.startFailed(observer: observer, tag: tag, reason: .partitioned, amount: bytes, endpoints: ends)
    }
    let (resources, latency) = route(from: source, to: destination)
    return fluid.start(
      amount: bytes, on: resources, maxRate: rateCap(from: source, to: destination), latency: latency,
      observer: observer, tag: tag, endpoints: (source.index, destination.index))
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
    var cap = Double.infinity
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
      cap = min(cap, rateCap(from: host, to: path[k + 1]))
    }
    if readDisk || writeDisks { latency = latency + spec.diskLatency }
    let id = fluid.start(
      amount: bytes, on: resources, maxRate: cap, latency: latency, observer: observer, tag: tag,
      endpoints: (path.first!.index, path.last!.index))
    // Priced egress is metered hop by hop: the ends alone would miss a pipeline that leaves a
    // group and comes back.
    if path.count > 2, !egressBytes.isEmpty { pipelineHops[id.slot] = (id.generation, path.map(\.index)) }
    return id
  }

  /// A control message (a request header, an acknowledgement): it takes the route's latency and
  /// no bandwidth, so it costs one event rather than a share of the links. It fails if the hosts
  /// cannot reach each other when it is sent; one already on its way arrives.
  @discardableResult
  public func message(from source: HostID, to destination: HostID, observer: any ActivityObserver, tag: Int64 = 0)
    -> ActivityID
  {
    let ends = (source.index, destination.index)
    if !hosts[Int(source.index)].up || !hosts[Int(destination.index)].up {
      return fluid.startFailed(observer: observer, tag: tag, reason: .hostDown, endpoints: ends)
    }
    if separated(source.index, destination.index) {
      return fluid.startFailed(observer: observer, tag: tag, reason: .partitioned, endpoints: ends)
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
    if spec.cluster != nil || spec.fatTree != nil {
      // The receiver's half of the route from a far host: from the first resource past the
      // sender's side (its host link, and its cabinet's backbone or its edge and aggregation
      // uplinks) to the receiver's host link.
      guard let far = farHost(from: destination) else {
        return fluid.start(
          amount: bytes, on: [], latency: .zero, observer: observer, tag: tag,
          endpoints: (destination.index, destination.index))
      }
      let (resources, latency) = route(from: far, to: destination)
      return fluid.start(
        amount: bytes, on: Array(resources.dropFirst(senderSide(of: resources.count))),
        maxRate: rateCap(from: far, to: destination), latency: latency, observer: observer, tag: tag,
        endpoints: (destination.index, destination.index))
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

  /// Runs `work` units spread evenly over every core of a host, one activity a core (a parallel
  /// stage: a scan, an encoding), each reporting to `observer` with `tag`; the work is done when
  /// all have finished.
  @discardableResult
  public func computeOnAllCores(work: Double, host: HostID, observer: any ActivityObserver, tag: Int64 = 0)
    -> [ActivityID]
  {
    let cores = max(1, spec.cores)
    return (0..<cores).map { _ in compute(work: work / Double(cores), host: host, observer: observer, tag: tag) }
  }

  /// Runs `work` units on one core of a host (processor sharing when cores are oversubscribed).
  @discardableResult
  public func compute(work: Double, host: HostID, observer: any ActivityObserver, tag: Int64 = 0) -> ActivityID {
    if !hosts[Int(host.index)].up { return fluid.startFailed(observer: observer, tag: tag, reason: .hostDown) }
    return fluid.start(
      amount: work, on: [hosts[Int(host.index)].cpu], maxRate: spec.coreSpeed, observer: observer, tag: tag,
      endpoints: (host.index, host.index))
  }
}
