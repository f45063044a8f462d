import Testing

@testable import SimKernel

@Suite struct CancellationTests {
  @Test func sequenceSetAgreesWithSetUnderChurnAndShrinks() {
    var set = SequenceSet()
    var reference = Set<UInt64>()
    var x: UInt64 = 12345
    for step in 0..<200_000 {
      // A small LCG over a range narrow enough that removals often hit.
      x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      let key = (x >> 33) % 5000
      if step % 3 == 0 {
        let removed = set.remove(key)
        #expect(removed == (reference.remove(key) != nil))
      } else {
        let inserted = set.insert(key)
        #expect(inserted == reference.insert(key).inserted)
      }
      #expect(set.count == reference.count)
    }
    for key in UInt64(0)..<5000 { #expect(set.contains(key) == reference.contains(key)) }
    var removedAll = true
    for key in reference where !set.remove(key) { removedAll = false }
    #expect(removedAll)
    #expect(set.isEmpty)
    #expect(set.capacity == SequenceSet.minimumCapacity, "storage follows the count down")
    // Key 0 and the largest sequence are ordinary members.
    let zero = set.insert(0)
    let largest = set.insert((1 << 56) - 1)
    #expect(zero && largest)
    #expect(set.contains(0) && set.contains((1 << 56) - 1) && !set.contains(1))
  }

  /// 3,000 events at 30 distinct times (ties everywhere); cancelling 2 in 3 compacts the queue,
  /// and the survivors still fire in (time, scheduling order).
  func checkCompaction(_ kind: EventQueueKind) {
    let sim = Simulator(queue: kind)
    let recorder = Recorder()
    let id = sim.register(recorder)
    var handles: [EventHandle] = []
    for i in 0..<3000 {
      handles.append(sim.schedule(at: .milliseconds(Int64((i * 7) % 30)), to: id, payload: Int64(i)))
    }
    for i in 0..<3000 where i % 3 != 0 { #expect(sim.cancel(handles[i])) }
    // The 1,500th cancel (of i = 2249) makes the cancelled half the queue of 3,000: those 1,500
    // are removed at once; the 500 cancelled after stay in the queue until they come up.
    #expect(sim.compactions == 1)
    #expect(sim.queue.count == 1500)
    #expect(sim.pendingEvents == 1000)
    #expect(!sim.cancel(handles[2999]), "a second cancel is a no-op")
    sim.run()
    // Expected: i multiple of 3, sorted by time (7i mod 30 ms), ties by i.
    let expected = (0..<3000).filter { $0 % 3 == 0 }.sorted { ((($0 * 7) % 30), $0) < ((($1 * 7) % 30), $1) }
    #expect(recorder.log.map { Int($0.payload) } == expected)
    #expect(sim.eventsProcessed == 1000)
    #expect(sim.pendingEvents == 0)
  }

  @Test func compactionKeepsOrderOnTheHeap() { checkCompaction(.heap) }
  @Test func compactionKeepsOrderOnTheCalendarQueue() { checkCompaction(.calendar) }

  /// A timeout rescheduled 100,000 times (the old one cancelled each time) beside one event far
  /// ahead: the queue never holds more than the threshold and a few.
  func checkFlat(_ kind: EventQueueKind) {
    let sim = Simulator(queue: kind)
    let recorder = Recorder()
    let id = sim.register(recorder)
    sim.schedule(at: .seconds(1000), to: id, payload: -1)
    var timeout = sim.schedule(at: .seconds(10), to: id, payload: 0)
    var largest = 0
    var refused = 0
    for i in 1...100_000 {
      if !sim.cancel(timeout) { refused += 1 }
      timeout = sim.schedule(at: .seconds(10) + .nanoseconds(Int64(i)), to: id, payload: Int64(i))
      largest = max(largest, sim.queue.count)
    }
    #expect(refused == 0)
    // Compacted at every 1,025th cancel (the two live events and 1,024 cancelled at most).
    #expect(sim.compactions == 97)
    #expect(largest == Simulator.compactionThreshold + 2)
    #expect(sim.pendingEvents == 2)
    sim.run()
    #expect(recorder.log.map(\.payload) == [100_000, -1])
    #expect(recorder.log.map(\.time) == [.seconds(10) + .nanoseconds(100_000), .seconds(1000)])
  }

  @Test func cancelledEventsDoNotAccumulateOnTheHeap() { checkFlat(.heap) }
  @Test func cancelledEventsDoNotAccumulateOnTheCalendarQueue() { checkFlat(.calendar) }
}
