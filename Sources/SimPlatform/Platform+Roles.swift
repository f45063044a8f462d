import SimKernel

/// Roles: hosts grouped by what runs on them (brokers, DataNodes, executors, clients), so that
/// utilisation is read where the work is, not averaged with idle hosts.
extension Platform {
  /// Names a group of hosts by what runs on them (`broker`, `datanode`, `executor`, `client`).
  /// A host may have several roles; naming a role again adds the hosts it does not have yet.
  /// The platform's metrics then include, for each role NAME, `role.NAME.cpu`, `role.NAME.disk`
  /// and `role.NAME.host_link` (the mean utilisation of the role's hosts' resources of the class,
  /// as ``utilisation(of:hosts:)`` computes it), `role.NAME.bottleneck` (the class of its busiest
  /// resource) and `role.NAME.bottleneck_utilisation` (that resource's utilisation).
  public func assignRole(_ name: String, hosts ids: [HostID]) {
    guard !ids.isEmpty else { return }
    if let i = roles.firstIndex(where: { $0.name == name }) {
      var seen = Set(roles[i].hosts)
      roles[i].hosts += ids.filter { seen.insert($0).inserted }
    } else {
      var seen = Set<HostID>()
      roles.append((name, ids.filter { seen.insert($0).inserted }))
    }
  }

  /// The hosts of a role (none if no model named it).
  public func hosts(ofRole name: String) -> [HostID] { roles.first { $0.name == name }?.hosts ?? [] }

  /// The time-average utilisation since the last reset of one class of a role's resources: the
  /// mean and the busiest (0 and 0 for a role no model named).
  public func utilisation(of kind: ResourceClass, role name: String) -> (mean: Double, busiest: Double) {
    utilisation(of: kind, hosts: hosts(ofRole: name))
  }

  /// The resource classes a role's bottleneck is named by, with their codes in
  /// `role.NAME.bottleneck`.
  public static let roleClasses: [(kind: ResourceClass, metric: String)] = [
    (.cpu, "cpu"), (.disk, "disk"), (.hostLink, "host_link"),
  ]

  /// Every role's utilisation metrics (see ``assignRole(_:hosts:)``).
  func roleMetrics() -> [(name: String, value: Double)] {
    var out: [(String, Double)] = []
    for role in roles {
      var bottleneck = (code: 0, utilisation: -1.0)
      for (code, entry) in Platform.roleClasses.enumerated() {
        let u = utilisation(of: entry.kind, hosts: role.hosts)
        out.append(("role.\(role.name).\(entry.metric)", u.mean))
        if u.busiest > bottleneck.utilisation { bottleneck = (code, u.busiest) }
      }
      out.append(("role.\(role.name).bottleneck", Double(bottleneck.code)))
      out.append(("role.\(role.name).bottleneck_utilisation", bottleneck.utilisation))
    }
    return out
  }

  /// The catalog entries of the role metrics.
  static let roleCatalog: [MetricInfo] = [
    MetricInfo(
      ["role.*.cpu", "role.*.disk", "role.*.host_link"], .fraction,
      "time-average utilisation of one role's hosts only (broker, datanode, executor, client...): the mean over"
        + " their cores, disks (read and write sides) or link directions"),
    MetricInfo(
      ["role.*.bottleneck"], .category,
      categories: Dictionary(uniqueKeysWithValues: roleClasses.enumerated().map { ($0.offset, $0.element.metric) }),
      "the class of the role's busiest resource (its cores, a disk side or a link direction)"),
    MetricInfo(
      ["role.*.bottleneck_utilisation"], .fraction, "the time-average utilisation of the role's busiest resource"),
  ]
}
