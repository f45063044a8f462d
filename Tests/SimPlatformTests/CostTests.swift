import SimKernel
import Testing

@testable import SimPlatform

@Suite struct CostTests {
  /// 2 racks of 2 hosts (1 disk of 4 TB each, 125 MB/s links), racks as egress groups a and b,
  /// a GB from a to b priced at 0.01 and from b to a at nothing; rack1-host1 is a `big` host at
  /// 2 an hour, the others 0.5.
  func pricedPlatform() -> (Simulator, Platform) {
    var spec = PlatformSpec()
    spec.racks = 2
    spec.hostsPerRack = 2
    spec.hostLink = 125e6
    var cost = CostSpec()
    cost.hostHour = 0.5
    cost.classes = [CostSpec.HostClass(name: "big", hosts: [0], hostHour: 2)]
    cost.diskGBMonth = 0.1
    cost.groups = ["a", "b"]
    cost.groupOfHost = [0, 0, 1, 1]
    cost.perGB = [0, 0.01, 0, 0]
    spec.cost = cost
    let simulator = Simulator()
    return (simulator, Platform(spec: spec, simulator: simulator))
  }

  func metrics(_ platform: Platform) -> [String: Double] {
    Dictionary(platform.metrics().map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
  }

  /// Over one hour: hosts 2 + 3 x 0.5 = 3.5; disk 4 hosts x 4e12 / 2^30 GB x 0.1 / 730; egress
  /// only the 2 GiB sent from a to b (the 3 GiB back and the 1 GiB inside rack a are free) plus
  /// the pipeline a -> b -> a's first hop (1 GiB; its hop back is free): 3 GB x 0.01.
  @Test func anHourCostsPriceTimesUsageByHand() {
    let (sim, platform) = pricedPlatform()
    let recorder = Recorder()
    let gib = 1_073_741_824.0
    platform.transfer(bytes: 2 * gib, from: HostID(0), to: HostID(2), observer: recorder, tag: 1)
    platform.transfer(bytes: 3 * gib, from: HostID(3), to: HostID(1), observer: recorder, tag: 2)
    platform.transfer(bytes: gib, from: HostID(0), to: HostID(1), observer: recorder, tag: 3)
    platform.pipeline(
      bytes: gib, hosts: [HostID(1), HostID(3), HostID(0)], readDisk: false, writeDisks: false, observer: recorder,
      tag: 4)
    platform.assignRole("big", hosts: [HostID(0)])
    sim.run(until: .seconds(3600))
    #expect(recorder.finished.count == 4)
    let m = metrics(platform)
    let disk = 4 * 4e12 / gib * 0.1 / 730
    #expect(abs(m["cost.hosts"]! - 3.5) < 1e-12)
    #expect(abs(m["cost.disk"]! - disk) < 1e-12)
    #expect(abs(m["cost.egress_gb"]! - 3) < 1e-12)
    #expect(abs(m["cost.egress"]! - 0.03) < 1e-12)
    #expect(abs(m["cost.total"]! - (3.5 + disk + 0.03)) < 1e-12)
    #expect(abs(m["cost.per_hour"]! - m["cost.total"]!) < 1e-12, "one hour")
    #expect(abs(m["cost.per_month"]! - 730 * m["cost.total"]!) < 1e-9)
    #expect(abs(m["cost.host_hours"]! - 4) < 1e-12)
    #expect(abs(m["role.big.cost"]! - (2 + disk / 4)) < 1e-12)
  }

  /// A reset (the end of a warm-up) starts the window afresh: half an hour of hosts, and no
  /// egress from before it.
  @Test func aResetStartsTheCostWindow() {
    let (sim, platform) = pricedPlatform()
    let recorder = Recorder()
    platform.transfer(bytes: 1e9, from: HostID(0), to: HostID(2), observer: recorder, tag: 1)
    sim.run(until: .seconds(1800))
    platform.resetStatistics()
    sim.run(until: .seconds(3600))
    let m = metrics(platform)
    #expect(abs(m["cost.hosts"]! - 1.75) < 1e-12)
    #expect(m["cost.egress"] == 0)
    #expect(abs(m["cost.host_hours"]! - 2) < 1e-12)
  }

  /// A host down is still billed (an instance that crashed is not stopped), and traffic that
  /// failed is not metered.
  @Test func aHostDownIsBilledAndFailedTrafficIsNot() {
    let (sim, platform) = pricedPlatform()
    let recorder = Recorder()
    platform.setHost(HostID(2), down: true)
    platform.transfer(bytes: 1e9, from: HostID(0), to: HostID(2), observer: recorder, tag: 1)
    sim.run(until: .seconds(3600))
    let m = metrics(platform)
    #expect(recorder.failed[1] == .hostDown)
    #expect(abs(m["cost.hosts"]! - 3.5) < 1e-12)
    #expect(m["cost.egress_gb"] == 0)
  }

  /// Hosts are billed only while provisioned: rack2-host2 launched at 30 min, rack1-host2
  /// terminated at 45 min: 2 x 1 + 0.5 x (0.75 + 1 + 0.5) = 3.125 for 3.25 host-hours, and the
  /// disk of those host-hours only; a reset at 15 min leaves 0.75 + 0.5 + 0.75 + 0.5 host-hours.
  @Test func onlyProvisionedHostsAreBilled() {
    for reset in [false, true] {
      let (sim, platform) = pricedPlatform()
      platform.setProvisioned(HostID(3), false)
      platform.setProvisioned(HostID(3), false)
      #expect(!platform.isProvisioned(HostID(3)) && platform.isProvisioned(HostID(0)))
      if reset {
        sim.run(until: .seconds(900))
        platform.resetStatistics()
      }
      sim.run(until: .seconds(1800))
      platform.setProvisioned(HostID(3), true)
      sim.run(until: .seconds(2700))
      platform.setProvisioned(HostID(1), false)
      sim.run(until: .seconds(3600))
      let m = metrics(platform)
      let diskPerHostHour = 4e12 / 1_073_741_824 * 0.1 / 730
      let hostHours = reset ? 2.5 : 3.25
      let hosts = reset ? 2 * 0.75 + 0.5 * (0.5 + 0.75 + 0.5) : 3.125
      #expect(abs(m["cost.host_hours"]! - hostHours) < 1e-12, "reset \(reset)")
      #expect(abs(m["cost.hosts"]! - hosts) < 1e-12, "reset \(reset)")
      #expect(abs(m["cost.disk"]! - hostHours * diskPerHostHour) < 1e-12)
    }
  }

  /// Without a `cost:` section there are no cost metrics at all.
  @Test func unpricedPlatformsReportNoCost() {
    let (sim, platform) = smallPlatform()
    sim.run(until: .seconds(10))
    #expect(!platform.metrics().contains { $0.name.hasPrefix("cost.") || $0.name.hasSuffix(".cost") })
  }
}
