import Testing

@testable import SimKernel

/// Records every event it receives; optionally schedules more.
final class Recorder: EventHandler {
  var log: [(time: SimTime, kind: Int32, payload: Int64)] = []
  var onEvent: ((Event, Simulator) -> Void)?

  func handle(_ event: Event, in simulator: Simulator) {
    #expect(simulator.now == event.time)
    log.append((event.time, event.kind, event.payload))
    onEvent?(event, simulator)
  }
}

@Suite struct EventHeapTests {
  @Test func popsInTimeThenSequenceOrderAgainstASortedReference() {
    var heap = EventHeap()
    var reference: [Event] = []
    var random = SplitMix64(seed: 7)
    var sequence: UInt64 = 0
    for round in 0..<20_000 {
      // Mostly pushes early, mostly pops late; many equal times to exercise the tie-break.
      let push = heap.isEmpty || random.next() % 100 < (round < 10_000 ? 70 : 40)
      if push {
        let event = Event(
          time: SimTime(nanoseconds: Int64(random.next() % 50)), sequence: sequence, target: EntityID(0),
          kind: Int32(random.next() % 4), payload: Int64(random.next() % 1000) - 500)
        sequence += 1
        heap.push(event)
        reference.append(event)
      } else {
        reference.sort { Event.firesBefore($0, $1) }
        let expected = reference.removeFirst()
        let got = heap.popMin()!
        #expect(got.sequence == expected.sequence)
        #expect(got.time == expected.time && got.payload == expected.payload && got.kind == expected.kind)
      }
    }
    #expect(heap.count == reference.count)
  }

  @Test func packsTargetKindAndPayloadLosslessly() {
    for payload in [Int64(0), -1, 1, Event.payloadRange.lowerBound, Event.payloadRange.upperBound, 123_456_789] {
      for target in [Int32(0), 1, Event.maximumTarget] {
        for kind in [Int32(0), 7, Event.maximumKind] {
          let event = Event(time: .seconds(3), sequence: 99, target: EntityID(target), kind: kind, payload: payload)
          #expect(event.payload == payload && event.target.index == target && event.kind == kind)
          #expect(event.sequence == 99)
        }
      }
    }
    #expect(MemoryLayout<Event>.size == 24)
  }
}

@Suite struct SimulatorTests {
  @Test func simultaneousEventsFireInSchedulingOrder() {
    let sim = Simulator()
    let recorder = Recorder()
    let id = sim.register(recorder)
    for i in 0..<100 { sim.schedule(at: .seconds(5), to: id, payload: Int64(i)) }
    sim.schedule(at: .seconds(1), to: id, payload: -1)
    #expect(sim.run() == .exhausted)
    #expect(recorder.log.map(\.payload) == [-1] + (0..<100).map { Int64($0) })
  }

  @Test func zeroDelayFiresAfterEventsAlreadyDueNow() {
    let sim = Simulator()
    let recorder = Recorder()
    let id = sim.register(recorder)
    recorder.onEvent = { event, sim in
      if event.payload == 0 { sim.schedule(after: .zero, to: id, payload: 2) }
    }
    sim.schedule(at: .seconds(1), to: id, payload: 0)
    sim.schedule(at: .seconds(1), to: id, payload: 1)
    sim.run()
    #expect(recorder.log.map(\.payload) == [0, 1, 2])
  }

  @Test func runUntilStopsAtTheHorizonAndFiresEventsExactlyAtIt() {
    let sim = Simulator()
    let recorder = Recorder()
    let id = sim.register(recorder)
    sim.schedule(at: .seconds(10), to: id, payload: 10)
    sim.schedule(at: .seconds(20), to: id, payload: 20)
    #expect(sim.run(until: .seconds(10)) == .reachedHorizon)
    #expect(recorder.log.map(\.payload) == [10])
    #expect(sim.now == .seconds(10))
    #expect(sim.run(until: .seconds(15)) == .reachedHorizon)
    #expect(sim.now == .seconds(15))
    #expect(sim.run(until: .seconds(100)) == .exhausted)
    #expect(sim.now == .seconds(100))
    #expect(recorder.log.map(\.payload) == [10, 20])
  }

  @Test func cancelRemovesPendingEventsOnly() {
    let sim = Simulator()
    let recorder = Recorder()
    let id = sim.register(recorder)
    let a = sim.schedule(at: .seconds(1), to: id, payload: 1)
    let b = sim.schedule(at: .seconds(2), to: id, payload: 2)
    let c = sim.schedule(at: .seconds(2), to: id, payload: 3)
    #expect(sim.cancel(b))
    #expect(!sim.cancel(b), "a second cancel is a no-op")
    #expect(sim.pendingEvents == 2)
    sim.run(until: .seconds(1))
    #expect(!sim.cancel(a), "an event that fired cannot be cancelled")
    sim.run()
    #expect(recorder.log.map(\.payload) == [1, 3])
    #expect(!sim.cancel(c))
    #expect(sim.eventsProcessed == 2)
    #expect(sim.pendingEvents == 0)
  }

  @Test func cancelFromInsideAHandlerAtTheSameTime() {
    let sim = Simulator()
    let recorder = Recorder()
    let id = sim.register(recorder)
    var later: EventHandle?
    recorder.onEvent = { event, sim in
      if event.payload == 0, let later { #expect(sim.cancel(later)) }
    }
    sim.schedule(at: .seconds(1), to: id, payload: 0)
    later = sim.schedule(at: .seconds(1), to: id, payload: 1)
    sim.run()
    #expect(recorder.log.map(\.payload) == [0])
  }

  @Test func stopEndsTheRunAfterTheCurrentEvent() {
    let sim = Simulator()
    let recorder = Recorder()
    let id = sim.register(recorder)
    recorder.onEvent = { event, sim in if event.payload == 2 { sim.stop() } }
    for i in 1...5 { sim.schedule(at: .seconds(Int64(i)), to: id, payload: Int64(i)) }
    #expect(sim.run() == .stopped)
    #expect(recorder.log.map(\.payload) == [1, 2])
    #expect(sim.run() == .exhausted)
    #expect(recorder.log.count == 5)
  }

  @Test func eventsReachTheEntityTheyAreAddressedTo() {
    let sim = Simulator()
    let recorders = (0..<5).map { _ in Recorder() }
    let ids = recorders.map { sim.register($0) }
    for (i, id) in ids.enumerated().reversed() { sim.schedule(at: .seconds(Int64(i)), to: id, kind: Int32(i)) }
    sim.run()
    for (i, recorder) in recorders.enumerated() {
      #expect(recorder.log.count == 1 && recorder.log[0].kind == Int32(i))
    }
  }
}
