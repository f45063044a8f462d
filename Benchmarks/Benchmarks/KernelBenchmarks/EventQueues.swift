import HeapModule
import SimKernel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The operations the simulator's run loop needs from its event queue.
protocol EventQueue {
  init()
  var count: Int { get }
  mutating func push(_ event: Event)
  mutating func popMin() -> Event?
  mutating func reserveCapacity(_ capacity: Int)
}

/// The kernel's 4-ary heap: the reference order, and the simulator's queue until the calendar
/// queue replaced it.
extension EventHeap: EventQueue {}

/// The kernel's adaptive calendar queue, which `Simulator` uses.
extension CalendarQueue: EventQueue {}

/// An event ordered by (time, sequence), for swift-collections' `Heap`.
struct OrderedEvent: Comparable {
  var event: Event
  @inline(__always)
  static func < (a: OrderedEvent, b: OrderedEvent) -> Bool { Event.firesBefore(a.event, b.event) }
  @inline(__always)
  static func == (a: OrderedEvent, b: OrderedEvent) -> Bool {
    a.event.time == b.event.time && a.event.sequence == b.event.sequence
  }
}

/// swift-collections' min-max `Heap` holding events.
struct CollectionsHeap: EventQueue {
  var heap = Heap<OrderedEvent>()
  init() {}
  var count: Int { heap.count }
  @inline(__always) mutating func push(_ event: Event) { heap.insert(OrderedEvent(event: event)) }
  @inline(__always) mutating func popMin() -> Event? { heap.popMin()?.event }
  mutating func reserveCapacity(_ capacity: Int) { heap.reserveCapacity(capacity) }
}

/// Checks that a queue pops events in exactly the order ``EventHeap`` does.
enum QueueCheck {
  /// Runs `operations` random pushes and pops against both queues, then drains them, comparing
  /// every popped event field by field. Returns a description of the first difference, or nil.
  ///
  /// The mix exercises: simultaneous events (FIFO by sequence), growth and shrinkage through many
  /// calendar resizes (phases that mostly push, then mostly pop), pops from an empty queue, pushes
  /// at exactly the current time, far-future events (a year of empty buckets), and, unless
  /// `monotone`, pushes earlier than the last pop.
  static func firstDifference<Q: EventQueue>(
    _ type: Q.Type, operations: Int = 100_000, seed: UInt64, monotone: Bool, inspect: (Q) -> Void = { _ in }
  ) -> String? {
    var reference = EventHeap()
    var queue = Q()
    var random = SplitMix64(seed: seed)
    var now: Int64 = 0
    var sequence: UInt64 = 0
    var pops = 0

    func compare(_ a: Event?, _ b: Event?, at step: Int) -> String? {
      switch (a, b) {
      case (nil, nil): return nil
      case let (x?, y?):
        if x.time == y.time && x.sequence == y.sequence && x.kind == y.kind && x.target == y.target
          && x.payload == y.payload
        {
          return nil
        }
        return "step \(step): EventHeap popped (t=\(x.time.nanoseconds), seq=\(x.sequence)), "
          + "\(Q.self) popped (t=\(y.time.nanoseconds), seq=\(y.sequence))"
      default:
        return "step \(step): EventHeap popped \(String(describing: a?.sequence)), \(Q.self) \(String(describing: b?.sequence))"
      }
    }

    for step in 0..<operations {
      // Phases of 5,000 operations alternate between growing and shrinking the queue.
      let pushProbability: UInt64 = (step / 5_000) % 2 == 0 ? 70 : 35
      let roll = random.next() % 100
      if roll < pushProbability {
        let shape = random.next() % 100
        var time: Int64
        switch shape {
        case 0..<10: time = now  // due now: ties with whatever else is due now
        case 10..<25: time = now + Int64(random.next() % 8) * 1_000_000  // a few distinct times: many ties
        case 25..<90:  // exponential, mean 1 s
          let u = (Double(random.next() >> 11) + 0.5) / 9_007_199_254_740_992.0
          time = now + Int64(-1e9 * log(u))
        case 90..<98: time = now + Int64(random.next() % 1_000_000_000_000)  // up to 1000 s ahead
        default:
          if monotone || now == 0 {
            time = now + 1_000_000_000_000_000 + Int64(random.next() % 1_000)  // ~11.6 days: far future
          } else {
            time = now - Int64(random.next() % UInt64(Swift.min(now, 5_000_000_000)))  // in the past
          }
        }
        let event = Event(
          time: SimTime(nanoseconds: time), sequence: sequence,
          target: EntityID(Int32(truncatingIfNeeded: random.next() % 1_000)),
          kind: Int32(truncatingIfNeeded: random.next() % 256),
          payload: Int64(truncatingIfNeeded: random.next() % 1_000_000) - 500_000)
        sequence += 1
        reference.push(event)
        queue.push(event)
      } else {
        let expected = reference.popMin()
        let got = queue.popMin()
        if let difference = compare(expected, got, at: step) { return difference }
        if let expected, monotone { now = expected.time.nanoseconds }
        if let expected, !monotone { now = Swift.max(now, expected.time.nanoseconds) }
        pops += 1
      }
      if reference.count != queue.count {
        return "step \(step): EventHeap holds \(reference.count), \(Q.self) holds \(queue.count)"
      }
    }
    inspect(queue)
    var step = operations
    while reference.count > 0 || queue.count > 0 {
      if let difference = compare(reference.popMin(), queue.popMin(), at: step) { return difference }
      step += 1
    }
    if queue.popMin() != nil { return "\(Q.self) returned an event when empty" }
    return nil
  }

  /// Stops the process unless every queue agrees with ``EventHeap``: a wrong queue must not be
  /// benchmarked.
  static func requireAgreement() {
    for seed: UInt64 in [1, 2, 3] {
      for monotone in [true, false] {
        if let difference = firstDifference(CalendarQueue.self, seed: seed, monotone: monotone) {
          fatalError("CalendarQueue disagrees with EventHeap (seed \(seed), monotone \(monotone)): \(difference)")
        }
        if let difference = firstDifference(CollectionsHeap.self, seed: seed, monotone: monotone) {
          fatalError("swift-collections Heap disagrees with EventHeap (seed \(seed), monotone \(monotone)): \(difference)")
        }
      }
    }
  }
}
