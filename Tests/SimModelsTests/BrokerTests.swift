import SimKernel
import SimPlatform
import Testing

@testable import SimBroker

/// Small clusters: 3 brokers on rack1's hosts, producers on rack2's, 10 Gbps links.
func brokerParameters(
  acks: BrokerParameters.Acks, partitions: Int = 3, replication: Int = 3, minISR: Int = 2, unclean: Bool = false,
  faults: [FaultSpec] = []
) -> BrokerParameters {
  var spec = PlatformSpec()
  spec.racks = 2
  spec.hostsPerRack = 3
  spec.hostLink = 1.25e9
  var p = BrokerParameters(platform: spec, faults: faults)
  p.partitions = partitions
  p.replicationFactor = replication
  p.minInsyncReplicas = minISR
  p.uncleanLeaderElection = unclean
  p.acks = acks
  p.producers = 2
  p.recordRate = 1000
  p.replicaLagTimeMax = .seconds(2)
  p.sessionTimeout = .seconds(1)
  p.deliveryTimeout = .seconds(10)
  p.requestTimeout = .seconds(2)
  return p
}

func runBroker(_ p: BrokerParameters, seed: UInt64 = 1, seconds: Int64 = 20) throws -> Metrics {
  try BrokerModel.run(
    p, context: RunContext(duration: .seconds(seconds), streams: RandomStreams(experimentSeed: seed))
  ).metrics
}

/// One partition led by broker 0 (also the controller). Its followers are cut off from it and
/// from ZooKeeper (on rack2-host3) until they leave the ISR; the leader then crashes, and the
/// followers come back.
func uncleanScenario(unclean: Bool) -> BrokerParameters {
  let followers: [[Int32]] = [[1, 2], [0, 3, 4, 5]]
  var p = brokerParameters(
    acks: .leader, partitions: 1, minISR: 1, unclean: unclean,
    faults: [
      .partition(at: .seconds(5), groups: followers, duration: .milliseconds(5_500)),
      .hostCrash(at: .seconds(10), host: 0, duration: nil),
    ])
  p.coordinationHost = 5
  return p
}

@Suite struct BrokerTests {
  /// Every produced record is acknowledged (readable, lost or unavailable), failed, or in flight.
  func expectConservation(_ m: Metrics, _ label: String) {
    let produced = m["broker.records_produced"]!
    let accounted = m["broker.records_acked"]! + m["broker.records_failed"]! + m["broker.records_in_flight"]!
    #expect(produced > 0 && produced == accounted, "\(label): produced \(produced), accounted \(accounted)")
    #expect(m["broker.records_acked_lost"]! + m["broker.records_acked_unavailable"]! <= m["broker.records_acked"]!)
  }

  @Test(arguments: [BrokerParameters.Acks.none, .leader, .all])
  func withoutFailuresNothingIsLostAndRecordsAreConserved(acks: BrokerParameters.Acks) throws {
    let m = try runBroker(brokerParameters(acks: acks))
    expectConservation(m, "acks=\(acks.rawValue)")
    #expect(m["broker.records_acked_lost"] == 0)
    #expect(m["broker.records_failed"] == 0)
    #expect(abs(m["broker.produce_throughput_records"]! / 2_000 - 1) < 0.05)
  }

  @Test func latencyGrowsWithTheDurabilityAsked() throws {
    let none = try runBroker(brokerParameters(acks: .none))["broker.produce_latency_p50"]!
    let leader = try runBroker(brokerParameters(acks: .leader))["broker.produce_latency_p50"]!
    let all = try runBroker(brokerParameters(acks: .all))["broker.produce_latency_p50"]!
    #expect(none < leader && leader < all, "p50: acks=0 \(none), acks=1 \(leader), acks=all \(all)")
  }

  /// acks=all, min.insync.replicas=2, replication 3, clean elections: no acknowledged record is
  /// lost when one broker crashes, whichever it is and whatever the seed.
  @Test(arguments: [0, 1, 2])
  func acksAllLosesNothingWhenOneBrokerCrashes(broker: Int32) throws {
    for seed: UInt64 in 1...2 {
      let p = brokerParameters(acks: .all, faults: [.hostCrash(at: .seconds(8), host: broker, duration: .seconds(6))])
      let m = try runBroker(p, seed: seed)
      expectConservation(m, "crash of broker \(broker), seed \(seed)")
      #expect(m["broker.records_acked_lost"] == 0, "crash of broker \(broker), seed \(seed)")
      #expect(m["platform.activities_failed"]! > 0)
    }
  }

  @Test func acksAllLosesNothingWhenOneBrokerIsPartitionedAway() throws {
    // Broker 0 (rack1-host1) cut off from everything else for 10 s.
    let groups: [[Int32]] = [[0], [1, 2, 3, 4, 5]]
    let m = try runBroker(
      brokerParameters(acks: .all, faults: [.partition(at: .seconds(8), groups: groups, duration: .seconds(10))]))
    expectConservation(m, "partition")
    #expect(m["broker.records_acked_lost"] == 0)
  }

  @Test func belowMinInsyncReplicasWritesAreRefusedNotLost() throws {
    // Two of three brokers down for good: ISR falls to 1 < 2.
    let p = brokerParameters(
      acks: .all,
      faults: [
        .hostCrash(at: .seconds(5), host: 1, duration: nil), .hostCrash(at: .seconds(5), host: 2, duration: nil),
      ])
    let m = try runBroker(p, seconds: 25)
    expectConservation(m, "two brokers down")
    #expect(m["broker.records_acked_lost"] == 0)
    #expect(m["broker.records_failed"]! > 0, "writes must be refused and fail after the delivery timeout")
    #expect(m["broker.availability"]! < 0.9)
  }

  /// acks=1 acknowledges once the leader has a batch. Cut the followers off the leader for half
  /// a second (not long enough to leave the ISR), then crash the leader: the follower elected
  /// (cleanly) never had that half second, which had been acknowledged.
  @Test func acksOneLosesAcknowledgedRecordsWhenTheLeaderCrashesBeforeFollowersFetch() throws {
    let followersCutOff: [[Int32]] = [[0, 3, 4, 5], [1, 2]]
    let faults: [FaultSpec] = [
      .partition(at: .milliseconds(9_500), groups: followersCutOff, duration: .milliseconds(1_600)),
      .hostCrash(at: .seconds(10), host: 0, duration: .seconds(5)),
    ]
    let m = try runBroker(brokerParameters(acks: .leader, faults: faults))
    expectConservation(m, "acks=1")
    #expect(m["broker.records_acked_lost"]! > 0)
    // The same with acks=all and min.insync.replicas=2 loses nothing: those writes were never acknowledged.
    let safe = try runBroker(brokerParameters(acks: .all, faults: faults))
    expectConservation(safe, "acks=all")
    #expect(safe["broker.records_acked_lost"] == 0)
  }

  @Test func acksZeroLosesRecordsSentToACrashedLeader() throws {
    let m = try runBroker(
      brokerParameters(acks: .none, faults: [.hostCrash(at: .seconds(10), host: 0, duration: .seconds(5))]))
    expectConservation(m, "acks=0")
    #expect(m["broker.records_acked_lost"]! > 0)
    // No broker round trip (which costs at least a disk write's 5 ms): at most the linger.
    #expect(m["broker.produce_latency_p99"]! <= 0.0051, "acks=0 does not wait for the broker")
  }

  @Test func anUncleanElectionKeepsThePartitionAvailableAndLosesData() throws {
    let m = try runBroker(uncleanScenario(unclean: true))
    expectConservation(m, "unclean")
    #expect(m["broker.records_acked_lost"]! > 0)
    #expect(m["broker.records_acked_unavailable"] == 0)
    #expect(m["broker.unavailable_partition_seconds"]! < 5)
  }

  @Test func withoutUncleanElectionThePartitionStaysOfflineAndLosesNothing() throws {
    let m = try runBroker(uncleanScenario(unclean: false))
    expectConservation(m, "clean")
    #expect(m["broker.records_acked_lost"] == 0)
    #expect(m["broker.unavailable_partition_seconds"]! > 8, "offline from the election at ~11 s to the end at 20 s")
  }

  /// KRaft-style coordination (with the majority of brokers): broker 0, leader of partition 0
  /// and controller, is cut off with one producer. For a session timeout it still leads and
  /// takes that producer's acks=1 writes, which its followers never see; then the majority side
  /// elects a new controller and leader, and when the partition heals broker 0 truncates them.
  /// acks=all writes to it never reach the high watermark (it cannot shrink the ISR): no loss.
  @Test func anIsolatedLeaderLosesItsAcksOneWritesToTheMajoritySide() throws {
    let isolated: [[Int32]] = [[0, 3], [1, 2, 4, 5]]
    let faults: [FaultSpec] = [.partition(at: .seconds(5), groups: isolated, duration: .seconds(8))]
    let leader = try runBroker(brokerParameters(acks: .leader, faults: faults))
    let all = try runBroker(brokerParameters(acks: .all, faults: faults))
    expectConservation(leader, "acks=1")
    expectConservation(all, "acks=all")
    #expect(leader["broker.records_acked_lost"]! > 0)
    #expect(all["broker.records_acked_lost"] == 0)
    // The majority side takes over after the 1 s session timeout: broker 0's one partition was
    // without a working leader for that second.
    let unavailable = all["broker.unavailable_partition_seconds"]!
    #expect(unavailable > 0.9 && unavailable < 1.2, "unavailable partition-seconds: \(unavailable)")
  }

  @Test func theSameSeedGivesTheSameRun() throws {
    let p = brokerParameters(acks: .all, faults: [.hostCrash(at: .seconds(10), host: 1, duration: .seconds(5))])
    #expect(try runBroker(p, seed: 5) == runBroker(p, seed: 5))
    #expect(try runBroker(p, seed: 5) != runBroker(p, seed: 6))
  }
}

@Suite struct ConsumerTests {
  func withConsumers(groups: Int, perGroup: Int = 2, faults: [FaultSpec] = []) -> BrokerParameters {
    var p = brokerParameters(acks: .all, faults: faults)
    p.consumerGroups = groups
    p.consumersPerGroup = perGroup
    p.autoCommitInterval = .seconds(2)
    p.consumerSessionTimeout = .seconds(3)
    return p
  }

  @Test func everyGroupReadsEveryAcknowledgedRecordOnce() throws {
    let m = try runBroker(withConsumers(groups: 2))
    let acked = m["broker.records_acked"]!
    let consumed = m["consumer.records_consumed"]!
    // Two groups each read everything acknowledged, minus what arrived in the last moments.
    #expect(consumed <= 2 * acked && consumed > 2 * acked * 0.99, "consumed \(consumed) of 2 x \(acked)")
    #expect(m["consumer.records_duplicated"] == 0)
    #expect(m["consumer.end_to_end_latency_p50"]! >= m["broker.produce_latency_p50"]!)
  }

  /// A member's host down for less than the session timeout (3 s) rejoins before it is declared
  /// dead: one rebalance (the rejoin, at 6.5 s), not a second when the timeout it set would have
  /// expired (8 s), which rewound the whole group again. Down for longer than the timeout: two,
  /// the expiry (at 8 s) and the rejoin (at 10 s).
  @Test func aMemberThatRejoinsBeforeItsSessionTimesOutCausesOneRebalance() throws {
    func run(down: Int64) throws -> Metrics {
      try runBroker(
        withConsumers(groups: 1, faults: [.hostCrash(at: .milliseconds(5_000), host: 5, duration: .milliseconds(down))])
      )
    }
    let brief = try run(down: 1_500)
    #expect(brief["consumer.rebalances"] == 1)
    let long = try run(down: 5_000)
    #expect(long["consumer.rebalances"] == 2)
    // Each rewind reads again what was read since the last commit (2 s at most at 2,000 records/s,
    // the half of the partitions that member held, for the rejoin; the whole group's for more).
    #expect(brief["consumer.records_duplicated"]! > 0)
    #expect(brief["consumer.records_duplicated"]! <= 2 * 2_000, "\(brief["consumer.records_duplicated"]!)")
    #expect(brief["consumer.records_consumed"]! > brief["broker.records_acked"]! * 0.95)
  }

  @Test func aDeadConsumersPartitionsAreTakenOverFromTheCommittedOffsets() throws {
    // The consumers share the producer hosts (rack2): crash rack2-host3 (host 5), where the
    // second member of the group runs, for good.
    let m = try runBroker(
      withConsumers(groups: 1, faults: [.hostCrash(at: .milliseconds(9_000), host: 5, duration: nil)]))
    #expect(m["consumer.records_duplicated"]! > 0, "records read since the last commit are read again")
    // Delivery survives the outage: the survivor reads (nearly) everything acknowledged.
    #expect(m["consumer.records_consumed"]! > m["broker.records_acked"]! * 0.95)
    #expect(m["consumer.lag_max"]! > 0)
  }
}
