import SimKernel
import SimModel
import SimPlatform
import Testing

@testable import SimQueueing
@testable import SimTransfer

@Suite struct TransferModelTests {
  func decode(_ yaml: [(String, ConfigNode)], platform: [(String, ConfigNode)], faults: ConfigNode? = nil) throws
    -> TransferParameters
  {
    var reader = try ConfigReader(.mapping(yaml), path: "params")
    let parameters = try TransferModel.decode(
      &reader, input: ModelInput(platform: .mapping(platform), faults: faults))
    try reader.finish()
    return parameters
  }

  let fourHosts: [(String, ConfigNode)] = [
    ("racks", .scalar("2")), ("hosts_per_rack", .scalar("2")), ("host_link", .scalar("1Gbps")),
    ("oversubscription", .scalar("4")),
  ]

  func run(_ p: TransferParameters) throws -> Metrics {
    try TransferModel.run(p, context: RunContext(duration: .seconds(3600), streams: RandomStreams(experimentSeed: 1)))
      .metrics
  }

  @Test func aShuffleOverAnOversubscribedUplinkTakesTheHandComputedTime() throws {
    // 4 hosts, 125 MB/s links, uplinks of 2 x 125 / 4 = 62.5 MB/s. Each host sends 125 MB to the 3
    // others. The 4 cross-rack flows leaving a rack share its uplink: 15.625 MB/s each, so 8 s;
    // plus 100 us of latency (two host links and two uplinks).
    let m = try run(try decode([("workload", .scalar("shuffle")), ("bytes", .scalar("125MB"))], platform: fourHosts))
    #expect(m["transfer.flows"] == 12 && m["transfer.flows_finished"] == 12)
    #expect(abs(m["transfer.completion_time"]! - 8.0001) < 1e-6)
    #expect(m["platform.network_bytes"] == 12 * 125e6)
  }

  @Test func anIncastSharesTheReceiversLink() throws {
    // Three senders into one receiver's 125 MB/s link, uplinks not oversubscribed: 41.7 MB/s
    // each, 3 s for 125 MB, plus the cross-rack latency of the last to arrive.
    var flat = fourHosts
    flat[3] = ("oversubscription", .scalar("1"))
    let m = try run(
      try decode(
        [("workload", .scalar("incast")), ("bytes", .scalar("125MB")), ("target", .scalar("rack1-host1"))],
        platform: flat))
    #expect(m["transfer.flows"] == 3)
    #expect(abs(m["transfer.completion_time"]! - 3.0001) < 1e-6)
    // With 4:1 uplinks the two senders of the other rack share a 62.5 MB/s uplink: 4 s.
    let oversubscribed = try run(
      try decode(
        [("workload", .scalar("incast")), ("bytes", .scalar("125MB")), ("target", .scalar("rack1-host1"))],
        platform: fourHosts))
    #expect(abs(oversubscribed["transfer.completion_time"]! - 4.0001) < 1e-6)
  }

  @Test func aPartitionFailsTheCrossRackTransfers() throws {
    let faults = ConfigNode(
      .sequence([
        .mapping([
          ("at", .scalar("1s")), ("for", .scalar("1h")),
          ("partition", ConfigNode(.sequence([.scalar("rack1"), .scalar("rack2")]))),
        ])
      ]))
    let p = try decode(
      [("workload", .scalar("shuffle")), ("bytes", .scalar("125MB"))], platform: fourHosts, faults: faults)
    let m = try run(p)
    // The 8 cross-rack flows are cut at 1 s; the 4 inside racks finish.
    #expect(m["transfer.flows_failed"] == 8 && m["transfer.flows_finished"] == 4)
    #expect(m["transfer.completion_time"]!.isNaN)
    #expect(m["platform.partition_seconds"]! > 0)
  }

  @Test func platformAndFaultMistakesAreLocatedErrors() throws {
    #expect {
      _ = try decode(
        [("workload", .scalar("incast")), ("target", .scalar("rack1-hots1"))], platform: fourHosts)
    } throws: { error in
      (error as? ConfigError)?.hint?.contains("did you mean 'rack1-host1'") == true
    }
    let badFault = ConfigNode(.sequence([.mapping([("at", .scalar("1s")), ("host", .scalar("rack9-host1"))])]))
    #expect(throws: ConfigError.self) { _ = try decode([], platform: fourHosts, faults: badFault) }
    #expect(throws: ConfigError.self) { _ = try decode([], platform: [("host_link", .scalar("10 parsecs"))]) }
    #expect(throws: ConfigError.self) { _ = try decode([], platform: [("oversubscription", .scalar("0"))]) }
    // A model that does not run on the platform refuses a platform section.
    #expect {
      _ = try AnyModel(QueueingModel.self).decode(.mapping([]), input: ModelInput(platform: .mapping(fourHosts)))
    } throws: { error in
      (error as? ConfigError)?.message.contains("does not use 'platform'") == true
    }
  }
}
