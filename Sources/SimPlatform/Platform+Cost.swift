import SimKernel

/// Cost in money (``CostSpec``): hosts by the hour, provisioned disk by the GB-month and traffic
/// between egress groups by the GB, over the window the other platform statistics cover (from
/// the start of the run, or the last ``resetStatistics()``, to the end).
extension Platform {
  /// With traffic priced, meters every finished transfer between hosts of two egress groups.
  func meterEgress() {
    guard let cost = spec.cost, cost.pricesEgress else { return }
    let groups = cost.groups.count
    egressBytes = Array(repeating: 0, count: groups * groups)
    let groupOfHost = cost.groupOfHost
    fluid.networkMeter = { [unowned self] activity, from, to, bytes in
      func meter(_ from: Int32, _ to: Int32) {
        let (a, b) = (groupOfHost[Int(from)], groupOfHost[Int(to)])
        if a >= 0, b >= 0 { egressBytes[a * groups + b] += bytes }
      }
      if let hops = pipelineHops.removeValue(forKey: activity.slot), hops.generation == activity.generation {
        for k in 1..<hops.hosts.count { meter(hops.hosts[k - 1], hops.hosts[k]) }
      } else {
        meter(from, to)
      }
    }
  }

  /// Says whether `host` is provisioned (billed) from now on: an autoscaled instance is from its
  /// launch to its termination. Every host is provisioned from the start of the run unless a
  /// model says otherwise (before its first event). Saying what already holds does nothing.
  public func setProvisioned(_ host: HostID, _ provisioned: Bool) {
    let h = Int(host.index)
    let now = simulator.now
    if provisioned, provisionedSince[h] == nil {
      provisionedSince[h] = now
    } else if !provisioned, let since = provisionedSince[h] {
      billedBefore[h] += (now - max(since, costWindowStart)).seconds
      provisionedSince[h] = nil
    }
  }

  /// Whether `host` is provisioned now (``setProvisioned(_:_:)``).
  public func isProvisioned(_ host: HostID) -> Bool { provisionedSince[Int(host.index)] != nil }

  /// The hours each host has been provisioned in the cost window.
  func provisionedHours() -> [Double] {
    let now = simulator.now
    return hosts.indices.map { h in
      let open = provisionedSince[h].map { (now - max($0, costWindowStart)).seconds } ?? 0
      return (billedBefore[h] + open) / 3600
    }
  }

  /// The `cost.*` metrics and each role's `role.NAME.cost` (none without a `cost:` section).
  ///
  /// Hosts cost the sum over hosts of their hourly price x the hours they were provisioned in
  /// the window (a host is billed while it exists, up or down, as an instance is: by default the
  /// whole window); disk costs each provisioned host-hour's disks x disk_capacity in GB x the
  /// GB-month price / 730; egress costs each pair of groups' bytes in GB x its price.
  func costMetrics() -> [(name: String, value: Double)] {
    guard let cost = spec.cost else { return [] }
    let hours = (simulator.now - costWindowStart).seconds / 3600
    let hourly = cost.hourlyPrices(hosts: hosts.count)
    let billed = provisionedHours()
    let diskGB = Double(spec.disks) * spec.diskCapacity / CostSpec.bytesPerGB
    let diskPerHostHour = diskGB * cost.diskGBMonth / CostSpec.hoursPerMonth
    let hostHours = billed.reduce(0, +)
    let hostCost = zip(hourly, billed).reduce(0.0) { $0 + $1.0 * $1.1 }
    let diskCost = hostHours * diskPerHostHour
    var egressCost = 0.0
    var egressGB = 0.0
    for (i, bytes) in egressBytes.enumerated() where cost.perGB[i] > 0 {
      egressGB += bytes / CostSpec.bytesPerGB
      egressCost += bytes / CostSpec.bytesPerGB * cost.perGB[i]
    }
    let total = hostCost + diskCost + egressCost
    let perHour = hours > 0 ? total / hours : .nan
    var out: [(String, Double)] = [
      ("cost.hosts", hostCost), ("cost.disk", diskCost), ("cost.egress", egressCost), ("cost.total", total),
      ("cost.per_hour", perHour), ("cost.per_month", perHour * CostSpec.hoursPerMonth),
      ("cost.host_hours", hostHours), ("cost.egress_gb", egressGB),
    ]
    for role in roles {
      let roleCost = role.hosts.reduce(0.0) { $0 + (hourly[Int($1.index)] + diskPerHostHour) * billed[Int($1.index)] }
      out.append(("role.\(role.name).cost", roleCost))
    }
    return out
  }

  /// The catalog entries of the cost metrics.
  static let costCatalog: [MetricInfo] = [
    MetricInfo(
      ["cost.hosts", "cost.disk", "cost.egress", "cost.total"], .level, unit: "¤",
      "money over the run (the platform's statistics window), in the cost: section's currency: hosts x their"
        + " host_hour x hours, provisioned disk GB x disk_gb_month x hours / 730, priced GB between egress groups"
        + " x per_gb, and their sum"),
    MetricInfo(
      ["cost.per_hour", "cost.per_month"], .level, unit: "¤",
      "cost.total / hours of the window, and that x 730 (a month at the run's rate)"),
    MetricInfo(
      ["cost.host_hours"], .level, unit: "host-hours", "hours the hosts were provisioned in the window, summed"),
    MetricInfo(["cost.egress_gb"], .level, unit: "GB", "GB (2^30 B) of finished transfers between priced groups"),
    MetricInfo(
      ["role.*.cost"], .level, unit: "¤", "money over the run for one role's hosts and their disks (not egress)"),
  ]
}
