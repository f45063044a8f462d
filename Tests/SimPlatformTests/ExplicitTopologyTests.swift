import SimKernel
import Testing

@testable import SimPlatform

@Suite struct ExplicitTopologyTests {
  /// a1, a2 on switch s1; b1 on s2; 125 MB/s host links; the s1-s2 link is 50 MB/s.
  func dumbbell(route: [(from: Int, to: Int, links: [Int])] = []) -> PlatformSpec {
    var spec = PlatformSpec()
    spec.explicit = ExplicitTopology(
      hosts: [.init(name: "a1", rack: "left"), .init(name: "a2", rack: "left"), .init(name: "b1", rack: "right")],
      switches: ["s1", "s2"],
      links: [
        .init(name: "a1-s1", ends: ("a1", "s1"), bandwidth: 125e6, latency: .microseconds(10)),
        .init(name: "a2-s1", ends: ("a2", "s1"), bandwidth: 125e6, latency: .microseconds(10)),
        .init(name: "b1-s2", ends: ("b1", "s2"), bandwidth: 125e6, latency: .microseconds(10)),
        .init(name: "s1-s2", ends: ("s1", "s2"), bandwidth: 50e6, latency: .microseconds(30)),
      ], routes: route)
    return spec
  }

  @Test func flowsShareTheNarrowLinkOfTheirShortestPath() {
    let sim = Simulator()
    let platform = Platform(spec: dumbbell(), simulator: sim)
    let recorder = Recorder()
    platform.transfer(bytes: 25e6, from: HostID(0), to: HostID(2), observer: recorder, tag: 1)
    platform.transfer(bytes: 25e6, from: HostID(1), to: HostID(2), observer: recorder, tag: 2)
    platform.transfer(bytes: 25e6, from: HostID(0), to: HostID(1), observer: recorder, tag: 3)
    sim.run()
    // 1 and 2 share s1-s2 (25 MB/s each): 1 s + 10 + 30 + 10 us. 3 stays left: a1's link carries
    // flows 1 and 3, so 3 gets 125 - 25 = 100 MB/s: 0.25 s + 20 us.
    #expect(abs(seconds(recorder.finished[1]) - 1.000_050) < 1e-8)
    #expect(abs(seconds(recorder.finished[2]) - 1.000_050) < 1e-8)
    #expect(abs(seconds(recorder.finished[3]) - 0.250_020) < 1e-8)
    #expect(platform.hosts(inRack: 0).map(\.index) == [0, 1])
  }

  @Test func rackFaultsUseTheRackLabelsAndLinkFaultsTheLinkNames() throws {
    let spec = dumbbell()
    let faults = try FaultSpec.decode(
      ConfigNode(
        .sequence([
          .mapping([("at", .scalar("1s")), ("rack", .scalar("left"))]),
          .mapping([("at", .scalar("2s")), ("link", .scalar("s1-s2")), ("for", .scalar("1s"))]),
        ])), spec: spec, baseDirectory: nil)
    #expect(
      faults == [
        .rackPowerLoss(at: .seconds(1), rack: 0, duration: nil),
        .linkFailure(at: .seconds(2), link: .named(3), duration: .seconds(1)),
      ])
    #expect {
      _ = try FaultSpec.decode(
        ConfigNode(.sequence([.mapping([("at", .scalar("1s")), ("link", .scalar("s1-s3"))])])), spec: spec,
        baseDirectory: nil)
    } throws: { error in
      (error as? ConfigError)?.hint?.contains("did you mean 's1-s2'") == true
    }
  }

  @Test func badExplicitTopologiesAreConfigErrors() {
    func decode(_ entries: [(String, ConfigNode)]) throws -> PlatformSpec {
      try PlatformSpec.decode(.mapping([("topology", .scalar("explicit"))] + entries))
    }
    let hosts = ConfigNode(.sequence([.mapping([("name", .scalar("a"))]), .mapping([("name", .scalar("b"))])]))
    func link(_ a: String, _ b: String) -> ConfigNode {
      .mapping([("between", ConfigNode(.sequence([.scalar(a), .scalar(b)]))), ("bandwidth", .scalar("1Gbps"))])
    }
    // No path between a and b.
    #expect(throws: ConfigError.self) { _ = try decode([("hosts", hosts)]) }
    // A link to an unknown node, with the nearest name.
    #expect {
      _ = try decode([("hosts", hosts), ("links", ConfigNode(.sequence([link("a", "bb")])))])
    } throws: { error in
      (error as? ConfigError)?.hint?.contains("did you mean 'b'") == true
    }
    // A tree key in an explicit topology.
    #expect(throws: ConfigError.self) {
      _ = try decode([("hosts", hosts), ("links", ConfigNode(.sequence([link("a", "b")]))), ("racks", .scalar("2"))])
    }
    // Two hosts joined directly is a valid topology.
    #expect((try? decode([("hosts", hosts), ("links", ConfigNode(.sequence([link("a", "b")])))])) != nil)
  }

  @Test func aListedRouteIsTakenAndOtherPairsTakeTheShortestPath() {
    // a1 -> a2 listed as a detour through s2 and back (links 0, 3, 3, 1): it crosses s1-s2 in
    // both directions (two resources of 50 MB/s), so 25 MB take 0.5 s, plus 10 + 30 + 30 + 10 us.
    // a2 -> a1 is not listed: a2-s1, a1-s1 at 125 MB/s, 0.2 s plus 20 us.
    let sim = Simulator()
    let platform = Platform(spec: dumbbell(route: [(from: 0, to: 1, links: [0, 3, 3, 1])]), simulator: sim)
    let names = platform.route(from: HostID(0), to: HostID(1)).resources.map { platform.fluid.name(of: $0) }
    #expect(names == ["a1-s1/a1->s1", "s1-s2/s1->s2", "s1-s2/s2->s1", "a2-s1/s1->a2"])
    let recorder = Recorder()
    platform.transfer(bytes: 25e6, from: HostID(0), to: HostID(1), observer: recorder, tag: 1)
    platform.transfer(bytes: 25e6, from: HostID(1), to: HostID(0), observer: recorder, tag: 2)
    sim.run()
    #expect(abs(seconds(recorder.finished[1]) - 0.500_080) < 1e-9)
    #expect(abs(seconds(recorder.finished[2]) - 0.200_020) < 1e-9)
  }

  @Test func routesAreReadOncePerPairAndReachabilityCountsThem() throws {
    func decode(links: [(String, String)], routes: [(String, String, [String])]) throws -> PlatformSpec {
      let hosts = ConfigNode(.sequence(["a", "b", "c"].map { .mapping([("name", .scalar($0))]) }))
      let linkNodes = links.map { (a, b) -> ConfigNode in
        .mapping([
          ("name", .scalar("\(a)-\(b)")), ("between", ConfigNode(.sequence([.scalar(a), .scalar(b)]))),
          ("bandwidth", .scalar("1Gbps")),
        ])
      }
      let routeNodes = routes.map { (from, to, via) -> ConfigNode in
        .mapping([
          ("from", .scalar(from)), ("to", .scalar(to)), ("via", ConfigNode(.sequence(via.map { .scalar($0) }))),
        ])
      }
      return try PlatformSpec.decode(
        .mapping([
          ("topology", .scalar("explicit")), ("hosts", hosts), ("switches", ConfigNode(.sequence([.scalar("s1")]))),
          ("links", ConfigNode(.sequence(linkNodes))), ("routes", ConfigNode(.sequence(routeNodes))),
        ]))
    }
    // a and b on s1; c linked to a only: a reaches c directly, but b does not reach c (a host
    // forwards nothing) and c does not reach b.
    let links = [("a", "s1"), ("b", "s1"), ("a", "c")]
    #expect {
      _ = try decode(links: links, routes: [])
    } throws: { error in
      (error as? ConfigError)?.message == "no path from host 'b' to 'c' through switches"
    }
    // Listed routes through a make it whole.
    let spec = try decode(
      links: links, routes: [("b", "c", ["b-s1", "a-s1", "a-c"]), ("c", "b", ["a-c", "a-s1", "b-s1"])])
    #expect(spec.explicit?.listedRoute(from: 1, to: 2) == [1, 0, 2])
    #expect(spec.explicit?.listedRoute(from: 0, to: 2) == nil)
    #expect(spec.racks == 1)
    // A second route for a pair, and a route to itself, are errors.
    #expect {
      _ = try decode(
        links: links, routes: [("b", "c", ["b-s1", "a-s1", "a-c"]), ("b", "c", ["b-s1", "a-s1", "a-c"])])
    } throws: { error in
      (error as? ConfigError).map { $0.keyPath == "platform.routes.1.to" && $0.message.contains("routes.0") } == true
    }
    #expect(throws: ConfigError.self) { _ = try decode(links: links, routes: [("a", "a", [])]) }
  }

  @Test func racksAreTheLabelsInOrderOfFirstAppearance() {
    var spec = dumbbell()
    spec.explicit!.hosts = [
      .init(name: "x", rack: "r2"), .init(name: "y", rack: "r1"), .init(name: "z", rack: "r2"),
    ]
    #expect(spec.rackNames == ["r2", "r1"])
    #expect(spec.rackOfHost == [0, 1, 0])
  }
}
