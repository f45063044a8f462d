import SimKernel

/// What the platform costs in money, as the config's top-level `cost:` section prices it:
/// hosts by the hour (by host class), provisioned disk by the GB-month and network traffic
/// between named groups of hosts by the GB.
///
///     cost:
///       host_hour: 0.192              # every host, per hour (an m5.xlarge on demand)
///       host_classes:                 # hosts priced otherwise, first match wins
///         - {name: storage, hosts: [rack1], host_hour: 0.252}
///       disk_gb_month: 0.08           # provisioned disk: disks x disk_capacity per host (EBS gp3)
///       egress:
///         groups: {az-a: [rack1], az-b: [rack2]}
///         prices:
///           - {between: [az-a, az-b], per_gb: 0.01}   # both directions (AWS inter-AZ)
///           - {from: az-a, to: az-b, per_gb: 0.02}    # one direction
///
/// A GB is 2^30 bytes (a GiB), as the clouds bill; a month is 730 hours. Prices are in one
/// currency of the user's choosing, and so are the `cost.*` metrics (unit `¤`). Every price is
/// a number from 0 to 10^9; without a `cost:` section there are no cost metrics.
public struct CostSpec: Sendable, Equatable {
  /// Hours in a billing month (365 x 24 / 12), as AWS and Azure count them.
  public static let hoursPerMonth = 730.0
  /// Bytes in a billed GB (2^30).
  public static let bytesPerGB = 1_073_741_824.0
  /// Egress groups at most: a price is kept for every ordered pair (a million of them).
  public static let maximumGroups = 1000
  /// The range of every price.
  public static let priceRange = 0.0...1e9

  /// A named class of hosts with its own price per host-hour.
  public struct HostClass: Sendable, Equatable {
    public var name: String
    public var hosts: [Int32]
    public var hostHour: Double
  }

  /// The price of a host-hour for hosts of no class.
  public var hostHour = 0.0
  /// Classes in order: a host is priced by the first class that lists it.
  public var classes: [HostClass] = []
  /// The price of a GB-month of provisioned disk.
  public var diskGBMonth = 0.0
  /// The egress groups' names, in order; a host in none is in no group and its traffic is free.
  public var groups: [String] = []
  /// The group (an index into ``groups``) of each host, -1 for none.
  public var groupOfHost: [Int] = []
  /// The price of a GB sent from group i to group j: `perGB[i * groups.count + j]`.
  public var perGB: [Double] = []

  public init() {}

  /// The price per hour of each host (its class's, or ``hostHour``).
  public func hourlyPrices(hosts: Int) -> [Double] {
    var prices = [Double](repeating: hostHour, count: hosts)
    var priced = [Bool](repeating: false, count: hosts)
    for hostClass in classes {
      for h in hostClass.hosts where !priced[Int(h)] {
        prices[Int(h)] = hostClass.hostHour
        priced[Int(h)] = true
      }
    }
    return prices
  }

  /// Whether any traffic is priced (the platform then meters bytes between groups).
  public var pricesEgress: Bool { perGB.contains { $0 > 0 } }

  /// Reads the `cost:` section against the hosts and racks of `spec`; nil when there is none.
  public static func decode(_ node: ConfigNode?, spec: PlatformSpec) throws(ConfigError) -> CostSpec? {
    guard let node, !node.isNull else { return nil }
    var reader = try ConfigReader(node, path: "cost")
    var cost = CostSpec()
    let names = spec.hostNames
    cost.hostHour = try price(&reader, "host_hour", default: 0, help: "price of one host for one hour (every host)")
    for (i, item) in try reader.list("host_classes", help: "classes of hosts with prices of their own").enumerated() {
      var r = try ConfigReader(item, path: "cost.host_classes.\(i)")
      let name = try r.string("name", help: "the class's name (an instance type: m5.xlarge)")
      guard !name.isEmpty else { throw r.error("name", "the class's name is empty") }
      guard !cost.classes.contains(where: { $0.name == name }) else {
        throw r.error("name", "two host classes are named '\(name)'", hint: "give each class a name of its own")
      }
      guard let hosts = r.node("hosts") else {
        throw r.error(nil, "host class '\(name)' lists no hosts", hint: "add e.g. 'hosts: [rack1]' (hosts or racks)")
      }
      let members = try FaultSpec.group(hosts, names: names, spec: spec, keyPath: r.keyPath("hosts"))
      let hourly = try price(&r, "host_hour", help: "price of one host of the class for one hour")
      try r.finish()
      cost.classes.append(HostClass(name: name, hosts: members, hostHour: hourly))
    }
    cost.diskGBMonth = try price(
      &reader, "disk_gb_month", default: 0, help: "price of a GB-month of provisioned disk (disks x disk_capacity)")
    var egress = try reader.mapping("egress", help: "prices of traffic between named groups of hosts")
    var groups = try egress.mapping("groups", help: "named groups of hosts or racks (availability zones, regions)")
    cost.groupOfHost = Array(repeating: -1, count: names.count)
    let entries = groups.node.entries ?? []
    if entries.count > maximumGroups {
      throw egress.error(
        "groups", "\(entries.count) egress groups are more than the \(maximumGroups) a cost section may have",
        hint: "group hosts by zone or region: prices are kept for every pair of groups")
    }
    for entry in entries {
      let name = entry.key
      _ = groups.has(name)
      let members = try FaultSpec.group(entry.value, names: names, spec: spec, keyPath: groups.keyPath(name))
      for h in members {
        if cost.groupOfHost[Int(h)] >= 0 {
          throw groups.error(
            name, "host '\(names[Int(h)])' is in groups '\(cost.groups[cost.groupOfHost[Int(h)]])' and '\(name)'",
            hint: "a host is in one egress group at most")
        }
        cost.groupOfHost[Int(h)] = cost.groups.count
      }
      cost.groups.append(name)
    }
    try groups.finish()
    let g = cost.groups.count
    cost.perGB = Array(repeating: 0, count: g * g)
    let prices = try egress.list("prices", help: "per_gb between two groups (both ways) or from one to another")
    if !prices.isEmpty && g == 0 {
      throw egress.error(
        "prices", "egress prices need groups", hint: "add egress.groups, e.g. {az-a: [rack1], az-b: [rack2]}")
    }
    for (i, item) in prices.enumerated() {
      var r = try ConfigReader(item, path: "cost.egress.prices.\(i)")
      func group(_ r: inout ConfigReader, _ key: String, _ text: String) throws(ConfigError) -> Int {
        guard let index = cost.groups.firstIndex(of: text) else {
          var hint = "groups are: \(cost.groups.joined(separator: ", "))"
          if let near = closestMatch(to: text, among: cost.groups) { hint = "did you mean '\(near)'? " + hint }
          throw r.error(key, "no egress group '\(text)'", hint: hint)
        }
        return index
      }
      var pairs: [(Int, Int)] = []
      if r.has("between") {
        let ends = try r.list("between")
        guard ends.count == 2, let a = ends[0].scalarText, let b = ends[1].scalarText else {
          throw r.error("between", "between names two groups", hint: "e.g. 'between: [az-a, az-b]'")
        }
        let (i, j) = (try group(&r, "between", a), try group(&r, "between", b))
        pairs = [(i, j), (j, i)]
        for key in ["from", "to"] where r.has(key) {
          throw r.error(key, "give either between or from and to", hint: "between prices both directions")
        }
      } else {
        let from = try r.string("from", help: "the sending group")
        let to = try r.string("to", help: "the receiving group")
        pairs = [(try group(&r, "from", from), try group(&r, "to", to))]
      }
      let perGB = try price(&r, "per_gb", help: "price of a GB sent")
      try r.finish()
      for (a, b) in pairs { cost.perGB[a * g + b] = perGB }
    }
    try egress.finish()
    try reader.finish()
    return cost
  }

  static func price(_ reader: inout ConfigReader, _ key: String, default value: Double? = nil, help: String)
    throws(ConfigError) -> Double
  {
    try reader.double(key, default: value, range: priceRange, help: help + " (0 to 1e9, in your currency)")
  }
}
