/// The simulator's pending events: a 4-ary heap or a calendar queue, chosen per simulator.
///
/// The calendar queue is about 2x faster per event on hold models such as PHOLD (a stable
/// population of events with similar increments); the heap is O(log n) whatever the mix of
/// delays, and was 24% faster on the broker model, where thousands of timeouts far in the future
/// sit beside events microseconds away. Models choose; the default is the heap.
public enum EventQueueKind: String, Sendable {
  case heap
  case calendar
}

@usableFromInline
struct EventQueue: Sendable {
  @usableFromInline let kind: EventQueueKind
  @usableFromInline var heap = EventHeap()
  @usableFromInline var calendar = CalendarQueue()

  init(kind: EventQueueKind) { self.kind = kind }

  @inlinable var count: Int { kind == .heap ? heap.count : calendar.count }

  mutating func reserveCapacity(_ capacity: Int) {
    switch kind {
    case .heap: heap.reserveCapacity(capacity)
    case .calendar: calendar.reserveCapacity(capacity)
    }
  }

  @inlinable @inline(__always)
  mutating func push(_ event: Event) {
    if kind == .heap { heap.push(event) } else { calendar.push(event) }
  }

  /// Removes the events for which `drop` holds; the others keep their order.
  mutating func removeAll(where drop: (Event) -> Bool) {
    if kind == .heap { heap.removeAll(where: drop) } else { calendar.removeAll(where: drop) }
  }

  @inlinable @inline(__always)
  mutating func popMin() -> Event? {
    kind == .heap ? heap.popMin() : calendar.popMin()
  }
}
