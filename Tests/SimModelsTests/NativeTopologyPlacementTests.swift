import SimKernel
import SimPlatform
import Testing

@testable import SimHDFS

/// HDFS's racks on the native topologies: a cluster's cabinets, a fat-tree's edge switches.
@Suite struct NativeTopologyPlacementTests {
  func parameters(_ spec: PlatformSpec) -> HDFSParameters {
    var p = HDFSParameters(platform: spec, faults: [])
    p.datanodes = spec.hostNames.count - 1
    p.clientHosts = (1...p.datanodes).map { Int32($0) }
    p.workload = .none
    return p
  }

  @Test func replicasSpanTwoCabinetsOrTwoEdgeSwitches() throws {
    let cluster = try PlatformSpec.decode(
      .mapping([
        ("topology", .scalar("cluster")), ("cabinets", .scalar("3")), ("hosts_per_cabinet", .scalar("4")),
      ]))
    let fatTree = try PlatformSpec.decode(.mapping([("topology", .scalar("fat_tree")), ("k", .scalar("4"))]))
    // DataNode d is host d + 1: a cabinet holds hosts 4c..4c+3, an edge switch hosts 2e, 2e+1.
    for (spec, hostsPerRack) in [(cluster, 4), (fatTree, 2)] {
      let p = parameters(spec)
      withCluster(p) { c in
        for dn in 0..<Int32(p.datanodes) { #expect(c.rack(dn) == Int(dn + 1) / hostsPerRack) }
        for trial in 0..<200 {
          let writer = Int32(1 + trial % p.datanodes)
          let targets = c.place(replicas: 3, existing: [], writer: writer)
          #expect(Set(targets).count == 3 && c.rack(targets[1]) != c.rack(targets[0]))
          // The third replica goes next to the second unless the second's rack has no other
          // DataNode: rack 0 of the fat-tree, whose other host is the NameNode.
          if c.rack(targets[1]) != 0 || hostsPerRack > 2 {
            #expect(c.rack(targets[2]) == c.rack(targets[1]), "\(hostsPerRack): \(targets)")
          }
        }
      }
    }
  }
}
