import SimKernel

/// One fault of the config's `faults:` list.
///
///     faults:
///       - {at: 10m, host: rack1-host3, for: 5m}        # crash, then recover (no 'for': for good)
///       - {at: 1h, rack: rack2, for: 30m}               # rack power loss: all its hosts
///       - {at: 2h, disk: rack1-host2/disk0}             # disk failure: its data is gone
///       - {at: 0s, disk: rack1-host2/disk1, degraded: 1MB/s, for: 1h}   # a slow disk: reads and writes
///       - {at: 0s, disk: rack1-host3/disk0, degraded: {read: 1MB/s}}    # only its reads slow
///       - {at: 20m, link: rack1-uplink, for: 1m}        # a rack uplink (or a host's link: rack1-host3)
///       - {at: 30m, partition: [[rack1], [rack2, rack3-host1]], for: 10m}
///       - {random: hosts, mttf: 30d, mttr: "exp(mean: 1h)", burst: {hosts: 2, probability: 0.3}}
///
/// Host groups are host names, rack names (`rack2`: all its hosts) or `*` (all hosts); a group
/// names at least one host.
///
/// Random faults are bounded so that a run cannot drown in them: an MTTF's mean is at least
/// ``minimumMTTF`` and an MTTR's at least ``minimumMTTR`` (both finite), and all random faults
/// together make at most ``maximumRandomEventRate`` failures and recoveries per simulated second
/// on average (by renewal: 2 x (1 + burst probability x burst hosts) / (mean MTTF + mean MTTR)
/// per host). A burst takes at most the other hosts of a rack.
public enum FaultSpec: Sendable, Equatable {
  case hostCrash(at: SimTime, host: Int32, duration: SimTime?)
  case rackPowerLoss(at: SimTime, rack: Int, duration: SimTime?)
  case diskFailure(at: SimTime, host: Int32, disk: Int)
  /// A disk slowed to `read`/`write` bytes per second (nil: that side unchanged), keeping its data.
  case diskDegraded(at: SimTime, host: Int32, disk: Int, read: Double?, write: Double?, duration: SimTime?)
  case linkFailure(at: SimTime, link: LinkName, duration: SimTime?)
  case partition(at: SimTime, groups: [[Int32]], duration: SimTime?)
  /// Every host in `hosts` fails after an MTTF draw and recovers after an MTTR draw, repeatedly;
  /// a failure takes down `burstHosts` more hosts of its rack with probability `burstProbability`.
  case random(hosts: [Int32], mttf: Distribution, mttr: Distribution, burstHosts: Int, burstProbability: Double)

  /// Which link a ``FaultSpec/linkFailure(at:link:duration:)`` takes down (both directions).
  public enum LinkName: Sendable, Equatable {
    /// A rack's uplink (rack from 0).
    case uplink(rack: Int)
    /// A host's own link (host index from 0).
    case hostLink(host: Int32)
    /// A link of an explicit topology, by index.
    case named(Int)
  }

  /// The smallest mean time to failure of a random fault: a host that fails more often than
  /// once a second is not a failure study.
  public static let minimumMTTF = SimTime.seconds(1)
  /// The smallest mean time to repair: a millisecond, below any reboot or process restart.
  public static let minimumMTTR = SimTime.milliseconds(1)
  /// The most failures and recoveries random faults may make per simulated second, on average
  /// over all hosts: each makes models re-route, re-replicate or re-elect, and at 100 a second a
  /// simulated day already holds 8.6 million of them.
  public static let maximumRandomEventRate = 100.0

  /// The average number of failures and recoveries per simulated second of the random faults
  /// (a host in two random faults follows the first, as ``FaultInjector`` does).
  public static func randomEventRate(_ faults: [FaultSpec]) -> Double {
    var covered = Set<Int32>()
    var rate = 0.0
    for case .random(let hosts, let mttf, let mttr, let burstHosts, let burstProbability) in faults {
      let fresh = hosts.filter { covered.insert($0).inserted }.count
      let cycle = (mttf.mean ?? .infinity) + (mttr.mean ?? .infinity)
      rate += Double(fresh) * 2 * (1 + burstProbability * Double(burstHosts)) / cycle
    }
    return rate
  }

  /// Reads the `faults:` list against the hosts of `spec`. (A fault after the end of the run is
  /// legal, and the experiment plan warns about it: a sweep over the duration can put it there.)
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
        let mttf = try lifetime(&r, "mttf", minimum: minimumMTTF, baseDirectory: baseDirectory)
        let mttr = try lifetime(&r, "mttr", minimum: minimumMTTR, baseDirectory: baseDirectory)
        var burstHosts = 0
        var burstProbability = 0.0
        if r.has("burst") {
          var b = try r.mapping("burst")
          // A burst takes other hosts of the failing host's rack: at most the rest of its rack.
          let rackOfHost = spec.rackOfHost
          var rackSize: [Int: Int] = [:]
          for rack in rackOfHost { rackSize[rack, default: 0] += 1 }
          let others = (hosts.map { rackSize[rackOfHost[Int($0)]]! }.max() ?? 1) - 1
          guard others >= 1 else {
            throw b.error(nil, "a burst takes other hosts of a failing host's rack, and its racks have one host each")
          }
          burstHosts = try b.int(
            "hosts", range: 1...10_000, help: "more hosts of the same rack that fail with it (at most the rest of it)")
          guard burstHosts <= others else {
            throw b.error(
              "hosts", "a burst of \(burstHosts) more hosts is more than the other \(others) hosts of a rack",
              hint: "give at most \(others)")
          }
          burstProbability = try b.probability("probability", help: "probability that a failure is a burst")
          try b.finish()
        }
        try r.finish()
        faults.append(
          .random(hosts: hosts, mttf: mttf, mttr: mttr, burstHosts: burstHosts, burstProbability: burstProbability))
        let rate = randomEventRate(faults)
        guard rate <= maximumRandomEventRate else {
          throw r.error(
            "mttf",
            "random faults would fail and recover hosts \(Quantity.shortest((rate * 10).rounded() / 10)) times per "
              + "simulated second, more than the \(Int(maximumRandomEventRate)) allowed",
            hint: "lengthen mttf or mttr, or fail fewer hosts")
        }
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
        let degraded = r.has("degraded")
        guard duration == nil || degraded else {
          throw r.error(
            "for", "a failed disk does not come back (its data is gone)",
            hint: "for a disk that slows down and recovers, add degraded: RATE")
        }
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
        guard degraded else {
          faults.append(.diskFailure(at: at, host: Int32(h), disk: d))
          break
        }
        let (read, write) = try degradedRates(&r, spec: spec)
        faults.append(.diskDegraded(at: at, host: Int32(h), disk: d, read: read, write: write, duration: duration))
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
          // A fat-tree's edge switch has k/2 uplinks, and a fatpipe backbone is no resource.
          guard spec.fatTree == nil, spec.cluster?.backboneSharing != .fatpipe else {
            throw r.error(
              "link", "'\(text)' cannot fail on this platform: it is not one link",
              hint: "fail a host's own link (name the host), or use a partition")
          }
          faults.append(.linkFailure(at: at, link: .uplink(rack: rack), duration: duration))
        } else if let h = names.firstIndex(of: text) {
          faults.append(.linkFailure(at: at, link: .hostLink(host: Int32(h)), duration: duration))
        } else {
          throw r.error(
            "link", "no link '\(text)'",
            hint: "links are RACK-uplink (rack1-uplink; a cluster's cabinet1-uplink is its backbone) or a host's own"
              + " link (rack1-host1)"
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
          guard !decoded[g].isEmpty else {
            throw r.error(
              "partition", "group \(g) of the partition is '*', but the other groups name every host",
              hint: "a partition separates groups of hosts; leave some hosts to '*' or drop the group")
          }
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

  /// A degraded disk's rates: `degraded: RATE` (reads and writes) or `degraded: {read: RATE,
  /// write: RATE}` (either or both), each positive and below the disk's own rate.
  static func degradedRates(_ r: inout ConfigReader, spec: PlatformSpec) throws(ConfigError) -> (Double?, Double?) {
    let help = "the degraded disk's rate (below the platform's disk_read / disk_write)"
    if r.node("degraded")?.scalarText != nil {
      let rate = try r.quantity("degraded", .bandwidth, range: PlatformSpec.bandwidthRange, help: help)
      let nominal = min(spec.diskRead, spec.diskWrite)
      guard rate < nominal else {
        throw r.error(
          "degraded", "a degraded disk must be slower than the platform's \(Quantity.shortest(nominal / 1e6))MB/s",
          hint: "give a rate below disk_read and disk_write, e.g. 1MB/s")
      }
      return (rate, rate)
    }
    var m = try r.mapping("degraded", help: help)
    var rates: [Double?] = []
    for (key, nominal) in [("read", spec.diskRead), ("write", spec.diskWrite)] {
      guard m.has(key) else {
        rates.append(nil)
        continue
      }
      let rate = try m.quantity(key, .bandwidth, range: PlatformSpec.bandwidthRange, help: "the degraded \(key) rate")
      guard rate < nominal else {
        throw m.error(
          key, "a degraded disk's \(key) rate must be below the platform's \(Quantity.shortest(nominal / 1e6))MB/s",
          hint: "give a rate below disk_\(key), e.g. 1MB/s")
      }
      rates.append(rate)
    }
    guard rates.contains(where: { $0 != nil }) else {
      throw m.error(
        nil, "degraded needs a rate", hint: "give degraded: 1MB/s, or degraded: {read: 1MB/s, write: 5MB/s}")
    }
    try m.finish()
    return (rates[0], rates[1])
  }

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
    guard !items.isEmpty else {
      throw ConfigError(
        location: node.location, keyPath: keyPath, message: "the group names no host",
        hint: "list hosts (rack1-host1), racks (rack1) or * for every host")
    }
    var hosts: [Int32] = []
    var seen = Set<Int32>()
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
      for h in matched where seen.insert(h).inserted { hosts.append(h) }
    }
    return hosts
  }

  /// A duration (the mean of an exponential) or a distribution of durations, whose mean is
  /// finite and at least `minimum`.
  static func lifetime(_ r: inout ConfigReader, _ key: String, minimum: SimTime, baseDirectory: String?)
    throws(ConfigError)
    -> Distribution
  {
    let distribution: Distribution
    if let text = r.node(key)?.scalarText, let time = try? SimTime(parsing: text) {
      distribution = .exponential(mean: time.seconds)
      do { try distribution.validate(as: .duration) } catch { throw r.error(key, error.message, hint: error.hint) }
    } else {
      distribution = try r.distribution(key, .duration, baseDirectory: baseDirectory)
    }
    guard let mean = distribution.mean else {
      throw r.error(key, "\(key) needs a finite mean", hint: "a Pareto needs shape > 1")
    }
    guard mean >= minimum.seconds else {
      throw r.error(
        key, "the mean \(key), \(Quantity.format(mean, as: .duration)), is less than \(minimum.formatted)",
        hint: "random faults are bounded to keep a run's events finite; use scheduled faults for single events")
    }
    return distribution
  }
}
