import SimKernel

/// A platform given as lists instead of a tree (`topology: explicit`):
///
///     platform:
///       topology: explicit
///       hosts:                       # each host's rack is a label used by rack faults
///         - {name: web1, rack: r1}
///         - {name: db1, rack: r2}
///       switches: [tor1, tor2, core]
///       links:                       # each joins two of the hosts and switches
///         - {name: web1-tor1, between: [web1, tor1], bandwidth: 10Gbps, latency: 20us}
///         - {name: tor1-core, between: [tor1, core], bandwidth: 40Gbps, latency: 10us}
///         ...
///       routes:                      # optional: a fixed path for some pairs
///         - {from: web1, to: db1, via: [web1-tor1, tor1-core, core-tor2, tor2-db1]}
///
/// Other pairs take a path with the fewest links through switches (never through another host),
/// ties broken by the order links are listed, so routes are deterministic. Cores, disks and
/// duplex come from the platform's other keys, as for the tree.
public struct ExplicitTopology: Sendable, Equatable {
  public struct Host: Sendable, Equatable {
    public var name: String
    public var rack: String
  }

  public struct Link: Sendable, Equatable {
    public var name: String
    public var ends: (String, String)
    public var bandwidth: Double
    public var latency: SimTime
    public static func == (a: Link, b: Link) -> Bool {
      a.name == b.name && a.ends == b.ends && a.bandwidth == b.bandwidth && a.latency == b.latency
    }
  }

  public var hosts: [Host]
  public var switches: [String]
  public var links: [Link]
  /// Fixed paths: (from host, to host) -> link indices in order.
  public var routes: [(from: Int, to: Int, links: [Int])]

  public static func == (a: ExplicitTopology, b: ExplicitTopology) -> Bool {
    a.hosts == b.hosts && a.switches == b.switches && a.links == b.links
      && a.routes.count == b.routes.count
      && zip(a.routes, b.routes).allSatisfy { $0.from == $1.from && $0.to == $1.to && $0.links == $1.links }
  }

  /// The racks, in order of first appearance.
  public var racks: [String] {
    var seen: [String] = []
    for host in hosts where !seen.contains(host.rack) { seen.append(host.rack) }
    return seen
  }

  /// Nodes are hosts (0..<hosts.count) then switches.
  var nodeNames: [String] { hosts.map(\.name) + switches }

  /// For each node, its links in listed order: (link index, the node at the other end).
  func adjacency() -> [[(link: Int, neighbour: Int)]] {
    let names = nodeNames
    var index: [String: Int] = [:]
    for (i, name) in names.enumerated() { index[name] = i }
    var adjacent = [[(link: Int, neighbour: Int)]](repeating: [], count: names.count)
    for (i, link) in links.enumerated() {
      let a = index[link.ends.0]!
      let b = index[link.ends.1]!
      adjacent[a].append((i, b))
      adjacent[b].append((i, a))
    }
    return adjacent
  }

  /// The fewest-links path from one host to another through switches, as link indices; nil if none.
  func shortestPath(from source: Int, to destination: Int, adjacency: [[(link: Int, neighbour: Int)]]) -> [Int]? {
    if source == destination { return [] }
    let previous = breadthFirst(from: source, until: destination, adjacency: adjacency)
    guard previous[destination] != nil else { return nil }
    var path: [Int] = []
    var at = destination
    while let step = previous[at] {
      path.append(step.link)
      at = step.node
    }
    return path.reversed()
  }

  /// A breadth-first search from `source` that stops once `destination` is found (nil: runs to
  /// the end): for each node reached, the node and link it was reached from. Only switches
  /// forward traffic: a host is a source or a destination, never a hop.
  func breadthFirst(from source: Int, until destination: Int?, adjacency: [[(link: Int, neighbour: Int)]])
    -> [(node: Int, link: Int)?]
  {
    var previous = [(node: Int, link: Int)?](repeating: nil, count: adjacency.count)
    var visited = [Bool](repeating: false, count: adjacency.count)
    visited[source] = true
    var frontier = [source]
    var next = 0
    while next < frontier.count {
      let node = frontier[next]
      next += 1
      if node != source && node < hosts.count { continue }
      for (link, neighbour) in adjacency[node] where !visited[neighbour] {
        visited[neighbour] = true
        previous[neighbour] = (node, link)
        if neighbour == destination { return previous }
        frontier.append(neighbour)
      }
    }
    return previous
  }

  /// The most hosts, switches and links an explicit topology may list (checking that every host
  /// reaches every other takes one search per host over all links).
  public static let maximumHosts = 1_000
  public static let maximumSwitches = 1_000
  public static let maximumLinks = 10_000

  /// Which hosts a path from `source` through switches reaches (the breadth-first search of
  /// ``shortestPath(from:to:adjacency:)``, run to the end).
  func reachableHosts(from source: Int, adjacency: [[(link: Int, neighbour: Int)]]) -> [Bool] {
    let previous = breadthFirst(from: source, until: nil, adjacency: adjacency)
    return (0..<hosts.count).map { $0 == source || previous[$0] != nil }
  }

  static func decode(_ reader: inout ConfigReader) throws(ConfigError) -> ExplicitTopology {
    let hostNodes = try reader.list("hosts", help: "hosts: {name, rack}")
    guard hostNodes.count <= maximumHosts else {
      throw reader.error(
        "hosts", "\(hostNodes.count) hosts are more than the \(maximumHosts) an explicit topology may list")
    }
    var hosts: [Host] = []
    var known = Set<String>()
    for (i, node) in hostNodes.enumerated() {
      var item = try ConfigReader(node, path: reader.keyPath("hosts.\(i)"))
      let name = try item.string("name")
      let rack = try item.string("rack", default: "rack1")
      try item.finish()
      guard !name.isEmpty, !name.contains("/") else {
        throw item.error("name", "'\(name)' is not a usable host name (no '/')")
      }
      guard known.insert(name).inserted else {
        throw item.error("name", "host '\(name)' is listed twice")
      }
      hosts.append(Host(name: name, rack: rack))
    }
    guard !hosts.isEmpty else { throw reader.error("hosts", "an explicit topology needs at least one host") }
    let switchNodes = try reader.list("switches", help: "names of switches")
    guard switchNodes.count <= maximumSwitches else {
      throw reader.error(
        "switches", "\(switchNodes.count) switches are more than the \(maximumSwitches) an explicit topology may list")
    }
    var switches: [String] = []
    for (i, node) in switchNodes.enumerated() {
      guard let name = node.scalarText, !name.isEmpty else {
        throw ConfigError(
          location: node.location, keyPath: reader.keyPath("switches.\(i)"), message: "expected a switch name")
      }
      guard known.insert(name).inserted else {
        throw ConfigError(
          location: node.location, keyPath: reader.keyPath("switches.\(i)"),
          message: "'\(name)' is already a host or switch")
      }
      switches.append(name)
    }
    let nodes = hosts.map(\.name) + switches
    let linkNodes = try reader.list("links", help: "links: {name, between: [a, b], bandwidth, latency}")
    guard linkNodes.count <= maximumLinks else {
      throw reader.error(
        "links", "\(linkNodes.count) links are more than the \(maximumLinks) an explicit topology may list")
    }
    var links: [Link] = []
    var linkNames = Set<String>()
    for (i, node) in linkNodes.enumerated() {
      var item = try ConfigReader(node, path: reader.keyPath("links.\(i)"))
      guard let between = item.node("between"), let ends = between.items, ends.count == 2,
        let a = ends[0].scalarText, let b = ends[1].scalarText
      else {
        throw item.error("between", "a link is 'between' two hosts or switches", hint: "e.g. between: [web1, tor1]")
      }
      for (end, text) in [(ends[0], a), (ends[1], b)] where !known.contains(text) {
        var hint = "declare it under hosts or switches"
        if let near = closestMatch(to: text, among: nodes) { hint = "did you mean '\(near)'? " + hint }
        throw ConfigError(
          location: end.location, keyPath: item.keyPath("between"), message: "no host or switch '\(text)'", hint: hint)
      }
      guard a != b else { throw item.error("between", "a link joins two different nodes") }
      let name = try item.string("name", default: "\(a)-\(b)")
      guard linkNames.insert(name).inserted else {
        throw item.error("name", "link '\(name)' is listed twice")
      }
      let bandwidth = try item.quantity("bandwidth", .bandwidth, range: PlatformSpec.bandwidthRange)
      let latency = try item.duration("latency", default: .zero, range: PlatformSpec.latencyRange)
      try item.finish()
      links.append(Link(name: name, ends: (a, b), bandwidth: bandwidth, latency: latency))
    }
    var topology = ExplicitTopology(hosts: hosts, switches: switches, links: links, routes: [])
    let routeNodes = try reader.list("routes", help: "fixed paths: {from, to, via: [links]}")
    guard routeNodes.count <= maximumLinks else {
      throw reader.error("routes", "\(routeNodes.count) routes are more than the \(maximumLinks) allowed")
    }
    var hostIndex: [String: Int] = [:]
    for (i, host) in hosts.enumerated() { hostIndex[host.name] = i }
    var linkIndex: [String: Int] = [:]
    for (i, link) in links.enumerated() { linkIndex[link.name] = i }
    var routed = Set<Int>()
    for (i, node) in routeNodes.enumerated() {
      var item = try ConfigReader(node, path: reader.keyPath("routes.\(i)"))
      let from = try item.string("from")
      let to = try item.string("to")
      guard let f = hostIndex[from] else { throw item.error("from", "no host '\(from)'") }
      guard let t = hostIndex[to] else { throw item.error("to", "no host '\(to)'") }
      guard let via = item.node("via")?.items else { throw item.error("via", "expected the list of links of the path") }
      guard via.count <= links.count else {
        throw item.error("via", "a path of \(via.count) links is longer than the \(links.count) links there are")
      }
      var path: [Int] = []
      var at = from
      for hop in via {
        guard let text = hop.scalarText, let l = linkIndex[text] else {
          throw ConfigError(
            location: hop.location, keyPath: item.keyPath("via"), message: "\(hop.kindDescription) is not a link")
        }
        let link = links[l]
        guard link.ends.0 == at || link.ends.1 == at else {
          throw ConfigError(
            location: hop.location, keyPath: item.keyPath("via"), message: "link '\(text)' does not start at '\(at)'")
        }
        at = link.ends.0 == at ? link.ends.1 : link.ends.0
        path.append(l)
      }
      guard at == to else { throw item.error("via", "the path ends at '\(at)', not at '\(to)'") }
      try item.finish()
      topology.routes.append((f, t, path))
      routed.insert(f * hosts.count + t)
    }
    // Every host must reach every other: one search from each host finds all it reaches.
    let adjacency = topology.adjacency()
    for a in hosts.indices {
      let reached = topology.reachableHosts(from: a, adjacency: adjacency)
      for b in hosts.indices where b != a && !reached[b] && !routed.contains(a * hosts.count + b) {
        throw reader.error("links", "no path from host '\(hosts[a].name)' to '\(hosts[b].name)' through switches")
      }
    }
    return topology
  }
}
