import SimKernel
import Testing

@testable import SimPlatform

/// Clusters and fat-trees: routes computed from the topology, checked against hand-computed
/// link lists, latencies and max-min rates.
@Suite struct NativeTopologyTests {
  /// 125 MB/s host links of 10 us; backbones of 100 MB/s and 30 us; a top backbone of 40 MB/s
  /// and 50 us.
  func cluster(cabinets: Int = 1, hostsPerCabinet: Int = 4, sharing: ClusterTopology.Sharing = .shared)
    -> PlatformSpec
  {
    var spec = PlatformSpec()
    spec.hostLink = 125e6
    spec.hostLinkLatency = .microseconds(10)
    var cluster = ClusterTopology()
    cluster.cabinets = cabinets
    cluster.hostsPerCabinet = hostsPerCabinet
    cluster.backbone = 100e6
    cluster.backboneLatency = .microseconds(30)
    cluster.backboneSharing = sharing
    cluster.topBackbone = 40e6
    cluster.topBackboneLatency = .microseconds(50)
    spec.cluster = cluster
    spec.racks = cabinets
    spec.hostsPerRack = hostsPerCabinet
    return spec
  }

  /// k = 4 (16 hosts): 125 MB/s host links of 10 us, 50 MB/s switch links of 20 us.
  func fatTree() -> PlatformSpec {
    var spec = PlatformSpec()
    spec.hostLink = 125e6
    spec.hostLinkLatency = .microseconds(10)
    var tree = FatTreeTopology()
    tree.k = 4
    tree.switchLink = 50e6
    tree.switchLinkLatency = .microseconds(20)
    spec.fatTree = tree
    return spec
  }

  func names(_ platform: Platform, _ from: Int32, _ to: Int32) -> [String] {
    platform.route(from: HostID(from), to: HostID(to)).resources.map { platform.fluid.name(of: $0) }
  }

  @Test func aClusterRouteCrossesTheBackbonesOfItsCabinets() {
    let platform = Platform(spec: cluster(cabinets: 2, hostsPerCabinet: 2), simulator: Simulator())
    #expect(platform.hostCount == 4)
    #expect(platform.name(of: HostID(3)) == "cabinet2-host2")
    #expect(names(platform, 0, 1) == ["cabinet1-host1/link-up", "cabinet1-backbone", "cabinet1-host2/link-down"])
    #expect(
      names(platform, 0, 3) == [
        "cabinet1-host1/link-up", "cabinet1-backbone", "top-backbone", "cabinet2-backbone", "cabinet2-host2/link-down",
      ])
    // 10 + 30 + 10 us inside a cabinet; 10 + 30 + 50 + 30 + 10 us across.
    #expect(platform.route(from: HostID(0), to: HostID(1)).latency == .microseconds(50))
    #expect(platform.latency(from: HostID(2), to: HostID(1)) == .microseconds(130))
    #expect(platform.rack(of: HostID(2)) == 1)
    #expect(platform.hosts(inRack: 1).map(\.index) == [2, 3])
  }

  @Test func aTransferTakesLatencyPlusSizeOverItsBottleneck() {
    let sim = Simulator()
    let platform = Platform(spec: cluster(cabinets: 2, hostsPerCabinet: 2), simulator: sim)
    let recorder = Recorder()
    // Inside a cabinet the 100 MB/s backbone is the narrowest: 50 MB in 0.5 s, plus 50 us.
    platform.transfer(bytes: 50e6, from: HostID(0), to: HostID(1), observer: recorder, tag: 1)
    sim.run()
    #expect(abs(seconds(recorder.finished[1]) - 0.500_050) < 1e-9)
    // Across cabinets the 40 MB/s top backbone: 40 MB in 1 s, plus 130 us.
    let sim2 = Simulator()
    let platform2 = Platform(spec: cluster(cabinets: 2, hostsPerCabinet: 2), simulator: sim2)
    platform2.transfer(bytes: 40e6, from: HostID(1), to: HostID(2), observer: recorder, tag: 2)
    sim2.run()
    #expect(abs(seconds(recorder.finished[2]) - 1.000_130) < 1e-9)
  }

  @Test func flowsShareASharedBackboneMaxMinAndNotAFatpipe() {
    // Shared: two disjoint pairs meet only on the 100 MB/s backbone, 50 MB/s each: 50 MB in 1 s.
    let sim = Simulator()
    let platform = Platform(spec: cluster(), simulator: sim)
    let recorder = Recorder()
    platform.transfer(bytes: 50e6, from: HostID(0), to: HostID(1), observer: recorder, tag: 1)
    platform.transfer(bytes: 50e6, from: HostID(2), to: HostID(3), observer: recorder, tag: 2)
    sim.run()
    #expect(abs(seconds(recorder.finished[1]) - 1.000_050) < 1e-9)
    #expect(abs(seconds(recorder.finished[2]) - 1.000_050) < 1e-9)

    // Three flows on the backbone: 100/3 MB/s each until the 10 MB one ends at 0.3 s; then the
    // two others have 50 MB/s each: 20 MB - 10 MB done = 10 MB more in 0.2 s (0.5 s), and the
    // 40 MB one has 40 - 10 - 10 = 20 MB left at 100 MB/s alone: 0.7 s. Plus 50 us each.
    let sim2 = Simulator()
    let platform2 = Platform(spec: cluster(), simulator: sim2)
    platform2.transfer(bytes: 10e6, from: HostID(0), to: HostID(1), observer: recorder, tag: 3)
    platform2.transfer(bytes: 20e6, from: HostID(1), to: HostID(2), observer: recorder, tag: 4)
    platform2.transfer(bytes: 40e6, from: HostID(2), to: HostID(3), observer: recorder, tag: 5)
    sim2.run()
    #expect(abs(seconds(recorder.finished[3]) - 0.300_050) < 1e-9)
    #expect(abs(seconds(recorder.finished[4]) - 0.500_050) < 1e-9)
    #expect(abs(seconds(recorder.finished[5]) - 0.700_050) < 1e-9)

    // Fatpipe: the backbone is no resource, each flow is capped at its 100 MB/s: 0.5 s each.
    let sim3 = Simulator()
    let platform3 = Platform(spec: cluster(sharing: .fatpipe), simulator: sim3)
    #expect(names(platform3, 0, 1) == ["cabinet1-host1/link-up", "cabinet1-host2/link-down"])
    platform3.transfer(bytes: 50e6, from: HostID(0), to: HostID(1), observer: recorder, tag: 6)
    platform3.transfer(bytes: 50e6, from: HostID(2), to: HostID(3), observer: recorder, tag: 7)
    sim3.run()
    #expect(abs(seconds(recorder.finished[6]) - 0.500_050) < 1e-9)
    #expect(abs(seconds(recorder.finished[7]) - 0.500_050) < 1e-9)
  }

  @Test func aFatTreeRoutesByDestination() {
    let platform = Platform(spec: fatTree(), simulator: Simulator())
    #expect(platform.hostCount == 16)
    #expect(platform.name(of: HostID(13)) == "pod4-edge1-host2")
    // Host 3 is on edge switch 1 (the second): edge switches are the racks.
    #expect(platform.rack(of: HostID(3)) == 1)
    #expect(platform.spec.rackNames.count == 8)
    #expect(names(platform, 0, 1) == ["pod1-edge1-host1/link-up", "pod1-edge1-host2/link-down"])
    // Same pod: aggregation switch d mod 2 (host 2 -> agg1, host 3 -> agg2).
    #expect(
      names(platform, 0, 2) == [
        "pod1-edge1-host1/link-up", "pod1-edge1->pod1-agg1", "pod1-agg1->pod1-edge2", "pod1-edge2-host1/link-down",
      ])
    #expect(names(platform, 0, 3)[1] == "pod1-edge1->pod1-agg2")
    // Across pods, to host 13: aggregation 13 mod 2 = 1 (agg2), core (13 / 2) mod 2 = 0 of its group.
    #expect(
      names(platform, 0, 13) == [
        "pod1-edge1-host1/link-up", "pod1-edge1->pod1-agg2", "pod1-agg2->core2-1", "core2-1->pod4-agg2",
        "pod4-agg2->pod4-edge1", "pod4-edge1-host2/link-down",
      ])
    // 2 x 10 us of host links and 4 x 20 us of switch links.
    #expect(platform.latency(from: HostID(0), to: HostID(13)) == .microseconds(100))
    #expect(platform.latency(from: HostID(0), to: HostID(2)) == .microseconds(60))
  }

  @Test func fatTreeFlowsShareOnlyTheLinksTheirDestinationsChoose() {
    let sim = Simulator()
    let platform = Platform(spec: fatTree(), simulator: sim)
    let recorder = Recorder()
    // Into host 13 from pods 1 and 2: both come down core2-1 -> pod4-agg2 (50 MB/s), 25 MB/s
    // each: 50 MB in 2 s.
    platform.transfer(bytes: 50e6, from: HostID(0), to: HostID(13), observer: recorder, tag: 1)
    platform.transfer(bytes: 50e6, from: HostID(4), to: HostID(13), observer: recorder, tag: 2)
    // From host 8 to hosts 0 and 1 (another pod): agg1 / core1-1 and agg2 / core2-1, disjoint
    // switch links, so each has its own 50 MB/s (the shared 125 MB/s host link is not the
    // bottleneck): 50 MB in 1 s.
    platform.transfer(bytes: 50e6, from: HostID(8), to: HostID(0), observer: recorder, tag: 3)
    platform.transfer(bytes: 50e6, from: HostID(8), to: HostID(1), observer: recorder, tag: 4)
    sim.run()
    #expect(abs(seconds(recorder.finished[1]) - 2.000_100) < 1e-9)
    #expect(abs(seconds(recorder.finished[2]) - 2.000_100) < 1e-9)
    #expect(abs(seconds(recorder.finished[3]) - 1.000_100) < 1e-9)
    #expect(abs(seconds(recorder.finished[4]) - 1.000_100) < 1e-9)
  }

  func decode(_ entries: [(String, String)]) throws -> PlatformSpec {
    try PlatformSpec.decode(.mapping(entries.map { ($0.0, ConfigNode(.scalar($0.1))) }))
  }

  @Test func clustersAndFatTreesAreReadFromTheConfig() throws {
    let spec = try decode([
      ("topology", "cluster"), ("cabinets", "2"), ("hosts_per_cabinet", "3"), ("host_link", "1GB/s"),
      ("backbone", "4GB/s"), ("backbone_sharing", "fatpipe"), ("top_backbone_latency", "1ms"),
    ])
    #expect(spec.hostNames == (1...2).flatMap { c in (1...3).map { "cabinet\(c)-host\($0)" } })
    #expect(spec.rackNames == ["cabinet1", "cabinet2"])
    #expect(spec.rackOfHost == [0, 0, 0, 1, 1, 1])
    #expect(spec.racks == 2)
    #expect(spec.cluster?.backbone == 4e9)
    #expect(spec.cluster?.backboneSharing == .fatpipe)
    // The top backbone defaults to cabinets x backbone.
    #expect(spec.cluster?.topBackbone == 8e9)
    #expect(spec.cluster?.topBackboneLatency == .milliseconds(1))
    // A one-cabinet cluster's backbone defaults to hosts x host link.
    #expect(try decode([("topology", "cluster"), ("hosts_per_cabinet", "10")]).cluster?.backbone == 10 * 1.25e9)

    let tree = try decode([("topology", "fat_tree"), ("k", "6"), ("switch_link", "40Gbps")])
    #expect(tree.hostNames.count == 54)
    #expect(tree.rackNames.count == 18)
    #expect(tree.rackOfHost.prefix(7) == [0, 0, 0, 1, 1, 1, 2])
    #expect(tree.fatTree?.switchLink == 5e9)
    #expect(tree.hostNames.last == "pod6-edge3-host3")
  }

  @Test func badClustersAndFatTreesAreConfigErrors() {
    func refused(_ entries: [(String, String)], key: String, _ fragment: String) {
      #expect {
        _ = try decode(entries)
      } throws: { error in
        guard let error = error as? ConfigError else { return false }
        return error.keyPath == "platform." + key && (error.message + (error.hint ?? "")).contains(fragment)
      }
    }
    refused([("topology", "fat_tree"), ("k", "5")], key: "k", "k must be even")
    refused([("topology", "fat_tree"), ("k", "74")], key: "k", "2 to 72")
    refused([("topology", "cluster"), ("top_backbone", "1GB/s")], key: "top_backbone", "several cabinets")
    refused([("topology", "cluster"), ("backbone_sharing", "split")], key: "backbone_sharing", "fatpipe")
    refused([("topology", "cluster"), ("racks", "2")], key: "racks", "topology: tree")
    refused([("topology", "fat_tree"), ("backbone", "1GB/s")], key: "backbone", "topology: cluster")
    refused(
      [("topology", "cluster"), ("cabinets", "1000"), ("hosts_per_cabinet", "101")], key: "hosts_per_cabinet",
      "100,000")
  }

  @Test func linkFaultsNameACabinetBackboneButNotAFatTreeUplink() throws {
    func fault(_ link: String, _ spec: PlatformSpec) throws -> [FaultSpec] {
      try FaultSpec.decode(
        ConfigNode(.sequence([.mapping([("at", .scalar("1s")), ("link", .scalar(link))])])), spec: spec,
        baseDirectory: nil)
    }
    #expect(
      try fault("cabinet2-uplink", cluster(cabinets: 2)) == [
        .linkFailure(at: .seconds(1), link: .uplink(rack: 1), duration: nil)
      ])
    #expect(throws: ConfigError.self) { _ = try fault("pod1-edge1-uplink", fatTree()) }
    #expect(throws: ConfigError.self) { _ = try fault("cabinet1-uplink", cluster(sharing: .fatpipe)) }
    // A cabinet's backbone down fails the flows through it.
    let sim = Simulator()
    let platform = Platform(spec: cluster(cabinets: 2, hostsPerCabinet: 2), simulator: sim)
    let recorder = Recorder()
    platform.transfer(bytes: 100e6, from: HostID(0), to: HostID(3), observer: recorder, tag: 1)
    platform.transfer(bytes: 10e6, from: HostID(2), to: HostID(3), observer: recorder, tag: 2)
    platform.setLink(.uplink(rack: 0), down: true)
    sim.run()
    #expect(recorder.failed[1] == .linkDown)
    #expect(abs(seconds(recorder.finished[2]) - 0.100_050) < 1e-9)
  }

  @Test func anAggregatedShuffleChargesEachSideOfAClusterRouteOnce() {
    // Two cabinets of two hosts. Serving from host 0 uses its host link and its cabinet's
    // backbone (100 MB/s): 50 MB from memory in 0.5 s. Gathering into host 3 uses the top
    // backbone (40 MB/s), cabinet 2's backbone and host 3's link: 40 MB in 1 s, plus the route's
    // 130 us.
    let sim = Simulator()
    let platform = Platform(spec: cluster(cabinets: 2, hostsPerCabinet: 2), simulator: sim)
    let recorder = Recorder()
    platform.serve(bytes: 50e6, from: HostID(0), disk: nil, observer: recorder, tag: 1)
    platform.gather(bytes: 40e6, to: HostID(3), observer: recorder, tag: 2)
    sim.run()
    #expect(abs(seconds(recorder.finished[1]) - 0.5) < 1e-9)
    #expect(abs(seconds(recorder.finished[2]) - 1.000_130) < 1e-9)
    // On a fat-tree, gathering into host 13 comes down from a core switch: 50 MB/s switch links.
    let sim2 = Simulator()
    let tree = Platform(spec: fatTree(), simulator: sim2)
    tree.gather(bytes: 50e6, to: HostID(13), observer: recorder, tag: 3)
    tree.serve(bytes: 25e6, from: HostID(13), disk: nil, observer: recorder, tag: 4)
    sim2.run()
    #expect(abs(seconds(recorder.finished[3]) - 1.000_100) < 1e-9)
    #expect(abs(seconds(recorder.finished[4]) - 0.5) < 1e-9)
  }
}
