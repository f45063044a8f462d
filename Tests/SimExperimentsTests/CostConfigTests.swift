import Foundation
import SimExperiments
import SimKernel
import SimModel
import SimModels
import Testing

/// The top-level `cost:` section: every model on the platform turns it into cost metrics, models
/// off the platform refuse it, and a bad price or group is a located error.
@Suite struct CostConfigTests {
  static func plan(_ text: String, _ name: String) throws -> ExperimentPlan {
    let path = writeConfig(text, in: scratchDirectory("cost-\(name)"))
    return try ExperimentPlan(try ExperimentConfig.load(path: path, models: shippedModels))
  }

  /// Each model on the platform, with its default parameters on the default platform (8 hosts)
  /// for 5 s at 1 an hour a host: cost.total is the host-hours (at most 8 x 5 s; a job that ends
  /// sooner stops the clock sooner), and nothing else is priced.
  @Test(arguments: ShippedModels.all.filter(\.usesPlatform).map(\.name))
  func everyPlatformModelReportsItsCost(_ model: String) throws {
    let text = """
      name: cost-\(model)
      model: \(model)
      duration: 5s
      cost: {host_hour: 1}
      """
    let plan = try Self.plan(text, model)
    let m = try plan.execute(plan.runs[0]).metrics
    let hostHours = try #require(m["cost.host_hours"], "\(model) reports no cost")
    #expect(hostHours > 0 && hostHours <= 8 * 5.0 / 3600 * (1 + 1e-12))
    #expect(abs(m["cost.total"]! - hostHours) < 1e-12 && m["cost.egress"] == 0 && m["cost.disk"] == 0)
    let unpriced = try Self.plan(text.replacingOccurrences(of: "cost: {host_hour: 1}", with: ""), model + "-free")
    #expect(try unpriced.execute(unpriced.runs[0]).metrics["cost.total"] == nil)
  }

  /// Sweeping a price sweeps the cost, in proportion.
  @Test func aSweptPriceScalesTheCost() throws {
    let plan = try Self.plan(
      """
      name: cost-sweep
      model: transfer
      duration: 1h
      cost: {host_hour: 1}
      params: {workload: shuffle, bytes: 1GiB}
      sweep:
        cost.host_hour: [1, 3]
      """, "sweep")
    let (one, three) = (try plan.execute(plan.runs[0]).metrics, try plan.execute(plan.runs[1]).metrics)
    #expect(abs(three["cost.hosts"]! - 3 * one["cost.hosts"]!) < 1e-12)
  }

  static let platformModel = """
    name: cost-errors
    model: transfer
    duration: 1h
    platform: {racks: 2, hosts_per_rack: 2}
    params: {workload: shuffle, bytes: 1GiB}

    """

  /// Each bad section, with the line, key and message of its error.
  @Test(arguments: [
    ("cost: {host_hour: -1}", 6, "cost.host_hour", "out of range"),
    ("cost: {host_hours: 1}", 6, "cost.host_hours", "unknown key 'host_hours'"),
    ("cost: {disk_gb_month: 2e9}", 6, "cost.disk_gb_month", "out of range"),
    ("cost:\n  host_classes:\n    - {name: big, host_hour: 1}", 8, "cost.host_classes.0", "lists no hosts"),
    (
      "cost:\n  host_classes:\n    - {name: big, hosts: [rack9], host_hour: 1}", 8, "cost.host_classes.0.hosts",
      "no host or rack 'rack9'"
    ),
    (
      "cost:\n  egress:\n    groups: {a: [rack1], b: [rack1-host2]}", 8, "cost.egress.groups.b",
      "is in groups 'a' and 'b'"
    ),
    ("cost:\n  egress:\n    prices: [{between: [a, b], per_gb: 1}]", 8, "cost.egress.prices", "need groups"),
    (
      "cost:\n  egress:\n    groups: {a: [rack1], b: [rack2]}\n    prices: [{between: [a, c], per_gb: 1}]", 9,
      "cost.egress.prices.0.between", "no egress group 'c'"
    ),
    (
      "cost:\n  egress:\n    groups: {a: [rack1], b: [rack2]}\n    prices: [{from: a, per_gb: 1}]", 9,
      "cost.egress.prices.0", "missing required key 'to'"
    ),
    (
      "cost:\n  egress:\n    groups: {a: [rack1], b: [rack2]}\n    prices: [{between: [a, b], from: a, per_gb: 1}]", 9,
      "cost.egress.prices.0.from", "either between or from and to"
    ),
  ])
  func aBadCostSectionIsALocatedError(_ section: String, line: Int, key: String, message: String) throws {
    let path = writeConfig(
      Self.platformModel + section + "\n", in: scratchDirectory("cost-bad-\(String(section.hashValue, radix: 16))"))
    let error = try #require(loadAndPlan(path).error, "accepted: \(section)")
    #expect(error.location.line == line, "\(error)")
    #expect(error.keyPath == key, "\(error)")
    #expect(error.message.contains(message), "\(error)")
  }

  /// Prices are kept per pair of groups, so the groups are bounded.
  @Test func tooManyEgressGroupsAreRefused() throws {
    let groups = (0..<1001).map { "g\($0): [rack1]" }.joined(separator: ", ")
    let path = writeConfig(
      Self.platformModel + "cost:\n  egress:\n    groups: {\(groups)}\n", in: scratchDirectory("cost-groups"))
    let error = try #require(loadAndPlan(path).error)
    #expect(error.keyPath == "cost.egress.groups" && error.message.contains("more than the 1000"), "\(error)")
  }

  /// A model off the platform has no hosts to price.
  @Test func aModelOffThePlatformRefusesCost() throws {
    let path = writeConfig(
      """
      name: cost-queueing
      model: queueing
      duration: 1h
      cost: {host_hour: 1}
      params: {service: "exp(mean: 1s)", utilisation: 0.5}
      """, in: scratchDirectory("cost-queueing"))
    let error = try #require(loadAndPlan(path).error)
    #expect(error.keyPath == "cost" && error.message.contains("does not use 'cost'"), "\(error)")
    #expect(error.location.line == 4)
  }
}
