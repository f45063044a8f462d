import SimKernel
import SimPlatform
import Testing

@testable import SimHDFS

/// 3 racks of 4 hosts, 10 Gbps: the NameNode on rack1-host1, 11 DataNodes.
func hdfsParameters(racks: Int = 3, perRack: Int = 4, faults: [FaultSpec] = []) -> HDFSParameters {
  var spec = PlatformSpec()
  spec.racks = racks
  spec.hostsPerRack = perRack
  var p = HDFSParameters(platform: spec, faults: faults)
  p.datanodes = racks * perRack - 1
  p.clientHosts = (1...p.datanodes).map { Int32($0) }
  p.workload = .none
  p.recheckInterval = .seconds(15)  // dead after 60 s, to keep the tests short
  return p
}

/// The HDFS a batch job's tests read: 2 racks of 8 hosts at 10 Gbps (the NameNode on the first,
/// 15 workers), `gib` files of 1 GiB preloaded.
func batchInput(gib: Int, faults: [FaultSpec] = []) -> HDFSParameters {
  var spec = PlatformSpec()
  spec.racks = 2
  spec.hostsPerRack = 8
  spec.hostLink = 1.25e9
  var hdfs = HDFSParameters(platform: spec, faults: faults)
  hdfs.datanodes = 15
  hdfs.workload = .none
  hdfs.preloadFiles = gib
  hdfs.preloadFileSize = .constant(1_073_741_824)
  return hdfs
}

func runHDFS(_ p: HDFSParameters, seconds: Int64) throws -> Metrics {
  try HDFSModel.run(p, context: RunContext(duration: .seconds(seconds), streams: RandomStreams(experimentSeed: 1)))
    .metrics
}

/// A cluster at time zero, with the seed runHDFS uses (so the same placement), and the
/// simulator and platform it holds unowned.
func withCluster<T>(_ p: HDFSParameters, _ body: (HDFSCluster) throws -> T) rethrows -> T {
  let simulator = Simulator()
  let platform = Platform(spec: p.platform, simulator: simulator)
  let cluster = HDFSCluster(
    parameters: p, platform: platform, simulator: simulator,
    context: RunContext(duration: .seconds(1), streams: RandomStreams(experimentSeed: 1)))
  return try withExtendedLifetime((simulator, platform)) { try body(cluster) }
}

@Suite struct HDFSTests {

  @Test func theDefaultPolicySpansExactlyTwoRacksAndTheRackFaultTolerantOneThree() {
    for policy in [HDFSParameters.Placement.default, .rackFaultTolerant, .oneRack] {
      var p = hdfsParameters()
      p.placement = policy
      withCluster(p) { c in
        for trial in 0..<300 {
          let writer = Int32(1 + trial % p.datanodes)
          let targets = c.place(replicas: 3, existing: [], writer: writer)
          #expect(targets.count == 3 && Set(targets).count == 3, "never two replicas on one DataNode")
          let racks = Set(targets.map { c.rack($0) })
          switch policy {
          case .default:
            #expect(racks.count == 2)
            #expect(targets[0] == writer - 1, "the first replica on the writer's DataNode")
            #expect(c.rack(targets[1]) == c.rack(targets[2]) && c.rack(targets[1]) != c.rack(targets[0]))
          case .rackFaultTolerant: #expect(racks.count == 3)
          case .oneRack: #expect(racks.count == 1)
          }
        }
      }
    }
  }

  /// Written bytes: every block's size x its replicas, on the disks too.
  @Test func writesConserveBytesThroughThePipeline() throws {
    var p = hdfsParameters()
    p.workload = .write
    p.filesPerClient = 1
    p.fileSize = .constant(300 * 1_048_576)  // 3 blocks: 128 + 128 + 44 MiB
    let m = try runHDFS(p, seconds: 60)
    #expect(m["hdfs.files"] == 11)
    #expect(m["hdfs.blocks_written"] == 33)
    let expected = 11.0 * 300 * 1_048_576 * 3
    #expect(m["hdfs.replica_bytes_written"] == expected)
    #expect(m["platform.disk_bytes"] == expected)
  }

  /// One DataNode dies for good: after the dead interval its blocks are re-replicated until
  /// every block has 3 replicas again; nothing is lost (two replicas survived each block).
  @Test func reReplicationRestoresEveryBlockAndLosesNothing() throws {
    var p = hdfsParameters(faults: [.hostCrash(at: .seconds(5), host: 3, duration: nil)])
    p.preloadFiles = 22
    let m = try runHDFS(p, seconds: 400)
    #expect(m["hdfs.under_replicated_blocks_max"]! > 0)
    #expect(m["hdfs.under_replicated_blocks_end"] == 0)
    #expect(m["hdfs.blocks_lost"] == 0)
    // Dead at the first heartbeat check (every 20 s: the Monitor's 5 s looks past the 15 s
    // recheck) that finds the last heartbeat over 2 x 15 s + 10 x 3 s old: 57 s to 80 s.
    let detection = m["hdfs.detection_seconds"]!
    #expect(detection >= 57 && detection <= 80, "detected after \(detection) s")
    #expect(m["hdfs.detection_delay_mean"] == detection)
  }

  /// Re-replicating one DataNode's data takes at least (its data) / (what the other DataNodes'
  /// disks can write), and with the data per node fixed, twice the DataNodes take about half as long.
  @Test func recoveryIsBoundedByBandwidthAndFallsAsOneOverN() throws {
    func recover(racks: Int) throws -> (seconds: Double, bound: Double) {
      var p = hdfsParameters(racks: racks, faults: [.hostCrash(at: .seconds(5), host: 2, duration: nil)])
      p.preloadFiles = 4 * p.datanodes  // 4 GiB written per DataNode, 12 GiB stored on each
      let m = try runHDFS(p, seconds: 900)
      let perNode = Double(p.preloadFiles) * 1_073_741_824 * 3 / Double(p.datanodes)
      let bound = perNode / (Double(p.datanodes - 1) * p.platform.diskWrite)
      return (m["hdfs.rereplication_seconds"]!, bound)
    }
    let small = try recover(racks: 2)  // 7 DataNodes
    let large = try recover(racks: 4)  // 15 DataNodes
    #expect(small.seconds >= small.bound && large.seconds >= large.bound)
    let ratio = large.seconds / small.seconds
    #expect(ratio > 0.3 && ratio < 0.65, "15 DataNodes: \(large.seconds) s, 7: \(small.seconds) s")
  }

  /// Rack 3 loses power for good: the default policy keeps every block on two racks, so
  /// nothing is lost; with every replica in one rack, the blocks of that rack are.
  @Test func aRackFailureLosesNothingUnderTheDefaultPolicyButDoesInOneRack() throws {
    func lost(_ placement: HDFSParameters.Placement) throws -> Double {
      var p = hdfsParameters(faults: [.rackPowerLoss(at: .seconds(5), rack: 2, duration: nil)])
      p.preloadFiles = 30
      p.placement = placement
      return try runHDFS(p, seconds: 300)["hdfs.blocks_lost"]!
    }
    #expect(try lost(.default) == 0)
    #expect(try lost(.oneRack) > 0)
  }

  /// A failed disk is reported with the next heartbeat, not after the dead-node interval: its
  /// replicas are re-replicated at once.
  @Test func aFailedDiskIsRepairedWithoutWaitingForTheDeadInterval() throws {
    var p = hdfsParameters(faults: [.diskFailure(at: .seconds(5), host: 4, disk: 0)])
    p.preloadFiles = 22
    let m = try runHDFS(p, seconds: 300)
    #expect(m["hdfs.under_replicated_blocks_max"]! > 0)
    #expect(m["hdfs.under_replicated_blocks_end"] == 0)
    #expect(m["hdfs.detection_seconds"] == 0)
    #expect(m["hdfs.blocks_lost"] == 0)
  }

  /// The NameNode's host is down from 0.2 s to 2.2 s (the writes take under a second): nothing
  /// can be created until it is back and has loaded its image, replayed its edits and left safe
  /// mode (30 s), so some file takes over 30 s, against well under a second without the crash.
  @Test func aNameNodeCrashStopsTheNamespaceUntilItHasRestarted() throws {
    var p = hdfsParameters()
    p.workload = .write
    p.filesPerClient = 20  // 11 of the 220 files are caught by the crash: more than 1%
    p.fileSize = .constant(1_048_576)
    let calm = try runHDFS(p, seconds: 60)
    p.faults = [.hostCrash(at: .milliseconds(200), host: 0, duration: .seconds(2))]
    let crashed = try runHDFS(p, seconds: 60)
    #expect(calm["hdfs.file_write_latency_p99"]! < 1)
    let worst = crashed["hdfs.file_write_latency_p99"]!
    #expect(worst > 30, "p99 file write \(worst) s")
    #expect(crashed["hdfs.write_throughput_mb"]! < calm["hdfs.write_throughput_mb"]! / 5)
  }

  /// The three DataNodes holding a block's replicas die: it is lost; any other three, not.
  @Test func killingEveryReplicaOfABlockLosesIt() throws {
    var p = hdfsParameters()
    p.preloadFiles = 1
    p.preloadFileSize = .constant(1_048_576)  // one block
    let holders = withCluster(p) { $0.blocks[0].replicas }
    func run(killing dataNodes: [Int32]) throws -> Double {
      var q = p
      q.faults = dataNodes.map { .hostCrash(at: .seconds(5), host: $0 + 1, duration: nil) }
      return try runHDFS(q, seconds: 200)["hdfs.blocks_lost"]!
    }
    #expect(try run(killing: holders) == 1)
    let others = (0..<Int32(p.datanodes)).filter { !holders.contains($0) }.prefix(3)
    #expect(try run(killing: Array(others)) == 0)
  }
}
