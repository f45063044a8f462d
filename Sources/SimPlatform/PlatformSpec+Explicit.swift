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
  /// A listed host.
  public struct Host: Sendable, Equatable {
    /// Its name, unique among hosts and switches.
    public var name: String
    /// Its rack label: hosts with the same label form a rack (for placement and rack faults).
    public var rack: String
  }

  /// A listed link between two hosts or switches, full or half duplex as the platform's `duplex` says.
  public struct Link: Sendable, Equatable {
    /// Its name, unique among links (routes and link faults name it).
    public var name: String
    /// The names of the host or switch at each end (`between:`).
    public var ends: (String, String)
    /// Its bandwidth in bytes per second (each direction with full duplex).
    public var bandwidth: Double
    /// Its latency, added to every route through it.
    public var latency: SimTime
    /// Equal when every field is (tuples are not `Equatable`, hence this by hand).
    public static func == (a: Link, b: Link) -> Bool {
      a.name == b.name && a.ends == b.ends && a.bandwidth == b.bandwidth && a.latency == b.latency
    }
  }

  /// The hosts, in host order (``HostID`` indices).
  public var hosts: [Host] {
    didSet { routeIndex = Self.index(routes, hosts: hosts.count) }
  }
  /// The switch names; routes go through switches only, never through another host.
  public var switches: [String]
  /// The links, in the order listed (which breaks ties between shortest paths).
  public var links: [Link]
  /// Fixed paths: (from host, to host) -> link indices in order.
  public var routes: [(from: Int, to: Int, links: [Int])] {
    didSet { routeIndex = Self.index(routes, hosts: hosts.count) }
  }
  /// ``routes`` by pair (`from * hosts.count + to`), for lookups in constant time: a star of 400
  /// hosts with a route for every pair lists 159,600. The first route listed for a pair wins.
  private(set) var routeIndex: [Int: Int] = [:]

  /// A topology of these lists, taken as checked (the config reader checks names, ends and routes).
  public init(hosts: [Host], switches: [String], links: [Link], routes: [(from: Int, to: Int, links: [Int])]) {
    self.hosts = hosts
    self.switches = switches
    self.links = links
    self.routes = routes
    routeIndex = Self.index(routes, hosts: hosts.count)
  }

  static func index(_ routes: [(from: Int, to: Int, links: [Int])], hosts: Int) -> [Int: Int] {
    var index: [Int: Int] = [:]
    index.reserveCapacity(routes.count)
    for (i, route) in routes.enumerated() where index[route.from * hosts + route.to] == nil {
      index[route.from * hosts + route.to] = i
    }
    return index
  }

  /// The listed route from one host to another (link indices), if there is one.
  public func listedRoute(from source: Int, to destination: Int) -> [Int]? {
    routeIndex[source * hosts.count + destination].map { routes[$0].links }
  }

  /// Equal when the hosts, switches, links and listed routes are, in order.
  public static func == (a: ExplicitTopology, b: ExplicitTopology) -> Bool {
    a.hosts == b.hosts && a.switches == b.switches && a.links == b.links
      && a.routes.count == b.routes.count
      && zip(a.routes, b.routes).allSatisfy { $0.from == $1.from && $0.to == $1.to && $0.links == $1.links }
  }

  /// The racks, in order of first appearance.
  public var racks: [String] { rackAssignment().names }

  /// The racks in order of first appearance, and each host's rack as an index into them.
  func rackAssignment() -> (names: [String], ofHost: [Int]) {
    var names: [String] = []
    var index: [String: Int] = [:]
    var ofHost: [Int] = []
    ofHost.reserveCapacity(hosts.count)
    for host in hosts {
      if let r = index[host.rack] {
        ofHost.append(r)
      } else {
        index[host.rack] = names.count
        ofHost.append(names.count)
        names.append(host.rack)
      }
    }
    return (names, ofHost)
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
  /// The most switches an explicit topology may list.
  public static let maximumSwitches = 1_000
  /// The most links an explicit topology may list.
  public static let maximumLinks = 10_000

  /// The most links all listed routes may hold together (a route for each of the 999,000 pairs
  /// of the most hosts, ten links each).
  public static let maximumRouteHops = 10_000_000

  /// The node at the other end of `link` from node `at` (hosts, then switches), or nil if the link
  /// does not touch it.
  static func nodeIndex(other at: Int, of link: Link, index: [String: Int]) -> Int? {
    let a = index[link.ends.0]!
    let b = index[link.ends.1]!
    return a == at ? b : b == at ? a : nil
  }

  /// A pair of hosts (a, b) with no path from a to b through switches and no listed route, if
  /// there is one. Only switches forward, so a host reaches the hosts it is linked to and every
  /// host linked to a switch of the same switch-connected component as one of its own: found by
  /// one union-find over the links, so an explicit topology loads in time linear in its size
  /// when each host's switches reach every host (otherwise a host that reaches only some is
  /// checked against every other host).
  func unreachablePair(routed: (Int, Int) -> Bool) -> (Int, Int)? {
    let h = hosts.count
    var index: [String: Int] = [:]
    for (i, name) in nodeNames.enumerated() { index[name] = i }
    var parent = Array(0..<(h + switches.count))
    func root(_ x: Int) -> Int {
      var x = x
      while parent[x] != x {
        parent[x] = parent[parent[x]]
        x = parent[x]
      }
      return x
    }
    var hostSwitches = [[Int]](repeating: [], count: h)
    var hostNeighbours = [[Int]](repeating: [], count: h)
    for link in links {
      let a = index[link.ends.0]!
      let b = index[link.ends.1]!
      switch (a < h, b < h) {
      case (false, false): parent[root(a)] = root(b)
      case (true, false): hostSwitches[a].append(b)
      case (false, true): hostSwitches[b].append(a)
      case (true, true):
        hostNeighbours[a].append(b)
        hostNeighbours[b].append(a)
      }
    }
    // Each host's components (deduplicated), and each component's hosts.
    var components = [[Int]](repeating: [], count: h)
    var members: [Int: [Int]] = [:]
    for a in 0..<h {
      for s in hostSwitches[a] {
        let c = root(s)
        if !components[a].contains(c) {
          components[a].append(c)
          members[c, default: []].append(a)
        }
      }
    }
    var stamp = [Int](repeating: -1, count: h)
    for a in 0..<h {
      if components[a].count == 1, members[components[a][0]]!.count == h { continue }
      stamp[a] = a
      for c in components[a] { for b in members[c]! { stamp[b] = a } }
      for b in hostNeighbours[a] { stamp[b] = a }
      for b in 0..<h where stamp[b] != a && !routed(a, b) { return (a, b) }
    }
    return nil
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
    var nodeIndex: [String: Int] = [:]
    nodeIndex.reserveCapacity(nodes.count)
    for (i, name) in nodes.enumerated() { nodeIndex[name] = i }
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
    let routeNodes = try reader.list("routes", help: "fixed paths: {from, to, via: [links]}")
    let maximumRoutes = hosts.count * (hosts.count - 1)
    guard routeNodes.count <= maximumRoutes else {
      throw reader.error(
        "routes",
        "\(routeNodes.count) routes are more than one for each ordered pair of the \(hosts.count) hosts (\(maximumRoutes))",
        hint: "list at most one route from each host to each other host")
    }
    var hostIndex: [String: Int] = [:]
    for (i, host) in hosts.enumerated() { hostIndex[host.name] = i }
    var linkIndex: [String: Int] = [:]
    for (i, link) in links.enumerated() { linkIndex[link.name] = i }
    var routes: [(from: Int, to: Int, links: [Int])] = []
    routes.reserveCapacity(routeNodes.count)
    var routed: [Int: Int] = [:]
    var hops = 0
    for (i, node) in routeNodes.enumerated() {
      var item = try ConfigReader(node, path: reader.keyPath("routes.\(i)"))
      let from = try item.string("from")
      let to = try item.string("to")
      guard let f = hostIndex[from] else { throw item.error("from", "no host '\(from)'") }
      guard let t = hostIndex[to] else { throw item.error("to", "no host '\(to)'") }
      guard f != t else {
        throw item.error(
          "to", "a route from '\(from)' to itself", hint: "a host reaches itself without links; remove the route")
      }
      if let first = routed[f * hosts.count + t] {
        throw item.error(
          "to", "a second route from '\(from)' to '\(to)' (the first is routes.\(first))", hint: "keep one of the two")
      }
      guard let via = item.node("via")?.items else { throw item.error("via", "expected the list of links of the path") }
      guard via.count <= links.count else {
        throw item.error("via", "a path of \(via.count) links is longer than the \(links.count) links there are")
      }
      hops += via.count
      guard hops <= maximumRouteHops else {
        throw item.error(
          "via", "the routes list more than \(maximumRouteHops) links in all",
          hint: "list routes only for the pairs whose path is not the shortest one")
      }
      var path: [Int] = []
      path.reserveCapacity(via.count)
      var at = f
      for hop in via {
        guard let text = hop.scalarText, let l = linkIndex[text] else {
          throw ConfigError(
            location: hop.location, keyPath: item.keyPath("via"), message: "\(hop.kindDescription) is not a link")
        }
        guard let next = ExplicitTopology.nodeIndex(other: at, of: links[l], index: nodeIndex) else {
          throw ConfigError(
            location: hop.location, keyPath: item.keyPath("via"),
            message: "link '\(text)' does not start at '\(nodes[at])'")
        }
        at = next
        path.append(l)
      }
      guard at == t else { throw item.error("via", "the path ends at '\(nodes[at])', not at '\(to)'") }
      try item.finish()
      routes.append((f, t, path))
      routed[f * hosts.count + t] = i
    }
    let topology = ExplicitTopology(hosts: hosts, switches: switches, links: links, routes: routes)
    // Every host must reach every other, through switches or by a listed route.
    if let (a, b) = topology.unreachablePair(routed: { routed[$0 * hosts.count + $1] != nil }) {
      throw reader.error("links", "no path from host '\(hosts[a].name)' to '\(hosts[b].name)' through switches")
    }
    return topology
  }
}
