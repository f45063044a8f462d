import SimKernel
import Testing

@testable import SimPlatform

@Suite struct FaultConfigTests {
  func partition(_ groups: [[String]]) throws -> [[Int32]] {
    var spec = PlatformSpec()
    spec.racks = 2
    spec.hostsPerRack = 2
    let node = ConfigNode(
      .sequence([
        .mapping([
          ("at", .scalar("1s")),
          ("partition", ConfigNode(.sequence(groups.map { ConfigNode(.sequence($0.map { .scalar($0) })) }))),
        ])
      ]))
    guard case .partition(_, let decoded, _) = try FaultSpec.decode(node, spec: spec, baseDirectory: nil)[0] else {
      Issue.record("not a partition")
      return []
    }
    return decoded
  }

  /// `*` is the rest: cutting rack1-host1 and rack2-host1 off from `*` leaves them together.
  @Test func aStarGroupIsEveryHostNoOtherGroupNames() throws {
    #expect(try partition([["rack1-host1", "rack2-host1"], ["*"]]) == [[0, 2], [1, 3]])
    #expect(try partition([["*"], ["rack2"]]) == [[0, 1], [2, 3]])
  }

  @Test func aHostInTwoGroupsIsAConfigError() {
    #expect {
      _ = try partition([["rack1"], ["rack1-host2", "rack2"]])
    } throws: { error in
      (error as? ConfigError)?.message.contains("rack1-host2 is in groups 0 and 1") == true
    }
  }

  /// `degraded: RATE` slows both sides; a mapping slows the sides it names; `for` ends it.
  @Test func aDegradedDiskReadsAsRatesAndADuration() throws {
    var spec = PlatformSpec()
    spec.disks = 2
    func decode(_ degraded: ConfigNode, for duration: String? = nil) throws -> FaultSpec {
      var entries: [(String, ConfigNode)] = [
        ("at", .scalar("1s")), ("disk", .scalar("rack1-host2/disk1")), ("degraded", degraded),
      ]
      if let duration { entries.append(("for", .scalar(duration))) }
      return try FaultSpec.decode(ConfigNode(.sequence([.mapping(entries)])), spec: spec, baseDirectory: nil)[0]
    }
    #expect(
      try decode(.scalar("1MB/s"))
        == .diskDegraded(at: .seconds(1), host: 1, disk: 1, read: 1e6, write: 1e6, duration: nil))
    #expect(
      try decode(.mapping([("write", .scalar("8Mbps"))]), for: "1h")
        == .diskDegraded(at: .seconds(1), host: 1, disk: 1, read: nil, write: 1e6, duration: .seconds(3600)))
    #expect {
      _ = try decode(.mapping([("read", .scalar("1MB/s")), ("reads", .scalar("1MB/s"))]))
    } throws: { error in
      (error as? ConfigError)?.keyPath == "faults.0.degraded.reads"
    }
  }
}
