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

/// The two event queues, behind one face for the order tests.
protocol TestableQueue {
  init()
  var count: Int { get }
  mutating func push(_ event: Event)
  mutating func popMin() -> Event?
}
extension EventHeap: TestableQueue {}
extension CalendarQueue: TestableQueue {}

@Suite struct EventQueueTests {
  /// Random pushes and pops against a sorted reference; `time` draws each event's time given the
  /// time of the last event popped (a hold model pushes at or after it; ties are frequent).
  func checkOrder<Q: TestableQueue>(
    _ type: Q.Type, seed: UInt64, operations: Int, time: (inout SplitMix64, Int64) -> Int64
  ) {
    var queue = Q()
    var reference: [Event] = []
    var random = SplitMix64(seed: seed)
    var sequence: UInt64 = 0
    var lastPopped: Int64 = 0
    for round in 0..<operations {
      // Mostly pushes early, mostly pops late.
      let push = reference.isEmpty || random.next() % 100 < (round < operations / 2 ? 70 : 40)
      if push {
        let event = Event(
          time: SimTime(nanoseconds: time(&random, lastPopped)), sequence: sequence, target: EntityID(0),
          kind: Int32(random.next() % 4), payload: Int64(random.next() % 1000) - 500)
        sequence += 1
        queue.push(event)
        // The reference is kept sorted latest-first, so the next event is its last element.
        var low = 0
        var high = reference.count
        while low < high {
          let mid = (low + high) / 2
          if Event.firesBefore(event, reference[mid]) { low = mid + 1 } else { high = mid }
        }
        reference.insert(event, at: low)
      } else {
        let expected = reference.removeLast()
        guard let got = queue.popMin() else {
          Issue.record("\(Q.self) empty with \(reference.count + 1) events pending")
          return
        }
        lastPopped = got.time.nanoseconds
        if got.sequence != expected.sequence || got.time != expected.time || got.payload != expected.payload {
          Issue.record(
            "\(Q.self) seed \(seed) round \(round): got \(got.sequence)@\(got.time), expected \(expected.sequence)@\(expected.time)"
          )
          return
        }
      }
      #expect(queue.count == reference.count)
    }
    while let got = queue.popMin() {
      #expect(got.sequence == reference.removeLast().sequence)
    }
    #expect(reference.isEmpty)
  }

  static let workloads: [(String, @Sendable (inout SplitMix64, Int64) -> Int64)] = [
    ("ties", { r, now in now + Int64(r.next() % 50) }),
    ("hold", { r, now in now + 1 + Int64(r.next() % 2_000_000_000) }),
    // 90% short and 10% very long increments: Brown's calendar queue degrades to a linear scan here.
    (
      "two-scale",
      { r, now in now + (r.next() % 10 == 0 ? Int64(r.next() % 200_000_000_000) : Int64(r.next() % 2_000_000)) }
    ),
    ("bursts", { r, now in now + (r.next() % 3 == 0 ? 0 : Int64(r.next() % 7) * 1_000_000_000) }),
    // Thousands of events at one instant (a shuffle's completions): order by sequence alone.
    ("simultaneous", { r, now in now + (r.next() % 1000 == 0 ? 1_000_000 : 0) }),
  ]

  @Test(arguments: 0..<5)
  func heapPopsInTimeThenSequenceOrder(workload: Int) {
    checkOrder(EventHeap.self, seed: 7, operations: 20_000, time: Self.workloads[workload].1)
  }

  @Test(arguments: 0..<5)
  func calendarQueuePopsInTimeThenSequenceOrder(workload: Int) {
    for seed: UInt64 in [1, 2, 3] {
      checkOrder(CalendarQueue.self, seed: seed, operations: 20_000, time: Self.workloads[workload].1)
    }
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

  /// A retired entity's pending events are dropped and the simulator no longer holds it; the
  /// other entities' events fire as before and new entities get new IDs.
  @Test func aRetiredEntityHearsNothingAndIsLetGo() {
    let sim = Simulator()
    var retired: Recorder? = Recorder()
    weak let watch = retired
    let kept = Recorder()
    let a = sim.register(retired!)
    let b = sim.register(kept)
    sim.schedule(at: .seconds(1), to: a, payload: 1)
    sim.schedule(at: .seconds(2), to: a, payload: 2)
    sim.schedule(at: .seconds(2), to: b, payload: 3)
    #expect(sim.run(until: .seconds(1)) == .reachedHorizon)
    #expect(retired!.log.map(\.payload) == [1])
    sim.retire(a)
    retired = nil
    #expect(watch == nil)
    #expect(sim.run(until: .seconds(10)) == .exhausted)
    #expect(kept.log.map(\.payload) == [3])
    #expect(sim.register(Recorder()).index == 2)
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
