import SimKernel
import Testing

@testable import SimPlatform

/// The documented ranges of the platform and of faults: at their ends a platform still builds
/// (the fluid model's preconditions stay out of reach), past them the config is refused.
@Suite struct PlatformLimitsTests {
  func decode(_ entries: [(String, String)]) throws(ConfigError) -> PlatformSpec {
    try PlatformSpec.decode(.mapping(entries.map { ($0.0, ConfigNode.scalar($0.1)) }))
  }

  @Test func theExtremesOfEveryRangeBuildAPlatformWithFiniteCapacities() throws {
    for entries in [
      [
        ("racks", "2"), ("hosts_per_rack", "10000"), ("host_link", "1PB/s"), ("oversubscription", "0.001"),
        ("disk_read", "1PB/s"), ("disk_write", "1PB/s"), ("cores", "4096"), ("core_speed", "1e12"),
      ],
      [
        ("racks", "1"), ("hosts_per_rack", "1"), ("host_link", "1B/s"), ("oversubscription", "1e6"),
        ("disk_read", "1B/s"), ("disk_write", "1B/s"), ("cores", "1"), ("core_speed", "1e-9"),
      ],
    ] {
      let spec = try decode(entries)
      let platform = Platform(spec: spec, simulator: Simulator())
      for r in 0..<platform.fluid.resourceCount {
        let capacity = platform.fluid.capacity(of: ResourceID(Int32(r)))
        #expect(capacity.isFinite && capacity > 0)
      }
    }
  }

  @Test func pastTheRangesTheKeyIsNamed() {
    for (key, value) in [
      ("disks", "0"), ("host_link", "1e300Gbps"), ("host_link", "1bps"), ("disk_write", "1e300GB/s"),
      ("disk_read", "0B/s"), ("memory", "1KiB"), ("disk_capacity", "2000PiB"), ("disk_latency", "2h"),
      ("host_link_latency", "61m"),
    ] {
      #expect {
        _ = try decode([(key, value)])
      } throws: { error in
        (error as? ConfigError)?.keyPath == "platform.\(key)"
      }
    }
  }

  @Test func aPlatformOfOneExplicitHostGathersFromItself() throws {
    var spec = PlatformSpec()
    spec.explicit = ExplicitTopology(hosts: [.init(name: "solo", rack: "r")], switches: [], links: [], routes: [])
    let simulator = Simulator()
    let platform = Platform(spec: spec, simulator: simulator)
    let recorder = Recorder()
    platform.gather(bytes: 1e6, to: HostID(0), observer: recorder, tag: 1)
    simulator.run()
    #expect(recorder.finished[1] == .zero)
  }

  func faults(_ items: [ConfigNode], spec: PlatformSpec = PlatformSpec()) throws(ConfigError) -> [FaultSpec] {
    try FaultSpec.decode(ConfigNode(.sequence(items)), spec: spec, baseDirectory: nil)
  }

  @Test func theRandomFaultRateIsTheRenewalRate() throws {
    // 8 hosts, a cycle of 1h + 1m, bursts of 2 with probability 0.5: 8 x 2 x 2 / 3660 s.
    let decoded = try faults([
      .mapping([
        ("random", .scalar("hosts")), ("mttf", .scalar("1h")), ("mttr", .scalar("1m")),
        ("burst", .mapping([("hosts", .scalar("2")), ("probability", .scalar("0.5"))])),
      ])
    ])
    #expect(abs(FaultSpec.randomEventRate(decoded) - 32.0 / 3660) < 1e-12)
    // A host in two random faults follows the first: the second adds nothing.
    let twice = try faults([
      .mapping([("random", .scalar("hosts")), ("mttf", .scalar("1h")), ("mttr", .scalar("1m"))]),
      .mapping([("random", .scalar("hosts")), ("mttf", .scalar("1s")), ("mttr", .scalar("1s"))]),
    ])
    #expect(abs(FaultSpec.randomEventRate(twice) - 16.0 / 3660) < 1e-12)
  }

  @Test func randomFaultsPastTheLimitsAreRefused() {
    func refusal(_ mttf: String, _ mttr: String) -> ConfigError? {
      do {
        _ = try faults([.mapping([("random", .scalar("hosts")), ("mttf", .scalar(mttf)), ("mttr", .scalar(mttr))])])
        return nil
      } catch { return error }
    }
    #expect(refusal("1ns", "1h")?.keyPath == "faults.0.mttf")
    #expect(refusal("999ms", "1h")?.keyPath == "faults.0.mttf")
    #expect(refusal("1h", "999us")?.keyPath == "faults.0.mttr")
    #expect(refusal("1h", "pareto(shape: 0.9, scale: 1ms)")?.message == "mttr needs a finite mean")
    // 8 hosts: 2 x 8 / (1s + 1ms) is 16 a second, within the 100 allowed; 1 cycle of 0.1 s is not.
    #expect(refusal("1s", "1ms") == nil)
    #expect(refusal("exp(mean: 1s)", "1ms") == nil)
    #expect(refusal("mixture(0.99 * const(1ms), 0.01 * exp(10s))", "1ms")?.message.contains("less than 1s") == true)
  }

  @Test func aBurstOnRacksOfOneHostIsRefused() {
    var spec = PlatformSpec()
    spec.hostsPerRack = 1
    #expect {
      _ = try faults(
        [
          .mapping([
            ("random", .scalar("hosts")), ("mttf", .scalar("1h")), ("mttr", .scalar("1m")),
            ("burst", .mapping([("hosts", .scalar("1")), ("probability", .scalar("0.5"))])),
          ])
        ], spec: spec)
    } throws: { error in
      (error as? ConfigError)?.message.contains("one host each") == true
    }
  }

  @Test func anExplicitTopologyPastItsCapsIsRefused() {
    let hosts = ConfigNode(
      .sequence((0...ExplicitTopology.maximumHosts).map { .mapping([("name", .scalar("h\($0)"))]) }))
    #expect {
      _ = try PlatformSpec.decode(.mapping([("topology", .scalar("explicit")), ("hosts", hosts)]))
    } throws: { error in
      (error as? ConfigError)?.message == "1001 hosts are more than the 1000 an explicit topology may list"
    }
  }
}
