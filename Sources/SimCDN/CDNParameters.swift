import SimKernel
import SimModel
import SimPlatform

/// Regions, edges, objects and the origin of a CDN.
public struct CDNParameters: Sendable {
  public struct Region: Sendable {
    public var name: String
    public var rate: Double
    /// Edges in failover order, with the round-trip latency from the region to each (empty: twice
    /// the platform network's latency between the region's host and the edge's).
    public var edges: [Int]
    public var latency: [SimTime]
    /// The host its clients are on (a platform host index).
    public var host: Int32 = 0
  }

  public struct Edge: Sendable {
    public var name: String
    public var cacheSize: Double
    public var policy: EdgeCache.Policy
    public var ttl: SimTime?
    /// Round trip to the origin; nil: twice the platform's latency between the two hosts.
    public var originLatency: SimTime?
    /// A miss's transfer as size / this (not shared); nil: a transfer over the platform network
    /// from the origin's host to the edge's, sharing links with every other.
    public var originBandwidth: Double?
    /// The host it runs on (a platform host index).
    public var host: Int32 = 0
  }

  /// A cache purge of one edge at a time.
  public struct EdgeEvent: Sendable {
    public var edge: Int
    public var at: SimTime
  }

  public var platform = PlatformSpec()
  public var faults: [FaultSpec] = []
  /// The origin's host (a platform host index).
  public var originHost: Int32 = 0
  public var objects = 10_000
  public var objectSize = Distribution.constant(1_048_576)
  public var zipfExponent = 0.8
  public var churnRate = 0.0
  public var regions: [Region] = []
  public var edges: [Edge] = []
  public var originServers = 64
  public var originService = Distribution.constant(0.001)
  public var flushes: [EdgeEvent] = []

  static let maxEntries = 100
  static let maxEvents = 1000

  static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> CDNParameters {
    var p = CDNParameters()
    p.platform = try PlatformSpec.decode(input)
    p.faults = try FaultSpec.decode(input.faults, spec: p.platform, baseDirectory: input.baseDirectory)
    let hostNames = p.platform.hostNames
    func host(_ item: inout ConfigReader, _ key: String, default index: Int, help: String) throws(ConfigError) -> Int32
    {
      let fallback = hostNames[min(index, hostNames.count - 1)]
      let name = try item.string(key, default: fallback, help: help)
      guard let h = hostNames.firstIndex(of: name) else {
        var hint = "a host of the platform, e.g. \(hostNames[0])"
        if let near = closestMatch(to: name, among: hostNames) { hint = "did you mean '\(near)'? " + hint }
        throw item.error(key, "no host '\(name)'", hint: hint)
      }
      return Int32(h)
    }
    p.objects = try reader.int("objects", default: 10_000, range: 1...1_000_000, help: "objects in the catalogue")
    p.objectSize = try reader.distribution(
      "object_size", .size, default: .constant(1_048_576),
      help: "size of each object, drawn once per object (e.g. 1MiB, lognormal(...)); clamped to 1 B...1 TiB")
    p.zipfExponent = try reader.double(
      "zipf_exponent", default: 0.8, range: 0...5, help: "Zipf popularity exponent (0: uniform)")
    p.churnRate = try reader.quantity(
      "churn_rate", .rate, default: 0, range: 0...10_000,
      help: "new objects per second; each takes popularity rank 1 and the least popular object leaves")
    p.originServers = try reader.int(
      "origin_servers", default: 64, range: 1...100_000, help: "origin requests served at once (a FIFO pool)")
    p.originService = try reader.distribution(
      "origin_service", .duration, default: .constant(0.001), help: "origin time to first byte per request")
    let defaultSize = try reader.quantity(
      "cache_size", .size, default: 1_073_741_824, range: 0...1e18,
      help: "every edge's cache capacity in bytes unless the edge gives its own")
    let defaultPolicy = try reader.choice(
      "policy", ["lru", "lfu", "fifo"], default: "lru", help: "every edge's eviction policy unless it gives its own")
    let edgeItems = try reader.list(
      "edges",
      help:
        "edge PoPs: {name, host, cache_size, policy: lru|lfu|fifo, ttl (Cache-Control max-age, 0: none), origin_latency, origin_bandwidth}"
    )
    guard edgeItems.count <= maxEntries else { throw reader.error("edges", "more than \(maxEntries) edges") }
    for (i, node) in edgeItems.enumerated() {
      var item = try ConfigReader(node, path: reader.keyPath("edges.\(i)"))
      let name = try item.string("name", default: "e\(i + 1)", help: "the edge's name in metrics")
      guard !p.edges.contains(where: { $0.name == name }) else {
        throw item.error("name", "two edges are named '\(name)'")
      }
      let size = try item.quantity(
        "cache_size", .size, default: defaultSize, range: 0...1e18, help: "cache capacity in bytes")
      let policy = EdgeCache.Policy(
        rawValue: try item.choice("policy", ["lru", "lfu", "fifo"], default: defaultPolicy, help: "eviction policy"))!
      let ttl = try item.duration(
        "ttl", default: .zero, help: "Cache-Control max-age: an entry older than this is refetched (0: none)")
      guard ttl <= .seconds(31_536_000) else {
        throw item.error("ttl", "a max-age of \(ttl.formatted) is more than a year", hint: "give at most 365d, or 0")
      }
      let originLatency: SimTime? =
        item.has("origin_latency")
        ? try item.duration(
          "origin_latency", range: .zero...SimTime.seconds(60),
          help: "round trip edge to origin (default: twice the platform's latency between their hosts)") : nil
      let bandwidth: Double? =
        item.has("origin_bandwidth")
        ? try item.quantity(
          "origin_bandwidth", .bandwidth, range: 125e3...1e15,
          help: "a miss's transfer as size / this, not shared (default: a transfer over the platform network)") : nil
      let at = try host(&item, "host", default: i, help: "the edge's host (default: the edges on the first hosts)")
      try item.finish()
      p.edges.append(
        Edge(
          name: name, cacheSize: size, policy: policy, ttl: ttl == .zero ? nil : ttl, originLatency: originLatency,
          originBandwidth: bandwidth, host: at))
    }
    if p.edges.isEmpty {
      p.edges = [
        Edge(
          name: "e1", cacheSize: defaultSize, policy: EdgeCache.Policy(rawValue: defaultPolicy)!, ttl: nil,
          originLatency: nil, originBandwidth: nil, host: 0)
      ]
    }
    p.originHost = try host(
      &reader, "origin_host", default: p.edges.count, help: "the origin's host (default: the host after the edges')")
    let names = p.edges.map(\.name)
    func edgeIndex(_ node: ConfigNode, _ keyPath: String) throws(ConfigError) -> Int {
      guard let text = node.scalarText, let e = names.firstIndex(of: text) else {
        throw ConfigError(
          location: node.location, keyPath: keyPath, message: "'\(node.scalarText ?? "?")' is not an edge",
          hint: "edges are: \(names.joined(separator: ", "))")
      }
      return e
    }
    let regionItems = try reader.list(
      "regions", help: "client regions: {name, host, rate, edges: [failover order], latency: [round trip to each edge]}"
    )
    guard regionItems.count <= maxEntries else { throw reader.error("regions", "more than \(maxEntries) regions") }
    for (i, node) in regionItems.enumerated() {
      var item = try ConfigReader(node, path: reader.keyPath("regions.\(i)"))
      let name = try item.string("name", default: "r\(i + 1)", help: "the region's name in metrics")
      guard !p.regions.contains(where: { $0.name == name }) else {
        throw item.error("name", "two regions are named '\(name)'")
      }
      let rate = try item.quantity(
        "rate", .rate, default: 100, range: 1e-6...1e6, help: "requests per second (Poisson)")
      let edgeNodes = try item.list("edges", help: "edges in failover order (default: all, as listed)")
      var edges: [Int] = []
      for (j, e) in edgeNodes.enumerated() {
        let index = try edgeIndex(e, item.keyPath("edges.\(j)"))
        guard !edges.contains(index) else { throw item.error("edges", "edge '\(names[index])' is listed twice") }
        edges.append(index)
      }
      if edges.isEmpty { edges = Array(p.edges.indices) }
      let latencyNodes = try item.list(
        "latency", help: "round-trip latency to each of its edges (default: twice the platform's latency)")
      var latency: [SimTime] = []
      for (j, l) in latencyNodes.enumerated() {
        guard let text = l.scalarText, let t = try? SimTime(parsing: text), t <= .seconds(60) else {
          throw ConfigError(
            location: l.location, keyPath: item.keyPath("latency.\(j)"), message: "expected a duration up to 60s",
            hint: "latency: [10ms, 40ms]")
        }
        latency.append(t)
      }
      guard latency.isEmpty || latency.count == edges.count else {
        throw item.error(
          "latency", "\(latency.count) latencies for \(edges.count) edges", hint: "give one latency per edge, in order")
      }
      let at = try host(
        &item, "host", default: p.edges.count + 1 + i,
        help: "the host its clients are on (default: the hosts after the origin's)")
      try item.finish()
      p.regions.append(Region(name: name, rate: rate, edges: edges, latency: latency, host: at))
    }
    if p.regions.isEmpty {
      let at = Int32(min(p.edges.count + 1, hostNames.count - 1))
      p.regions = [Region(name: "r1", rate: 100, edges: Array(p.edges.indices), latency: [], host: at)]
    }
    p.flushes = try events(&reader, "flushes", edgeIndex)
    return p
  }

  static func events(
    _ reader: inout ConfigReader, _ key: String, _ edgeIndex: (ConfigNode, String) throws(ConfigError) -> Int
  ) throws(ConfigError) -> [EdgeEvent] {
    let items = try reader.list(
      key, help: "cache purges: {edge, at} (an edge's failure is a platform fault on its host)")
    guard items.count <= maxEvents else { throw reader.error(key, "more than \(maxEvents) entries") }
    var out: [EdgeEvent] = []
    for (i, node) in items.enumerated() {
      var item = try ConfigReader(node, path: reader.keyPath("\(key).\(i)"))
      guard let edgeNode = item.node("edge") else { throw item.error(nil, "needs 'edge'", hint: "edge: e1") }
      let edge = try edgeIndex(edgeNode, item.keyPath("edge"))
      let at = try item.duration("at", help: "when")
      try item.finish()
      out.append(EdgeEvent(edge: edge, at: at))
    }
    return out
  }
}
