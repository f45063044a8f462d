import SimKernel
import Testing

@testable import SimPlatform

@Suite struct PlatformRoleTests {
  /// One 100 MB read at 100 MB/s on host 0 in a 2 s run: host 0's disk read side is busy half
  /// the time and its write side never, so the role of host 0 alone has disk utilisation
  /// (0.5 + 0) / 2 = 0.25 and a disk bottleneck at 0.5, where the platform's mean over the four
  /// hosts' eight disk sides is 0.5 / 8 = 0.0625. A role of idle hosts reads 0 everywhere.
  @Test func aRolesUtilisationCountsOnlyItsHosts() {
    let (sim, platform) = smallPlatform()
    let recorder = Recorder()
    platform.assignRole("reader", hosts: [HostID(0)])
    platform.assignRole("idle", hosts: [HostID(1)])
    platform.assignRole("idle", hosts: [HostID(2), HostID(1)])
    #expect(platform.hosts(ofRole: "idle") == [HostID(1), HostID(2)], "naming a role again adds only new hosts")
    platform.diskIO(bytes: 100e6, write: false, host: HostID(0), observer: recorder, tag: 1)
    sim.run(until: .seconds(2))
    #expect(abs(seconds(recorder.finished[1]) - 1) < 1e-9)
    let m = Dictionary(platform.metrics().map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
    #expect(abs(m["role.reader.disk"]! - 0.25) < 1e-12)
    #expect(m["role.reader.cpu"] == 0 && m["role.reader.host_link"] == 0)
    #expect(m["role.reader.bottleneck"] == 1, "code 1: disk")
    #expect(abs(m["role.reader.bottleneck_utilisation"]! - 0.5) < 1e-12)
    #expect(abs(m["platform.utilisation.disk"]! - 0.0625) < 1e-12)
    for name in ["cpu", "disk", "host_link", "bottleneck", "bottleneck_utilisation"] {
      #expect(m["role.idle.\(name)"] == 0, "idle role: \(name)")
    }
    #expect(m["role.nobody.disk"] == nil, "a role nobody named reports nothing")
    #expect(platform.utilisation(of: .disk, role: "nobody") == (0, 0))
    let catalog = MetricCatalog(Platform.metricCatalog)
    #expect(catalog.info("role.reader.bottleneck")?.categories[1] == "disk")
    #expect(catalog.info("role.reader.bottleneck_utilisation")?.kind == .fraction)
  }
}
