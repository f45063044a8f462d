import SimKernel
import SimPlatform
import Testing

@testable import SimHDFS

/// Re-replication placement and sources, volumes and dead-node detection, each against what the
/// NameNode and the DataNodes do (docs/models/hdfs.md).
@Suite struct HDFSPlacementTests {
  /// The cluster after `seconds` with its faults, as runHDFS runs it, for `body`.
  func afterRun<T>(_ p: HDFSParameters, seconds: Int64, seed: UInt64 = 1, _ body: (HDFSCluster) throws -> T) rethrows
    -> T
  {
    let simulator = Simulator()
    let platform = Platform(spec: p.platform, simulator: simulator)
    let streams = RandomStreams(experimentSeed: seed)
    let injector = FaultInjector(faults: p.faults, platform: platform, simulator: simulator, streams: streams)
    let cluster = HDFSCluster(
      parameters: p, platform: platform, simulator: simulator,
      context: RunContext(duration: .seconds(seconds), streams: streams))
    simulator.run(until: .seconds(seconds))
    return try withExtendedLifetime((simulator, platform, injector)) { try body(cluster) }
  }

  // 3 racks of 4 hosts (hdfsParameters): DataNodes 0-2 on rack 0 (the NameNode is its first
  // host), 3-6 on rack 1, 7-10 on rack 2.

  /// Two replicas left on different racks: chooseTargetInOrder with newBlock false (chosen nodes
  /// given) puts the third on the writer's rack, and the writer of a reconstruction is its
  /// source (a new block's pipeline puts it on the second replica's rack).
  @Test func aThirdReplicaNextToTwoOnDifferentRacksGoesToTheSourcesRack() {
    withCluster(hdfsParameters()) { c in
      for source: Int32 in [0, 3] {
        for _ in 0..<200 {
          let t = c.reconstructionTargets(1, existing: [0, 3], excluding: [], source: source)
          #expect(t.count == 1 && t[0] != 0 && t[0] != 3)
          #expect(c.rack(t[0]) == c.rack(source), "source \(source): target \(t[0])")
        }
      }
      // Without a writer, chooseTarget takes the first chosen node as the writer.
      for _ in 0..<200 {
        let t = c.place(replicas: 1, existing: [0, 3], writer: -1)
        #expect(c.rack(t[0]) == 0)
      }
    }
  }

  /// Two replicas left on one rack: the third on another rack, any of its live nodes alike: rack 0
  /// has 3 DataNodes and rack 2 has 4, so 3/7 of the draws go to rack 0.
  @Test func aThirdReplicaNextToTwoOnOneRackGoesToAnotherRackUniformly() {
    withCluster(hdfsParameters()) { c in
      var onRack0 = 0
      let draws = 2000
      for _ in 0..<draws {
        let t = c.reconstructionTargets(1, existing: [3, 4], excluding: [], source: 4)
        #expect(c.rack(t[0]) != 1)
        if c.rack(t[0]) == 0 { onRack0 += 1 }
      }
      let share = Double(onRack0) / Double(draws)
      #expect(abs(share - 3.0 / 7.0) < 0.04, "share on rack 0: \(share)")
    }
  }

  /// One replica left and two to make: the first on another rack than the replica, the second
  /// (two chosen, on different racks, newBlock false) on the source's rack.
  @Test func oneReplicaLeftGetsOneRemoteAndOneOnItsOwnRack() {
    withCluster(hdfsParameters()) { c in
      for _ in 0..<200 {
        let t = c.reconstructionTargets(2, existing: [5], excluding: [], source: 5)
        #expect(t.count == 2 && !t.contains(5) && t[0] != t[1])
        #expect(c.rack(t[0]) != 1 && c.rack(t[1]) == 1, "targets \(t)")
      }
    }
  }

  /// BlockManager.chooseSourceDatanodes: the first eligible replica, then each later one in its
  /// place on a coin flip (1/4, 1/4, 1/2 for three); a DataNode with max_streams copies queued
  /// is skipped, unless the block has a single replica left (then up to the hard limit).
  @Test func theSourceIsTheFirstEligibleReplicaThenEachLaterOneOnACoinFlip() {
    var p = hdfsParameters()
    p.preloadFiles = 1
    p.preloadFileSize = .constant(1_048_576)  // one block
    withCluster(p) { c in
      let replicas = c.blocks[0].replicas
      #expect(replicas.count == 3)
      func shares(_ draws: Int = 8000) -> [Int32: Double] {
        var n: [Int32: Int] = [:]
        for _ in 0..<draws { if let s = c.chooseSource(0) { n[s, default: 0] += 1 } }
        return n.mapValues { Double($0) / Double(draws) }
      }
      let all = shares()
      for (k, expected) in [0.25, 0.25, 0.5].enumerated() {
        #expect(abs((all[replicas[k]] ?? 0) - expected) < 0.03, "replica \(k): \(all[replicas[k]] ?? 0)")
      }
      c.streams[Int(replicas[0])] = p.maxStreams
      let busy = shares()
      #expect(busy[replicas[0]] == nil)
      #expect(abs((busy[replicas[1]] ?? 0) - 0.5) < 0.03)
      c.blocks[0].replicas = [replicas[0]]  // the last replica: the hard limit applies
      #expect(c.chooseSource(0) == replicas[0])
      c.streams[Int(replicas[0])] = p.maxStreamsHardLimit
      #expect(c.chooseSource(0) == nil)
    }
  }

  /// A DataNode of 6 racks of 5 dies: a third of its blocks had it as first replica (the other
  /// two together on a remote rack: the new one goes to any other rack, its own 4 of 24 nodes),
  /// two thirds as second or third (the survivors on two racks: the new one on the source's rack,
  /// its own half the time), so about 1/3 x 1/6 + 2/3 x 1/2 = 0.39 of the new replicas land on
  /// its rack (0.72 with a new block's rule). Every block gets exactly its 3 replicas back, and
  /// the blocks it did not hold are untouched.
  @Test func aDeadNodesBlocksGetTheirNewReplicasAsTheNameNodePlacesThem() {
    var p = hdfsParameters(racks: 6, perRack: 5, faults: [.hostCrash(at: .seconds(5), host: 7, duration: nil)])
    p.preloadFiles = 100
    // No stream limits: else the dead node's 4 rack-mates, sources of two thirds of its blocks,
    // are soon busy and the other survivor (on another rack) is the source more often.
    (p.maxStreams, p.maxStreamsHardLimit) = (1000, 1000)
    let dead: Int32 = 6
    let before = withCluster(p) { c in c.blocks.map(\.replicas) }
    afterRun(p, seconds: 600) { c in
      #expect(c.dead[Int(dead)])
      #expect(c.blocks.count == before.count, "no block created")
      var held = 0
      var onOwnRack = 0
      for (b, old) in before.enumerated() {
        let now = c.blocks[b].replicas
        #expect(now.count == 3 && Set(now).count == 3, "block \(b): \(now)")
        if old.contains(dead) {
          held += 1
          let added = Set(now).subtracting(old)
          #expect(added.count == 1 && Set(old).subtracting(now) == [dead])
          if let new = added.first, c.rack(new) == c.rack(dead) { onOwnRack += 1 }
        } else {
          #expect(Set(now) == Set(old), "a block the dead node did not hold keeps its replicas")
        }
      }
      let share = Double(onOwnRack) / Double(held)
      #expect(held > 50)
      #expect(share > 0.25 && share < 0.55, "\(onOwnRack) of \(held) new replicas on the dead node's rack")
    }
  }

  /// With 5-host racks and the data per DataNode fixed (4 GiB written by each, 12 GiB stored),
  /// re-replicating a dead node's data keeps getting faster with more racks, and never beats its
  /// bytes over the other DataNodes' disk write bandwidth.
  @Test func recoveryWithFiveHostRacksKeepsFallingAndNeverBeatsTheDisks() throws {
    var last = Double.infinity
    for racks in [2, 4, 8] {
      var p = hdfsParameters(racks: racks, perRack: 5, faults: [.hostCrash(at: .seconds(5), host: 2, duration: nil)])
      p.preloadFiles = 4 * p.datanodes
      let bytes = withCluster(p) { c in c.stored[1].keys.reduce(0.0) { $0 + c.blocks[Int($1)].size } }
      let m = try runHDFS(p, seconds: 900)
      let seconds = m["hdfs.rereplication_seconds"]!
      let bound = bytes / (Double(p.datanodes - 1) * p.platform.diskWrite)
      #expect(seconds >= bound, "\(racks) racks: \(seconds) s, bound \(bound) s")
      #expect(seconds < last, "\(racks) racks: \(seconds) s, after \(last) s")
      #expect(m["hdfs.blocks_lost"] == 0)
      last = seconds
    }
  }

  /// `platform.disks: 4`: each DataNode puts its replicas on its volumes in turn, so no volume
  /// holds more than one replica more than another.
  @Test func fourDisksHoldADataNodesReplicasEvenly() {
    var p = hdfsParameters()
    p.platform.disks = 4
    p.preloadFiles = 44  // 352 blocks, 1,056 replicas: 96 per DataNode
    withCluster(p) { c in
      for dn in 0..<p.datanodes {
        var counts = [0, 0, 0, 0]
        for volume in c.stored[dn].values { counts[Int(volume)] += 1 }
        #expect(counts.max()! - counts.min()! <= 1, "DataNode \(dn): \(counts)")
        #expect(counts.reduce(0, +) == c.stored[dn].count)
      }
    }
  }

  /// A write-heavy workload bound by the disks (150 MB/s each, links at 10 Gbps) writes faster
  /// with 4 disks a host than with 1: each replica goes to its DataNode's next disk.
  @Test func aDiskBoundWriteRunsFasterWithFourDisks() throws {
    var p = hdfsParameters()
    p.workload = .write
    p.filesPerClient = 2
    let one = try runHDFS(p, seconds: 600)["hdfs.write_throughput_mb"]!
    p.platform.disks = 4
    let four = try runHDFS(p, seconds: 600)["hdfs.write_throughput_mb"]!
    #expect(four > 2.5 * one, "1 disk: \(one) MB/s, 4 disks: \(four) MB/s")
  }

  /// A failed volume takes exactly its replicas: the DataNode keeps those on its other volumes
  /// (and may take new ones there), the lost ones are copied again (to the targets' next volumes,
  /// which stay even), and no block is lost.
  @Test func aFailedVolumeTakesExactlyItsReplicas() {
    var p = hdfsParameters(faults: [.diskFailure(at: .seconds(5), host: 4, disk: 2)])
    p.platform.disks = 4
    p.preloadFiles = 22
    let dn = 3
    let before = withCluster(p) { c in c.stored[dn] }
    let onVolume = before.values.filter { $0 == 2 }.count
    #expect(onVolume > 10)
    afterRun(p, seconds: 300) { c in
      #expect(c.underReplicatedMax == onVolume)
      #expect(!c.stored[dn].values.contains(2))
      for (block, volume) in before where volume != 2 {
        #expect(c.stored[dn][block] == volume, "block \(block) kept on volume \(volume)")
      }
      #expect(c.blocks.allSatisfy { $0.replicas.count == 3 })
      for other in 0..<p.datanodes where other != dn {
        var counts = [0, 0, 0, 0]
        for volume in c.stored[other].values { counts[Int(volume)] += 1 }
        #expect(counts.max()! - counts.min()! <= 1, "DataNode \(other): \(counts)")
      }
    }
  }

  /// HeartbeatManager.Monitor checks every 20 s here (its 5 s looks, past the 15 s recheck), and
  /// a node is dead once its last heartbeat (up to 3 s before the failure) is more than 60 s old:
  /// the delay is 60 - U x 3 + V x 20 s (U, V uniform), 57 to 80 s, 68.5 s on average. 30
  /// DataNodes failing at spread times, in three runs: never outside [57, 80], mean 68.5 +- 2.5.
  @Test func deadNodeDetectionDelaysSpreadOverTheMonitorsCycle() {
    var p = hdfsParameters(racks: 8)
    p.faults = (0..<30).map { i in
      .hostCrash(at: .milliseconds(5_000 + 13_700 * Int64(i)), host: Int32(i + 1), duration: nil)
    }
    var sum = 0.0
    var count = 0
    for seed: UInt64 in 1...3 {
      afterRun(p, seconds: 600, seed: seed) { c in
        #expect(c.detections.count == 30)
        #expect(c.detections.minimum >= 57 && c.detections.maximum <= 80)
        sum += c.detections.sum
        count += c.detections.count
      }
    }
    let mean = sum / Double(count)
    #expect(abs(mean - 68.5) < 2.5, "mean detection delay \(mean) s")
  }

  /// A NameNode restart starts the Monitor's cycle again: back at 12 s with nothing to load,
  /// it checks at 12, 32, ... s and nothing in safe mode (to 42 s). A DataNode failing at 20 s
  /// (last heartbeat after 17 s) is dead at the first check past 80 s: 92 s, 72 s after. One
  /// down since 5 s never registered with the restarted NameNode: its replicas are missing when
  /// safe mode ends, at 42 s.
  @Test func aNameNodeRestartStartsTheHeartbeatCycleAgain() {
    var p = hdfsParameters()
    p.faults = [
      .hostCrash(at: .seconds(5), host: 2, duration: nil),
      .hostCrash(at: .seconds(10), host: 0, duration: .seconds(2)),
      .hostCrash(at: .seconds(20), host: 3, duration: nil),
    ]
    afterRun(p, seconds: 200) { c in
      #expect(c.detections.count == 2)
      #expect(c.detections.minimum == 37)
      #expect(c.detections.maximum == 72)
    }
  }
}
