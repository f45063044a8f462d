import SimKernel
import Testing

@testable import SimPlatform

/// Records when each activity (by tag) finished or why it failed.
final class Recorder: ActivityObserver {
  var finished: [Int64: SimTime] = [:]
  var failed: [Int64: FailureReason] = [:]
  func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) { finished[tag] = simulator.now }
  func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    failed[tag] = reason
  }
}

func seconds(_ t: SimTime?) -> Double { t?.seconds ?? .nan }

/// A platform with 1 Gbps host links (125 MB/s) and 25 us link latencies.
func smallPlatform(racks: Int = 1, hostsPerRack: Int = 4, oversubscription: Double = 1) -> (Simulator, Platform) {
  var spec = PlatformSpec()
  spec.racks = racks
  spec.hostsPerRack = hostsPerRack
  spec.hostLink = 125e6
  spec.oversubscription = oversubscription
  spec.cores = 2
  spec.coreSpeed = 1
  spec.diskRead = 100e6
  spec.diskLatency = .zero
  let simulator = Simulator()
  return (simulator, Platform(spec: spec, simulator: simulator))
}

@Suite struct FluidModelTests {
  @Test func oneTransferTakesLatencyPlusSizeOverBandwidth() {
    let (sim, platform) = smallPlatform()
    let recorder = Recorder()
    platform.transfer(bytes: 125e6, from: HostID(0), to: HostID(1), observer: recorder, tag: 1)
    sim.run()
    // 1 s at 125 MB/s, plus two 25 us link latencies.
    #expect(abs(seconds(recorder.finished[1]) - 1.000_050) < 1e-8)
  }

  @Test func twoFlowsShareABottleneckAndTheSurvivorSpeedsUp() {
    let (sim, platform) = smallPlatform()
    let recorder = Recorder()
    // Both into host 2: its link-down is the bottleneck, 62.5 MB/s each.
    platform.transfer(bytes: 62.5e6, from: HostID(0), to: HostID(2), observer: recorder, tag: 1)
    platform.transfer(bytes: 125e6, from: HostID(1), to: HostID(2), observer: recorder, tag: 2)
    sim.run()
    // A: 62.5 MB at 62.5 MB/s = 1 s. B: 62.5 MB by then, the other 62.5 MB at 125 MB/s = 0.5 s more.
    #expect(abs(seconds(recorder.finished[1]) - 1.000_050) < 1e-8)
    #expect(abs(seconds(recorder.finished[2]) - 1.500_050) < 1e-8)
  }

  @Test func theTextbookMaxMinExample() {
    // Links of capacity 10 and 4; flow a uses link 1, flow b both, flow c link 2.
    // Link 2 is the bottleneck: b = c = 2; then a gets what is left of link 1: 8.
    let sim = Simulator()
    let fluid = FluidModel(simulator: sim)
    let l1 = fluid.addResource(name: "l1", capacity: 10, kind: .hostLink)
    let l2 = fluid.addResource(name: "l2", capacity: 4, kind: .hostLink)
    let recorder = Recorder()
    let a = fluid.start(amount: 1000, on: [l1], observer: recorder, tag: 1)
    let b = fluid.start(amount: 1000, on: [l1, l2], observer: recorder, tag: 2)
    let c = fluid.start(amount: 1000, on: [l2], observer: recorder, tag: 3)
    sim.run(until: .milliseconds(1))
    #expect(fluid.rate(of: a) == 8)
    #expect(fluid.rate(of: b) == 2)
    #expect(fluid.rate(of: c) == 2)
    #expect(fluid.allocated(on: l1) == 10 && fluid.allocated(on: l2) == 4)
  }

  @Test func anOversubscribedUplinkLimitsCrossRackFlows() {
    // 4 hosts per rack, 4:1 oversubscription: the uplink carries one host link's worth.
    let (sim, platform) = smallPlatform(racks: 2, hostsPerRack: 4, oversubscription: 4)
    let recorder = Recorder()
    for i in 0..<4 {
      platform.transfer(
        bytes: 31.25e6, from: HostID(Int32(i)), to: HostID(Int32(4 + i)), observer: recorder, tag: Int64(i))
    }
    sim.run()
    // Each gets 125/4 = 31.25 MB/s: 1 s, plus four 25 us latencies.
    for i in 0..<4 { #expect(abs(seconds(recorder.finished[Int64(i)]) - 1.000_100) < 1e-8) }
    // Without oversubscription the same flows take a quarter of the time.
    let (sim2, platform2) = smallPlatform(racks: 2, hostsPerRack: 4, oversubscription: 1)
    let recorder2 = Recorder()
    for i in 0..<4 {
      platform2.transfer(
        bytes: 31.25e6, from: HostID(Int32(i)), to: HostID(Int32(4 + i)), observer: recorder2, tag: Int64(i))
    }
    sim2.run()
    #expect(abs(seconds(recorder2.finished[0]) - 0.250_100) < 1e-8)
  }

  @Test func coresAreSharedAndOneComputationUsesAtMostOneCore() {
    let (sim, platform) = smallPlatform()
    let recorder = Recorder()
    platform.compute(work: 1, host: HostID(0), observer: recorder, tag: 1)
    sim.run()
    #expect(abs(seconds(recorder.finished[1]) - 1) < 1e-9, "one task on a 2-core host runs at one core's speed")
    let (sim2, platform2) = smallPlatform()
    let recorder2 = Recorder()
    for i in 0..<3 { platform2.compute(work: 1, host: HostID(0), observer: recorder2, tag: Int64(i)) }
    sim2.run()
    // Three tasks on two cores: 2/3 each, so 1.5 s.
    for i in 0..<3 { #expect(abs(seconds(recorder2.finished[Int64(i)]) - 1.5) < 1e-9) }
  }

  @Test func diskReadsShareTheDisk() {
    let (sim, platform) = smallPlatform()
    let recorder = Recorder()
    platform.diskIO(bytes: 100e6, write: false, host: HostID(0), observer: recorder, tag: 1)
    platform.diskIO(bytes: 50e6, write: false, host: HostID(0), observer: recorder, tag: 2)
    sim.run()
    // 50 MB/s each: the second ends at 1 s, the first has 50 MB left at 100 MB/s: 1.5 s.
    #expect(abs(seconds(recorder.finished[2]) - 1) < 1e-9)
    #expect(abs(seconds(recorder.finished[1]) - 1.5) < 1e-9)
  }

  @Test func bytesAreConservedOnEveryLinkOfEveryRoute() {
    let (sim, platform) = smallPlatform(racks: 3, hostsPerRack: 3, oversubscription: 2)
    let recorder = Recorder()
    var random = SplitMix64(seed: 5)
    var expected = [Double](repeating: 0, count: platform.fluid.resourceCount)
    for tag in 0..<200 {
      let from = HostID(Int32(random.next() % 9))
      var to = HostID(Int32(random.next() % 9))
      if to == from { to = HostID((from.index + 1) % 9) }
      let bytes = Double(1 + random.next() % 10_000_000)
      for r in platform.route(from: from, to: to).resources { expected[Int(r.index)] += bytes }
      platform.transfer(bytes: bytes, from: from, to: to, observer: recorder, tag: Int64(tag))
    }
    sim.run()
    #expect(recorder.finished.count == 200 && recorder.failed.isEmpty)
    for r in 0..<platform.fluid.resourceCount {
      #expect(
        platform.fluid.carried(by: ResourceID(Int32(r))) == expected[r],
        "\(platform.fluid.name(of: ResourceID(Int32(r))))")
      #expect(platform.fluid.allocated(on: ResourceID(Int32(r))) == 0)
    }
  }
}

@Suite struct FaultTests {
  @Test func aCrashFailsExactlyTheActivitiesOnThatHost() {
    let (sim, platform) = smallPlatform(racks: 1, hostsPerRack: 4)
    let recorder = Recorder()
    platform.transfer(bytes: 500e6, from: HostID(0), to: HostID(1), observer: recorder, tag: 1)  // from the victim
    platform.transfer(bytes: 500e6, from: HostID(2), to: HostID(0), observer: recorder, tag: 2)  // to the victim
    platform.transfer(bytes: 500e6, from: HostID(2), to: HostID(3), observer: recorder, tag: 3)  // elsewhere
    platform.compute(work: 10, host: HostID(0), observer: recorder, tag: 4)
    platform.compute(work: 10, host: HostID(1), observer: recorder, tag: 5)
    let injector = FaultInjector(
      faults: [.hostCrash(at: .seconds(1), host: 0, duration: .seconds(5))], platform: platform, simulator: sim,
      streams: RandomStreams(experimentSeed: 1))
    _ = injector
    sim.run()
    #expect(recorder.failed == [1: .hostDown, 2: .hostDown, 4: .hostDown])
    #expect(recorder.finished.keys.sorted() == [3, 5])
    #expect(platform.isUp(HostID(0)))
    // A transfer to a host that is down fails at once.
    let (sim2, platform2) = smallPlatform()
    let recorder2 = Recorder()
    platform2.setHost(HostID(1), down: true)
    platform2.transfer(bytes: 1e6, from: HostID(0), to: HostID(1), observer: recorder2, tag: 9)
    sim2.run()
    #expect(recorder2.failed == [9: .hostDown])
  }

  @Test func aPartitionFailsExactlyTheFlowsCrossingIt() {
    let (sim, platform) = smallPlatform(racks: 2, hostsPerRack: 2)
    let recorder = Recorder()
    // Hosts 0, 1 in rack 1; 2, 3 in rack 2. Partition {rack1} | {rack2}.
    platform.transfer(bytes: 500e6, from: HostID(0), to: HostID(1), observer: recorder, tag: 1)
    platform.transfer(bytes: 500e6, from: HostID(2), to: HostID(3), observer: recorder, tag: 2)
    platform.transfer(bytes: 500e6, from: HostID(0), to: HostID(2), observer: recorder, tag: 3)
    platform.transfer(bytes: 500e6, from: HostID(3), to: HostID(1), observer: recorder, tag: 4)
    let injector = FaultInjector(
      faults: [.partition(at: .seconds(1), groups: [[0, 1], [2, 3]], duration: .seconds(10))], platform: platform,
      simulator: sim, streams: RandomStreams(experimentSeed: 1))
    _ = injector
    sim.run(until: .seconds(2))
    platform.transfer(bytes: 1e6, from: HostID(1), to: HostID(3), observer: recorder, tag: 5)  // during it
    sim.run()
    #expect(recorder.failed == [3: .partitioned, 4: .partitioned, 5: .partitioned])
    #expect(recorder.finished.keys.sorted() == [1, 2])
    #expect(platform.reachable(HostID(0), HostID(2)))
  }

  /// Hosts alternating Exp(9 h) up and Exp(1 h) down are up 90% of the time in the long run.
  @Test func randomFailuresGiveTheExpectedLongRunAvailability() {
    var availabilities: [Double] = []
    for replication in 0..<10 {
      let (sim, platform) = smallPlatform(racks: 1, hostsPerRack: 20)
      let injector = FaultInjector(
        faults: [
          .random(
            hosts: Array(0..<20), mttf: .exponential(mean: 9 * 3600), mttr: .exponential(mean: 3600), burstHosts: 0,
            burstProbability: 0)
        ], platform: platform, simulator: sim, streams: RandomStreams(experimentSeed: 3, replication: replication))
      _ = injector
      let horizon = SimTime.seconds(2000 * 3600)
      sim.run(until: horizon)
      let downSeconds = platform.hostDownSeconds(until: horizon)
      availabilities.append(1 - downSeconds / (20 * horizon.seconds))
    }
    let ci = ConfidenceInterval(samples: availabilities)
    #expect(ci.contains(0.9), "availability \(ci.mean) ± \(ci.halfWidth)")
    #expect(ci.halfWidth < 0.01)
  }

  @Test func theSameSeedGivesTheSameFaultTimeline() {
    func timeline(seed: UInt64) -> TimeSeries {
      let (sim, platform) = smallPlatform(racks: 2, hostsPerRack: 5)
      let injector = FaultInjector(
        faults: [
          .random(
            hosts: Array(0..<10), mttf: .exponential(mean: 3600), mttr: .exponential(mean: 600), burstHosts: 2,
            burstProbability: 0.5)
        ], platform: platform, simulator: sim, streams: RandomStreams(experimentSeed: seed))
      _ = injector
      sim.run(until: .seconds(100 * 3600))
      return platform.faultLog
    }
    let a = timeline(seed: 1)
    #expect(a.samples.count > 100)
    #expect(a == timeline(seed: 1))
    #expect(a != timeline(seed: 2))
  }
}

@Suite struct DegradedDiskTests {
  /// 60 MB read from a 100 MB/s disk that falls to 1 MB/s at 0.3 s: 30 MB by then, 30 MB more
  /// at 1 MB/s, 30.3 s in all. The same with the disk back after 10 s: 40 MB by 10.3 s, the
  /// other 20 MB at 100 MB/s, 10.5 s. The disk is busy throughout, so its busy fraction is 1.
  @Test func aDegradedDiskSlowsWhatIsOnItAndRecovers() {
    for (duration, expected) in [(SimTime?.none, 30.3), (.seconds(10), 10.5)] {
      let (sim, platform) = smallPlatform(racks: 1, hostsPerRack: 2)
      let recorder = Recorder()
      platform.diskIO(bytes: 60e6, write: false, host: HostID(0), observer: recorder, tag: 1)
      // A write on the same disk is not slowed when only reads degrade: 50 MB at the default 150 MB/s.
      platform.diskIO(bytes: 50e6, write: true, host: HostID(0), observer: recorder, tag: 2)
      let injector = FaultInjector(
        faults: [
          .diskDegraded(at: .milliseconds(300), host: 0, disk: 0, read: 1e6, write: nil, duration: duration)
        ], platform: platform, simulator: sim, streams: RandomStreams(experimentSeed: 1))
      _ = injector
      sim.run()
      #expect(abs(seconds(recorder.finished[1]) - expected) < 1e-8, "finished at \(seconds(recorder.finished[1]))")
      #expect(abs(seconds(recorder.finished[2]) - 50.0 / 150) < 1e-8)
      #expect(recorder.failed.isEmpty)
      // Busy from 0 to the end, degraded or not.
      let read = platform.hosts[0].diskRead[0]
      #expect(abs(platform.fluid.resources[Int(read.index)].allocated.average(until: sim.now) / 100e6 - 1) < 1e-9)
      #expect(platform.faultLog.samples.map(\.value) == (duration == nil ? [1] : [1, 0]))
    }
  }

  /// Overlapping degradations of one disk: the slowest holds while both are in force.
  @Test func theSlowestOfOverlappingDegradationsHolds() {
    let (sim, platform) = smallPlatform(racks: 1, hostsPerRack: 2)
    let read = platform.hosts[0].diskRead[0]
    let a = platform.degradeDisk(HostID(0), disk: 0, read: 10e6, write: nil)
    let b = platform.degradeDisk(HostID(0), disk: 0, read: 2e6, write: nil)
    #expect(platform.fluid.capacity(of: read) == 2e6)
    platform.restoreDisk(b)
    #expect(platform.fluid.capacity(of: read) == 10e6)
    platform.restoreDisk(a)
    #expect(platform.fluid.capacity(of: read) == 100e6)
    _ = sim
  }
}
