/// A 4-ary min-heap of events in (time, sequence) order, stored flat in one array.
///
/// A 4-ary heap has half the depth of a binary heap and its four children share a cache line
/// or two, which pays on pop, the expensive operation of a hold model. Measured against a
/// calendar queue and swift-collections' `Heap` in docs/PERFORMANCE.md.
///
/// - Complexity: `push` O(log₄ n), `popMin` O(4 log₄ n), `peek` O(1). No allocation once the
///   storage has grown to the largest number of pending events.
public struct EventHeap: Sendable {
  @usableFromInline var storage: ContiguousArray<Event> = []

  /// An empty heap.
  public init() {}

  /// The number of events held.
  @inlinable public var count: Int { storage.count }
  /// True when no event is held.
  @inlinable public var isEmpty: Bool { storage.isEmpty }
  /// The next event to fire, without removing it.
  @inlinable public var first: Event? { storage.first }

  /// Keeps room for `capacity` events, so growth does not reallocate during a run.
  public mutating func reserveCapacity(_ capacity: Int) { storage.reserveCapacity(capacity) }

  /// Adds an event.
  @inlinable
  public mutating func push(_ event: Event) {
    storage.append(event)
    storage.withUnsafeMutableBufferPointer { heap in
      var child = heap.count - 1
      while child > 0 {
        let parent = (child &- 1) >> 2
        let above = heap[parent]
        if !Event.firesBefore(event, above) { break }
        heap[child] = above
        child = parent
      }
      heap[child] = event
    }
  }

  /// Removes and returns the next event to fire, or nil if there is none.
  ///
  /// Bottom-up deletion (Wegener's variant, as libstdc++ uses): the hole left at the root walks
  /// down to a leaf along the smallest children without comparing against the element that will
  /// fill it, then that element (the old last one, usually large) sifts up a level or two. This
  /// saves a comparison per level over the textbook sift-down.
  @inlinable
  public mutating func popMin() -> Event? {
    guard let last = storage.popLast() else { return nil }
    if storage.isEmpty { return last }
    return storage.withUnsafeMutableBufferPointer { heap -> Event in
      let top = heap[0]
      let n = heap.count
      var hole = 0
      while true {
        let firstChild = hole &* 4 &+ 1
        if firstChild >= n { break }
        var best = firstChild
        var bestEvent = heap[firstChild]
        let end = Swift.min(firstChild &+ 4, n)
        var child = firstChild &+ 1
        while child < end {
          let candidate = heap[child]
          if Event.firesBefore(candidate, bestEvent) {
            best = child
            bestEvent = candidate
          }
          child &+= 1
        }
        heap[hole] = bestEvent
        hole = best
      }
      while hole > 0 {
        let parent = (hole &- 1) >> 2
        let above = heap[parent]
        if !Event.firesBefore(last, above) { break }
        heap[hole] = above
        hole = parent
      }
      heap[hole] = last
      return top
    }
  }

  /// Removes every event.
  public mutating func removeAll() { storage.removeAll(keepingCapacity: true) }

  /// Removes the events for which `drop` holds and restores the heap (Floyd's bottom-up build).
  /// Events leave a heap in their (time, sequence) order whatever its layout, so the order of
  /// the events kept is unchanged.
  ///
  /// - Complexity: O(n).
  public mutating func removeAll(where drop: (Event) -> Bool) {
    storage.removeAll(where: drop)
    storage.withUnsafeMutableBufferPointer { heap in
      let n = heap.count
      guard n > 1 else { return }
      var start = (n &- 2) >> 2
      while start >= 0 {
        let event = heap[start]
        var hole = start
        while true {
          let firstChild = hole &* 4 &+ 1
          if firstChild >= n { break }
          var best = firstChild
          var bestEvent = heap[firstChild]
          let end = Swift.min(firstChild &+ 4, n)
          var child = firstChild &+ 1
          while child < end {
            let candidate = heap[child]
            if Event.firesBefore(candidate, bestEvent) {
              best = child
              bestEvent = candidate
            }
            child &+= 1
          }
          if !Event.firesBefore(bestEvent, event) { break }
          heap[hole] = bestEvent
          hole = best
        }
        heap[hole] = event
        start -= 1
      }
    }
  }
}
