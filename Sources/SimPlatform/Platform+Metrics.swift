import SimKernel

extension Platform {
  /// Starts every platform statistic afresh (the end of a warm-up period).
  public func resetStatistics() {
    let now = simulator.now
    fluid.resetStatistics(at: now)
    for i in hostDown.indices { hostDown[i].reset(at: now) }
    partitioned.reset(at: now)
    costWindowStart = now
    for h in billedBefore.indices { billedBefore[h] = 0 }
    for i in egressBytes.indices { egressBytes[i] = 0 }
  }

  /// The metrics every model on the platform gets, from the last reset to now:
  /// `platform.utilisation.{cpu,disk,host_link,uplink}` (time-average allocated / capacity over
  /// the resources of the class), `platform.network_bytes` (bytes of finished transfers between
  /// two hosts), `platform.disk_bytes`, `platform.activities_failed`,
  /// `platform.host_down_seconds` and `platform.partition_seconds`; then each role's utilisation
  /// (``assignRole(_:hosts:)``).
  public func metrics() -> [(name: String, value: Double)] {
    let now = simulator.now
    var out: [(String, Double)] = []
    for kind in ResourceClass.allCases {
      out.append(("platform.utilisation.\(kind.rawValue)", fluid.utilisation(of: kind, until: now)))
    }
    let networkBytes = fluid.networkCarried - fluid.networkCarriedAtReset
    let diskBytes = hosts.reduce(0.0) { total, host in
      total + (host.diskRead + host.diskWrite).reduce(0.0) { $0 + fluid.carriedSinceReset(by: $1) }
    }
    out.append(("platform.network_bytes", networkBytes))
    out.append(("platform.disk_bytes", diskBytes))
    out.append(("platform.activities_failed", Double(fluid.failedSinceReset)))
    out.append(("platform.host_down_seconds", hostDownSeconds(until: now)))
    out.append(("platform.partition_seconds", partitionSeconds(until: now)))
    // The solver's own work (deterministic): how cost grows with the number of activities.
    out.append(("platform.solves", Double(fluid.solves)))
    out.append(("platform.solver_work", Double(fluid.solverWork)))
    return out + roleMetrics() + costMetrics()
  }
}

extension Platform {
  /// The most utilised resource of a class since the last reset (time-average allocated /
  /// capacity), with its name: where a workload's throughput is limited.
  public func busiest(_ kind: ResourceClass) -> (name: String, utilisation: Double)? {
    fluid.busiest(kind, until: simulator.now)
  }
}

extension Platform {
  /// The time-average utilisation since the last reset of one class of the given hosts' own
  /// resources: `cpu` their cores, `disk` each disk's read and write sides, `hostLink` every
  /// direction of every link touching them (the two directions of a full-duplex link are two
  /// resources); `uplink` none. The mean over those resources and the busiest (0 if none).
  public func utilisation(of kind: ResourceClass, hosts ids: [HostID]) -> (mean: Double, busiest: Double) {
    var total = 0.0
    var busiest = 0.0
    var count = 0
    for id in ids {
      let host = hosts[Int(id.index)]
      let resources: [ResourceID]
      switch kind {
      case .cpu: resources = [host.cpu]
      case .disk: resources = host.diskRead + host.diskWrite
      case .hostLink: resources = host.links
      case .uplink: resources = []
      }
      for r in resources {
        let resource = fluid.resources[Int(r.index)]
        let u = resource.allocated.average(until: simulator.now) / resource.nominal
        total += u
        busiest = max(busiest, u)
        count += 1
      }
    }
    return (count > 0 ? total / Double(count) : 0, busiest)
  }
}

extension FluidModel {
  func busiest(_ kind: ResourceClass, until time: SimTime) -> (name: String, utilisation: Double)? {
    var best: (name: String, utilisation: Double)?
    for resource in resources where resource.kind == kind {
      let u = resource.allocated.average(until: time) / resource.nominal
      if best == nil || u > best!.utilisation { best = (resource.name, u) }
    }
    return best
  }

  /// Starts utilisation and counts afresh at `time`.
  func resetStatistics(at time: SimTime) {
    for r in resources.indices {
      resources[r].allocated.reset(at: time)
      resources[r].carriedAtReset = resources[r].carried
    }
    failedAtReset = failedCount
    networkCarriedAtReset = networkCarried
  }

  /// Time-average utilisation of the resources of one class since the last reset.
  public func utilisation(of kind: ResourceClass, until time: SimTime) -> Double {
    var total = 0.0
    var count = 0
    for resource in resources where resource.kind == kind {
      total += resource.allocated.average(until: time) / resource.nominal
      count += 1
    }
    return count > 0 ? total / Double(count) : 0
  }

  /// Units carried through a resource by activities finished since the last reset.
  public func carriedSinceReset(by resource: ResourceID) -> Double {
    resources[Int(resource.index)].carried - resources[Int(resource.index)].carriedAtReset
  }

  /// Activities that failed since the last statistics reset (the end of the warm-up).
  public var failedSinceReset: Int { failedCount - failedAtReset }
}

extension Platform {
  /// What every model on the platform reports besides its own metrics (``metrics()``, the fault
  /// series, the run's event count).
  public static let metricCatalog: [MetricInfo] =
    [
      MetricInfo(
        [
          "platform.utilisation.cpu", "platform.utilisation.disk", "platform.utilisation.host_link",
          "platform.utilisation.uplink",
        ], .fraction,
        "time-average allocated / capacity over every resource of the class (idle hosts included: role.* gives"
          + " each role's own)"),
      MetricInfo(
        ["platform.network_bytes", "platform.disk_bytes"], .bytes,
        "bytes of finished transfers between hosts, and of disk operations"),
      MetricInfo(["platform.activities_failed"], .count, unit: "activities", "activities ended by a fault"),
      MetricInfo(
        ["platform.host_down_seconds", "platform.partition_seconds"], .duration,
        "host-seconds down, and seconds with a partition in force"),
      MetricInfo(
        ["platform.solves", "platform.solver_work", "simulator.events"], .count,
        "the cost of the run itself (deterministic): max-min solves, their work, events handled"),
      MetricInfo(
        [
          "faults.hosts_down", "faults.disks_failed", "faults.disks_degraded", "faults.links_down", "faults.partitions",
        ],
        .count, "series: what is down, failed, degraded or partitioned at each change"),
    ] + roleCatalog + costCatalog
}
