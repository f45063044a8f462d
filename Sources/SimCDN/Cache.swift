import SimKernel

/// One edge's cache: a byte capacity, an eviction policy, O(objects) memory.
///
/// LRU and FIFO keep a doubly linked list over object ids (LRU moves a hit to the head, FIFO
/// does not); LFU keeps a binary min-heap on (in-cache hit count, last use), so ties go to the
/// least recently used. Inserting evicts from the tail (or the heap's top) until the object fits;
/// an object larger than the whole cache is not cached.
public final class EdgeCache {
  public enum Policy: String, Sendable { case lru, lfu, fifo }

  let capacity: Double
  let policy: Policy
  private(set) var used = 0.0
  private(set) var count = 0
  // Per object: in cache, its size, when it was fetched (TTL), list links, heap position.
  private var present: [Bool]
  private var size: [Double]
  private(set) var fetchedAt: [SimTime]
  private var next: [Int32]
  private var prev: [Int32]
  private var head: Int32 = -1
  private var tail: Int32 = -1
  private var frequency: [Int64]
  private var lastUse: [Int64]
  private var heapIndex: [Int32]
  private var heap: [Int32] = []
  private var clock: Int64 = 0

  init(capacity: Double, policy: Policy, objects: Int) {
    self.capacity = capacity
    self.policy = policy
    present = Array(repeating: false, count: objects)
    size = Array(repeating: 0, count: objects)
    fetchedAt = Array(repeating: .zero, count: objects)
    next = Array(repeating: -1, count: objects)
    prev = Array(repeating: -1, count: objects)
    let lfu = policy == .lfu ? objects : 0
    frequency = Array(repeating: 0, count: lfu)
    lastUse = Array(repeating: 0, count: lfu)
    heapIndex = Array(repeating: -1, count: lfu)
  }

  func contains(_ object: Int) -> Bool { present[object] }

  /// A hit: LRU moves it to the head, LFU counts it.
  func touch(_ object: Int) {
    clock += 1
    switch policy {
    case .lru:
      unlink(object)
      pushFront(object)
    case .fifo: break
    case .lfu:
      frequency[object] += 1
      lastUse[object] = clock
      siftDown(Int(heapIndex[object]))
    }
  }

  /// A miss fetched from the origin at `now`: cached if it fits, evicting as needed.
  func insert(_ object: Int, size bytes: Double, now: SimTime) {
    if present[object] { remove(object) }
    guard bytes <= capacity else { return }
    while used + bytes > capacity, let victim = victim() { remove(victim) }
    clock += 1
    present[object] = true
    size[object] = bytes
    fetchedAt[object] = now
    used += bytes
    count += 1
    if policy == .lfu {
      frequency[object] = 1
      lastUse[object] = clock
      heap.append(Int32(object))
      heapIndex[object] = Int32(heap.count - 1)
      siftUp(heap.count - 1)
    } else {
      pushFront(object)
    }
  }

  func remove(_ object: Int) {
    guard present[object] else { return }
    present[object] = false
    used -= size[object]
    count -= 1
    if count == 0 { used = 0 }
    if policy == .lfu {
      let i = Int(heapIndex[object])
      let last = heap.removeLast()
      heapIndex[object] = -1
      if i < heap.count {
        heap[i] = last
        heapIndex[Int(last)] = Int32(i)
        siftUp(i)
        siftDown(Int(heapIndex[Int(last)]))
      }
    } else {
      unlink(object)
    }
  }

  /// Empties the cache (a purge, or an edge that comes back up).
  func flush() {
    while let victim = victim() { remove(victim) }
  }

  private func victim() -> Int? {
    if policy == .lfu { return heap.first.map { Int($0) } }
    return tail >= 0 ? Int(tail) : nil
  }

  private func pushFront(_ object: Int) {
    prev[object] = -1
    next[object] = head
    if head >= 0 { prev[Int(head)] = Int32(object) }
    head = Int32(object)
    if tail < 0 { tail = Int32(object) }
  }

  private func unlink(_ object: Int) {
    let p = prev[object]
    let n = next[object]
    if p >= 0 { next[Int(p)] = n } else { head = n }
    if n >= 0 { prev[Int(n)] = p } else { tail = p }
    prev[object] = -1
    next[object] = -1
  }

  private func less(_ a: Int32, _ b: Int32) -> Bool {
    let (a, b) = (Int(a), Int(b))
    return frequency[a] != frequency[b] ? frequency[a] < frequency[b] : lastUse[a] < lastUse[b]
  }

  private func swapAt(_ i: Int, _ j: Int) {
    heap.swapAt(i, j)
    heapIndex[Int(heap[i])] = Int32(i)
    heapIndex[Int(heap[j])] = Int32(j)
  }

  private func siftUp(_ start: Int) {
    var i = start
    while i > 0 {
      let parent = (i - 1) / 2
      guard less(heap[i], heap[parent]) else { return }
      swapAt(i, parent)
      i = parent
    }
  }

  private func siftDown(_ start: Int) {
    var i = start
    while true {
      let l = 2 * i + 1
      let r = l + 1
      var smallest = i
      if l < heap.count, less(heap[l], heap[smallest]) { smallest = l }
      if r < heap.count, less(heap[r], heap[smallest]) { smallest = r }
      guard smallest != i else { return }
      swapAt(i, smallest)
      i = smallest
    }
  }
}
