import SimKernel
import Testing

@testable import SimPlatform

final class PoolRecorder: ServerPoolObserver {
  var served: [Int64: (at: SimTime, waited: SimTime)] = [:]
  var dropped: [Int64: FailureReason] = [:]
  func requestServed(tag: Int64, waited: SimTime, in simulator: Simulator) { served[tag] = (simulator.now, waited) }
  func requestDropped(tag: Int64, reason: FailureReason, in simulator: Simulator) { dropped[tag] = reason }
}

/// Submits requests at given times.
final class Submitter: EventHandler {
  let pool: ServerPool
  let observer: PoolRecorder
  let services: [SimTime]
  init(pool: ServerPool, observer: PoolRecorder, services: [SimTime], at times: [SimTime], simulator: Simulator) {
    self.pool = pool
    self.observer = observer
    self.services = services
    let me = simulator.register(self)
    for (i, time) in times.enumerated() { simulator.schedule(at: time, to: me, payload: Int64(i)) }
  }
  func handle(_ event: Event, in simulator: Simulator) {
    pool.submit(service: services[Int(event.payload)], tag: event.payload, observer: observer)
  }
}

@Suite struct ServerPoolTests {
  @Test func twoServersServeInFIFOOrder() {
    let sim = Simulator()
    let pool = ServerPool(servers: 2, simulator: sim)
    let recorder = PoolRecorder()
    let submitter = Submitter(
      pool: pool, observer: recorder, services: [.seconds(1), .seconds(2), .seconds(1), .seconds(1)],
      at: [.zero, .zero, .zero, .zero], simulator: sim)
    _ = submitter
    sim.run()
    // Servers: A takes 0 (0-1) then 2 (1-2); B takes 1 (0-2); 3 starts at 2 on A (2-3).
    #expect(recorder.served[0]! == (.seconds(1), .zero))
    #expect(recorder.served[1]! == (.seconds(2), .zero))
    #expect(recorder.served[2]! == (.seconds(2), .seconds(1)))
    #expect(recorder.served[3]! == (.seconds(3), .seconds(2)))
    #expect(pool.served == 4)
    #expect(abs(pool.busyServers.average(until: .seconds(3)) - 5.0 / 3.0) < 1e-12)
  }

  @Test func aHostCrashDropsEverythingInThePool() {
    let (sim, platform) = smallPlatform()
    let pool = ServerPool(servers: 1, simulator: sim, on: HostID(0), platform: platform)
    let recorder = PoolRecorder()
    let submitter = Submitter(
      pool: pool, observer: recorder, services: [.seconds(2), .seconds(2), .seconds(2), .seconds(1)],
      at: [.zero, .zero, .zero, .seconds(6)], simulator: sim)
    _ = submitter
    let injector = FaultInjector(
      faults: [.hostCrash(at: .seconds(3), host: 0, duration: .seconds(2))], platform: platform, simulator: sim,
      streams: RandomStreams(experimentSeed: 1))
    _ = injector
    sim.run()
    // Request 0 is served by 2 s; 1 is in service and 2 waiting at the crash; 3 comes after recovery.
    #expect(recorder.served.keys.sorted() == [0, 3])
    #expect(recorder.dropped == [1: .hostDown, 2: .hostDown])
  }
}

@Suite struct DuplexTests {
  @Test func halfDuplexLinksShareTheirBandwidthBetweenDirections() {
    var spec = PlatformSpec()
    spec.racks = 1
    spec.hostsPerRack = 2
    spec.hostLink = 125e6
    spec.fullDuplex = false
    let sim = Simulator()
    let platform = Platform(spec: spec, simulator: sim)
    let recorder = Recorder()
    platform.transfer(bytes: 62.5e6, from: HostID(0), to: HostID(1), observer: recorder, tag: 1)
    platform.transfer(bytes: 62.5e6, from: HostID(1), to: HostID(0), observer: recorder, tag: 2)
    sim.run()
    // Opposite directions share each host's one link: 62.5 MB/s each, so 1 s (full duplex: 0.5 s).
    #expect(abs(seconds(recorder.finished[1]) - 1.000_050) < 1e-8)
    #expect(abs(seconds(recorder.finished[2]) - 1.000_050) < 1e-8)
    #expect(platform.metrics().first { $0.name == "platform.network_bytes" }?.value == 125e6)
  }
}
