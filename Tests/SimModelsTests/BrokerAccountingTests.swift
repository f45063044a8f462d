import SimKernel
import SimPlatform
import Testing

@testable import SimModels

/// Broker scenarios whose every fate metric must survive changes to the bookkeeping.
enum AccountingScenarios {
  static let fateMetrics = [
    "broker.records_produced", "broker.records_acked", "broker.records_failed", "broker.records_in_flight",
    "broker.records_acked_lost", "broker.records_acked_unavailable",
  ]
  static let consumerMetrics = ["consumer.records_consumed", "consumer.records_duplicated", "consumer.records_skipped"]

  static func all() -> [(name: String, parameters: BrokerParameters, seconds: Int64)] {
    var out: [(String, BrokerParameters, Int64)] = []
    out.append(
      (
        "acks0-crash",
        brokerParameters(acks: .none, faults: [.hostCrash(at: .seconds(10), host: 0, duration: .seconds(5))]), 20
      ))
    let followersCutOff: [[Int32]] = [[0, 3, 4, 5], [1, 2]]
    let cut: [FaultSpec] = [
      .partition(at: .milliseconds(9_500), groups: followersCutOff, duration: .milliseconds(1_600)),
      .hostCrash(at: .seconds(10), host: 0, duration: .seconds(5)),
    ]
    out.append(("acks1-cut-crash", brokerParameters(acks: .leader, faults: cut), 20))
    out.append(("acksall-cut-crash", brokerParameters(acks: .all, faults: cut), 20))
    out.append(
      (
        "acksall-crash",
        brokerParameters(acks: .all, faults: [.hostCrash(at: .seconds(8), host: 1, duration: .seconds(6))]), 20
      ))
    let isolated: [[Int32]] = [[0, 3], [1, 2, 4, 5]]
    out.append(
      (
        "acks1-isolated",
        brokerParameters(acks: .leader, faults: [.partition(at: .seconds(5), groups: isolated, duration: .seconds(8))]),
        20
      ))
    out.append(
      (
        "acksall-two-down",
        brokerParameters(
          acks: .all,
          faults: [
            .hostCrash(at: .seconds(5), host: 1, duration: nil), .hostCrash(at: .seconds(5), host: 2, duration: nil),
          ]), 25
      ))
    for unclean in [true, false] {
      let followers: [[Int32]] = [[1, 2], [0, 3, 4, 5]]
      var p = brokerParameters(
        acks: .leader, partitions: 1, minISR: 1, unclean: unclean,
        faults: [
          .partition(at: .seconds(5), groups: followers, duration: .milliseconds(5_500)),
          .hostCrash(at: .seconds(10), host: 0, duration: nil),
        ])
      p.coordinationHost = 5
      out.append((unclean ? "unclean" : "clean-offline", p, 20))
    }
    for acks in [BrokerParameters.Acks.none, .leader, .all] {
      // Every broker down at once: what no replica wrote back is gone.
      let crashes: [FaultSpec] = (0..<3).map { .hostCrash(at: .seconds(10), host: $0, duration: .seconds(3)) }
      var p = brokerParameters(acks: acks, faults: crashes)
      p.crashLosesPageCache = true
      p.flushInterval = .seconds(2)
      out.append(("page-cache-acks\(acks.rawValue)", p, 20))
    }
    var groups = brokerParameters(
      acks: .all,
      faults: [
        .hostCrash(at: .milliseconds(9_000), host: 5, duration: .seconds(4)),
        .hostCrash(at: .seconds(12), host: 1, duration: .seconds(3)),
      ])
    groups.consumerGroups = 2
    groups.consumersPerGroup = 2
    groups.autoCommitInterval = .seconds(2)
    groups.consumerSessionTimeout = .seconds(3)
    out.append(("consumer-groups", groups, 20))
    var retained = groups
    retained.retention = .seconds(3)
    retained.retentionCheckInterval = .milliseconds(500)
    out.append(("consumer-groups-retention", retained, 20))
    return out
  }
}

@Suite struct BrokerAccountingTests {
  /// produced, acked, failed, in flight, acked lost, acked unavailable; consumed, duplicated,
  /// skipped (nil: no consumers). Recorded from the code before batches were settled during the
  /// run (commit b65d9ae, which walked every batch ever made at the end): settling must not
  /// change any of them.
  static let recorded: [String: [Int?]] = [
    "acks0-crash": [39860, 39855, 0, 5, 684, 0, nil, nil, nil],
    "acks1-cut-crash": [39860, 39855, 0, 5, 373, 0, nil, nil, nil],
    "acksall-cut-crash": [39860, 39855, 0, 5, 0, 0, nil, nil, nil],
    "acksall-crash": [39860, 39855, 0, 5, 0, 0, nil, nil, nil],
    "acks1-isolated": [39860, 39855, 0, 5, 341, 0, nil, nil, nil],
    "acksall-two-down": [49714, 10059, 19696, 19959, 0, 0, nil, nil, nil],
    "unclean": [39860, 39855, 0, 5, 9847, 0, nil, nil, nil],
    "clean-offline": [39860, 19839, 0, 20021, 0, 19839, nil, nil, nil],
    "page-cache-acks0": [39860, 39855, 0, 5, 9834, 0, nil, nil, nil],
    "page-cache-acks1": [39860, 39855, 0, 5, 3891, 0, nil, nil, nil],
    "page-cache-acksall": [39860, 39855, 0, 5, 3891, 0, nil, nil, nil],
    "consumer-groups": [39860, 39855, 0, 5, 0, 0, 79710, 9760, 0],
    "consumer-groups-retention": [39860, 39855, 0, 5, 0, 0, 73564, 3932, 6146],
  ]

  @Test(arguments: AccountingScenarios.all().map(\.name))
  func theFateOfEveryRecordIsAsRecorded(scenario: String) throws {
    let s = AccountingScenarios.all().first { $0.name == scenario }!
    let m = try runBroker(s.parameters, seconds: s.seconds)
    let names = AccountingScenarios.fateMetrics + AccountingScenarios.consumerMetrics
    let values = names.map { m[$0].map { Int($0) } }
    #expect(
      values == Self.recorded[scenario]!,
      "\(scenario): \(zip(names, values).map { "\($0)=\($1.map(String.init) ?? "nil")" })")
  }

  /// Settlement on and off (every batch kept to the end, as before) give the same run: every
  /// metric and the time series alike.
  @Test(arguments: AccountingScenarios.all().map(\.name))
  func settlingChangesNoResult(scenario: String) throws {
    let s = AccountingScenarios.all().first { $0.name == scenario }!
    func run(settles: Bool) throws -> RunOutput {
      try BrokerModel.run(
        s.parameters,
        context: RunContext(
          duration: .seconds(s.seconds), streams: RandomStreams(experimentSeed: 1),
          timeseriesInterval: .seconds(1)),
        settles: settles)
    }
    let settled = try run(settles: true)
    let kept = try run(settles: false)
    #expect(settled.metrics == kept.metrics, "\(scenario)")
    #expect(settled.timeseries == kept.timeseries, "\(scenario)")
  }
}
