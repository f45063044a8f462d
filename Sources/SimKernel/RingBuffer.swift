/// A FIFO queue in a growable circular array: O(1) append and popFirst, no per-element allocation.
///
/// The array doubles when full and never shrinks, so its memory is that of the longest the queue
/// has been (a station's waiting line, say), not of the run's length. Elements leave in the order
/// they came, which keeps first-come-first-served service deterministic.
///
/// ```swift
/// var waiting = RingBuffer<Int64>()
/// waiting.append(request)
/// if let next = waiting.popFirst() { start(next) }
/// ```
public struct RingBuffer<Element>: Sendable where Element: Sendable {
  private var storage: ContiguousArray<Element?>
  private var head = 0
  /// The number of elements queued.
  public private(set) var count = 0

  /// An empty queue with room for `capacity` elements (at least 1) before it first grows.
  public init(capacity: Int = 16) {
    storage = ContiguousArray(repeating: nil, count: Swift.max(1, capacity))
  }

  /// True when no element is queued.
  public var isEmpty: Bool { count == 0 }
  /// The oldest element, if any.
  public var first: Element? { count > 0 ? storage[head] : nil }

  /// Adds an element at the back.
  ///
  /// - Complexity: O(1) amortised (a full buffer is copied into one twice its size).
  public mutating func append(_ element: Element) {
    if count == storage.count { grow() }
    var tail = head + count
    if tail >= storage.count { tail -= storage.count }
    storage[tail] = element
    count += 1
  }

  /// Removes and returns the oldest element.
  public mutating func popFirst() -> Element? {
    guard count > 0 else { return nil }
    let element = storage[head]
    storage[head] = nil
    head += 1
    if head == storage.count { head = 0 }
    count -= 1
    return element
  }

  private mutating func grow() {
    var bigger = ContiguousArray<Element?>(repeating: nil, count: storage.count * 2)
    for i in 0..<count {
      var index = head + i
      if index >= storage.count { index -= storage.count }
      bigger[i] = storage[index]
    }
    storage = bigger
    head = 0
  }
}
