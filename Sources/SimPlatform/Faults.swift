import SimKernel

/// One fault of the config's `faults:` list.
///
///     faults:
///       - {at: 10m, host: rack1-host3, for: 5m}        # crash, then recover (no 'for': for good)
///       - {at: 1h, rack: rack2, for: 30m}               # rack power loss: all its hosts
///       - {at: 2h, disk: rack1-host2/disk0}             # disk failure: its data is gone
///       - {at: 20m, link: rack1-uplink, for: 1m}        # a rack uplink (or a host's link: rack1-host3)
///       - {at: 30m, partition: [[rack1], [rack2, rack3-host1]], for: 10m}
///       - {random: hosts, mttf: 30d, mttr: "exp(mean: 1h)", burst: {hosts: 2, probability: 0.3}}
///
/// Host groups are host names, rack names (`rack2`: all its hosts) or `*` (all hosts).
public enum FaultSpec: Sendable, Equatable {
  case hostCrash(at: SimTime, host: Int32, duration: SimTime?)
  case rackPowerLoss(at: SimTime, rack: Int, duration: SimTime?)
  case diskFailure(at: SimTime, host: Int32, disk: Int)
  case linkFailure(at: SimTime, link: LinkName, duration: SimTime?)
  case partition(at: SimTime, groups: [[Int32]], duration: SimTime?)
  /// Every host in `hosts` fails after an MTTF draw and recovers after an MTTR draw, repeatedly;
  /// a failure takes down `burstHosts` more hosts of its rack with probability `burstProbability`.
  case random(hosts: [Int32], mttf: Distribution, mttr: Distribution, burstHosts: Int, burstProbability: Double)

  public enum LinkName: Sendable, Equatable {
    case uplink(rack: Int)
    case hostLink(host: Int32)
    /// A link of an explicit topology, by index.
    case named(Int)
  }

  /// Reads the `faults:` list against the hosts of `spec`.
  public static func decode(_ node: ConfigNode?, spec: PlatformSpec, baseDirectory: String?) throws(ConfigError)
    -> [FaultSpec]
  {
    guard let node, !node.isNull else { return [] }
    guard let items = node.items else {
      throw ConfigError(
        location: node.location, keyPath: "faults", message: "expected a list of faults, found \(node.kindDescription)")
    }
    let names = spec.hostNames
    var faults: [FaultSpec] = []
    for (i, item) in items.enumerated() {
      var r = try ConfigReader(item, path: "faults.\(i)")
      if r.has("random") {
        _ = try r.choice("random", ["hosts"], help: "what fails at random")
        let hosts =
          r.has("hosts")
          ? try group(r.node("hosts")!, names: names, spec: spec, keyPath: r.keyPath("hosts"))
          : Array(0..<Int32(names.count))
        let mttf = try lifetime(&r, "mttf", baseDirectory: baseDirectory)
        let mttr = try lifetime(&r, "mttr", baseDirectory: baseDirectory)
        var burstHosts = 0
        var burstProbability = 0.0
        if r.has("burst") {
          var b = try r.mapping("burst")
          burstHosts = try b.int("hosts", range: 1...10_000, help: "more hosts of the same rack that fail with it")
          burstProbability = try b.probability("probability", help: "probability that a failure is a burst")
          try b.finish()
        }
        try r.finish()
        faults.append(
          .random(hosts: hosts, mttf: mttf, mttr: mttr, burstHosts: burstHosts, burstProbability: burstProbability))
        continue
      }
      let at = try r.duration("at", help: "when the fault happens")
      let duration: SimTime? = r.has("for") ? try r.duration("for", help: "how long it lasts (absent: for good)") : nil
      let kinds = ["host", "rack", "disk", "link", "partition"].filter { r.has($0) }
      guard kinds.count == 1 else {
        throw r.error(
          kinds.count > 1 ? kinds[1] : nil,
          kinds.isEmpty
            ? "a fault needs one of host, rack, disk, link, partition or random"
            : "a fault is one of host, rack, disk, link, partition")
      }
      switch kinds[0] {
      case "host":
        faults.append(.hostCrash(at: at, host: try host(&r, "host", names: names), duration: duration))
      case "rack":
        let text = try r.string("rack")
        guard let rack = rackIndex(text, spec: spec) else {
          throw r.error("rack", "no rack '\(text)'", hint: "racks are \(spec.rackNames.joined(separator: ", "))")
        }
        faults.append(.rackPowerLoss(at: at, rack: rack, duration: duration))
      case "disk":
        guard duration == nil else { throw r.error("for", "a failed disk does not come back (its data is gone)") }
        let text = try r.string("disk")
        let parts = text.split(separator: "/")
        guard parts.count == 2, let h = names.firstIndex(of: String(parts[0])), parts[1].hasPrefix("disk"),
          let d = Int(parts[1].dropFirst(4)), d >= 0, d < spec.disks
        else {
          throw r.error(
            "disk", "no disk '\(text)'",
            hint:
              "disks are \(spec.disks <= 1 ? "HOST/disk0" : "HOST/disk0 ... HOST/disk\(spec.disks - 1)"), e.g. rack1-host1/disk0"
          )
        }
        faults.append(.diskFailure(at: at, host: Int32(h), disk: d))
      case "link":
        let text = try r.string("link")
        if let explicit = spec.explicit {
          guard let index = explicit.links.firstIndex(where: { $0.name == text }) else {
            var hint = "links are named in platform.links"
            if let near = closestMatch(to: text, among: explicit.links.map(\.name)) {
              hint = "did you mean '\(near)'? " + hint
            }
            throw r.error("link", "no link '\(text)'", hint: hint)
          }
          faults.append(.linkFailure(at: at, link: .named(index), duration: duration))
        } else if text.hasSuffix("-uplink"), let rack = rackIndex(String(text.dropLast(7)), spec: spec) {
          faults.append(.linkFailure(at: at, link: .uplink(rack: rack), duration: duration))
        } else if let h = names.firstIndex(of: text) {
          faults.append(.linkFailure(at: at, link: .hostLink(host: Int32(h)), duration: duration))
        } else {
          throw r.error(
            "link", "no link '\(text)'", hint: "links are RACK-uplink (rack1-uplink) or a host's own link (rack1-host1)"
          )
        }
      default:
        guard let groupsNode = r.node("partition"), let groups = groupsNode.items, groups.count >= 2 else {
          throw r.error(
            "partition", "a partition is a list of at least two groups of hosts",
            hint: "e.g. partition: [[rack1], [rack2]]")
        }
        var decoded: [[Int32]] = []
        for (g, group) in groups.enumerated() {
          decoded.append(try Self.group(group, names: names, spec: spec, keyPath: r.keyPath("partition.\(g)")))
        }
        // `*` is every host no other group names; a host named in two groups is a mistake.
        let star = groups.map { group in (group.items ?? [group]).contains { $0.scalarText == "*" } }
        let named = Set(decoded.indices.filter { !star[$0] }.flatMap { decoded[$0] })
        for g in decoded.indices where star[g] {
          decoded[g] = decoded[g].filter { !named.contains($0) }
        }
        var seen: [Int32: Int] = [:]
        for (g, group) in decoded.enumerated() {
          for host in group {
            if let first = seen[host], first != g {
              throw r.error(
                "partition", "\(names[Int(host)]) is in groups \(first) and \(g) of the partition",
                hint: "a host belongs to one group; * stands for every host no other group names")
            }
            seen[host] = g
          }
        }
        faults.append(.partition(at: at, groups: decoded, duration: duration))
      }
      try r.finish()
    }
    return faults
  }

  static func rackIndex(_ text: String, spec: PlatformSpec) -> Int? { spec.rackNames.firstIndex(of: text) }

  /// Reads a host name under `key`; an unknown one is an error with the nearest name.
  public static func host(_ r: inout ConfigReader, _ key: String, names: [String]) throws(ConfigError) -> Int32 {
    let text = try r.string(key)
    guard let index = names.firstIndex(of: text) else {
      var hint = "hosts are named rack1-host1 ... \(names.last ?? "")"
      if let near = closestMatch(to: text, among: names) { hint = "did you mean '\(near)'? " + hint }
      throw r.error(key, "no host '\(text)'", hint: hint)
    }
    return Int32(index)
  }

  /// A group of hosts: a list of host names, rack names and `*`, or one such name.
  public static func group(_ node: ConfigNode, names: [String], spec: PlatformSpec, keyPath: String) throws(ConfigError)
    -> [Int32]
  {
    let items = node.items ?? [node]
    var hosts: [Int32] = []
    for item in items {
      guard let text = item.scalarText else {
        throw ConfigError(
          location: item.location, keyPath: keyPath,
          message: "expected a host or rack name, found \(item.kindDescription)")
      }
      var matched: [Int32] = []
      if text == "*" {
        matched = Array(0..<Int32(names.count))
      } else if let rack = rackIndex(text, spec: spec) {
        let racks = spec.rackOfHost
        matched = racks.indices.filter { racks[$0] == rack }.map { Int32($0) }
      } else if let h = names.firstIndex(of: text) {
        matched = [Int32(h)]
      } else {
        var hint = "a group lists hosts (rack1-host1), racks (rack1) or *"
        if let near = closestMatch(to: text, among: names) { hint = "did you mean '\(near)'? " + hint }
        throw ConfigError(location: item.location, keyPath: keyPath, message: "no host or rack '\(text)'", hint: hint)
      }
      for h in matched where !hosts.contains(h) { hosts.append(h) }
    }
    return hosts
  }

  /// A duration (the mean of an exponential) or a distribution of durations.
  static func lifetime(_ r: inout ConfigReader, _ key: String, baseDirectory: String?) throws(ConfigError)
    -> Distribution
  {
    guard let text = r.node(key)?.scalarText else {
      return try r.distribution(key, .duration, baseDirectory: baseDirectory)
    }
    if let time = try? SimTime(parsing: text) {
      guard time > .zero else { throw r.error(key, "\(key) must be positive") }
      return .exponential(mean: time.seconds)
    }
    return try r.distribution(key, .duration, baseDirectory: baseDirectory)
  }
}
