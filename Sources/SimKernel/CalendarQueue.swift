/// A calendar queue (R. Brown, "Calendar queues: a fast O(1) priority queue implementation for
/// the simulation event set problem", CACM 31(10), 1988) for the kernel's ``Event``, in the
/// kernel's (time, sequence) order.
///
/// Time is cut into buckets of `width` nanoseconds; a "year" is `bucketCount` buckets, and an
/// event at time t belongs to virtual bucket ⌊t / width⌋, stored in bucket (virtual bucket mod
/// bucketCount), in a list sorted by ``Event/firesBefore(_:_:)``. Dequeue walks the buckets from
/// the current one, taking the head of the first bucket whose head belongs to the current year;
/// after a whole year of empty buckets it falls back to a direct search of the bucket heads.
///
/// As in Brown's paper the number of buckets doubles when the queue holds more than twice as many
/// events as buckets and halves when it holds fewer than half, and each resize recomputes the
/// bucket width as three times the mean separation of (up to 25 of) the first events, ignoring
/// separations more than twice the first mean.
///
/// Implementation: events live in one pool of nodes linked by index (no per-event allocation;
/// a freed node is the next one reused), and bucket heads are an array of node indices. The
/// virtual bucket of a time is `Int64(Double(t) * (1 / width))`: a monotone function of t, which
/// is all the ordering argument needs, and cheaper than a 64-bit division.
///
/// Any push order is accepted (an event earlier than the last one popped moves the current
/// bucket back), so it is a general priority queue, though the simulator never does that.
///
/// Brown's rule alone (resize, and re-sample the width, when the size doubles or halves) never
/// revisits a width chosen at start-up while the size stays put, which a workload whose time
/// scales change after the start turns into a linear scan per event (65x slower than a heap on a
/// mix of Exp(1 ms) and Exp(100 s) increments). So this queue also re-samples the width, keeping
/// the bucket count, when the work per operation (buckets scanned on pop, events passed on insert)
/// stays above 4 over a window of operations, in the spirit of the dynamic calendar queue of Oh
/// and Ahn (1997) and SNOOPy (Tan and Thng 2000).
///
/// Measured against the 4-ary ``EventHeap`` on hold models in docs/PERFORMANCE.md: about 2x
/// faster per hold at 10,000 to 16,384 pending events, and 1.5x on the two-scale mix.
///
/// - Complexity: O(1) expected `push` and `popMin` when the bucket width suits the event times;
///   a resize is O(n) and happens when the size doubles or halves, or when operations get slow.
public struct CalendarQueue: Sendable {
  struct Node: Sendable {
    var event: Event
    var next: Int32
  }

  static var none: Int32 { -1 }
  static var minimumBuckets: Int { 2 }
  /// Average work per operation (buckets scanned on pop, events passed on insert) above which
  /// the width is re-sampled.
  static var workThreshold: Int { 4 }

  /// All nodes ever allocated; unused ones form a stack through `next` starting at `freeList`.
  private var nodes: ContiguousArray<Node> = []
  private var freeList: Int32 = CalendarQueue.none
  /// First node of each bucket, or `none`.
  private var heads: ContiguousArray<Int32>
  /// Last node of each bucket, or `none`: an event that fires after every event of its bucket
  /// (the usual case for events scheduled at one instant, in sequence order) is appended in O(1)
  /// instead of walking the bucket, which made thousands of simultaneous events quadratic.
  private var tails: ContiguousArray<Int32>
  private var mask: Int
  private var width: Double
  private var inverseWidth: Double
  /// The virtual bucket dequeue starts from: no pending event lies in an earlier one.
  private var current: Int64 = 0
  /// The number of events held (cancelled ones included until the simulator drops them).
  public private(set) var count = 0
  private var growAbove: Int
  private var shrinkBelow: Int
  /// Resizes performed, and those of them that only re-sampled the width (for the report).
  private(set) var resizes = 0
  private(set) var rewidths = 0
  /// Adaptive policy: work done (buckets scanned past the first on pop, events passed on
  /// insert) over the current window of operations, and the window's length.
  private var work = 0
  private var operations = 0
  private var window = 1024

  /// An empty queue (the minimum number of buckets, 1 ms wide until the first resize samples the
  /// events' real spacing).
  public init() {
    heads = ContiguousArray(repeating: CalendarQueue.none, count: CalendarQueue.minimumBuckets)
    tails = heads
    mask = CalendarQueue.minimumBuckets - 1
    width = 1_000_000  // 1 ms until the first resize samples real separations
    inverseWidth = 1 / width
    growAbove = 2 * CalendarQueue.minimumBuckets
    shrinkBelow = 0
  }

  /// True when no event is held.
  public var isEmpty: Bool { count == 0 }
  var bucketCount: Int { heads.count }
  var bucketWidthNanoseconds: Double { width }

  /// Keeps room for `capacity` events, so the node storage does not reallocate during a run.
  public mutating func reserveCapacity(_ capacity: Int) { nodes.reserveCapacity(capacity) }

  @inline(__always)
  private func virtualBucket(_ time: SimTime) -> Int64 {
    Int64(Double(time.nanoseconds) * inverseWidth)
  }

  /// Adds an event (O(1) expected; a resize, when the count doubles, is O(n) amortised over them).
  public mutating func push(_ event: Event) {
    let bucket = virtualBucket(event.time)
    if count == 0 || bucket < current { current = bucket }
    let node = allocateNode(event)
    let passed = link(node, event: event, bucket: Int(truncatingIfNeeded: bucket) & mask)
    count &+= 1
    if count > growAbove {
      resize(buckets: heads.count * 2)
    } else if true {
      account(passed)
    }
  }

  /// Removes and returns the next event in (time, sequence) order, or nil when empty (O(1) expected).
  public mutating func popMin() -> Event? {
    guard count > 0 else { return nil }
    let (event, scanned) = unlinkMin()
    if count < shrinkBelow {
      resize(buckets: heads.count / 2)
    } else if true {
      account(scanned)
    }
    return event
  }

  /// Removes the events for which `drop` holds (their nodes are reused), then resizes if the
  /// queue has shrunk below its lower threshold. The order of the events kept is unchanged.
  ///
  /// - Complexity: O(n + buckets).
  public mutating func removeAll(where drop: (Event) -> Bool) {
    var removed = 0
    for index in 0..<heads.count {
      var previous = CalendarQueue.none
      var node = heads[index]
      while node != CalendarQueue.none {
        let next = nodes[Int(node)].next
        if drop(nodes[Int(node)].event) {
          if previous == CalendarQueue.none { heads[index] = next } else { nodes[Int(previous)].next = next }
          nodes[Int(node)].next = freeList
          freeList = node
          removed &+= 1
        } else {
          previous = node
        }
        node = next
      }
      tails[index] = previous
    }
    count &-= removed
    if count < shrinkBelow {
      var buckets = heads.count
      while buckets > CalendarQueue.minimumBuckets, count < buckets / 2 { buckets /= 2 }
      resize(buckets: buckets)
    }
  }

  /// Adaptive policy: adds one operation's work and, at the end of a window, re-samples the width
  /// if the average work was high. While it stays high the window doubles (up to 64 x the bucket
  /// count), so a distribution no width suits costs at most one O(n) re-bucketing per window.
  @inline(__always)
  private mutating func account(_ cost: Int) {
    work &+= cost
    operations &+= 1
    if operations >= window { review() }
  }

  private mutating func review() {
    let average = Double(work) / Double(operations)
    work = 0
    operations = 0
    if average > Double(Self.workThreshold) && count >= 8 {
      rewidths += 1
      resize(buckets: heads.count)
      window = Swift.min(window * 2, 64 * Swift.max(heads.count, 1024))
    } else {
      window = baseWindow
    }
  }

  private var baseWindow: Int { 2 * Swift.max(heads.count, 512) }

  /// The next event, without removing it (a scan like `popMin`, so not O(1) worst case).
  public var first: Event? {
    guard count > 0 else { return nil }
    let (index, _, _) = locateMin()
    return nodes[Int(heads[index])].event
  }

  // MARK: - Internals

  @inline(__always)
  private mutating func allocateNode(_ event: Event) -> Int32 {
    if freeList != CalendarQueue.none {
      let node = freeList
      nodes.withUnsafeMutableBufferPointer { pool in
        freeList = pool[Int(node)].next
        pool[Int(node)].event = event
      }
      return node
    }
    precondition(nodes.count < Int(Int32.max), "calendar queue: too many events")
    nodes.append(Node(event: event, next: CalendarQueue.none))
    return Int32(nodes.count - 1)
  }

  /// Inserts `node` (holding `event`) into bucket `index`, after every event that fires no later.
  /// Returns how many events it passed over.
  @inline(__always) @discardableResult
  private mutating func link(_ node: Int32, event: Event, bucket index: Int) -> Int {
    nodes.withUnsafeMutableBufferPointer { pool in
      heads.withUnsafeMutableBufferPointer { heads in
        tails.withUnsafeMutableBufferPointer { tails in
          let tail = tails[index]
          if tail == CalendarQueue.none {
            pool[Int(node)].next = CalendarQueue.none
            heads[index] = node
            tails[index] = node
            return 0
          }
          if !Event.firesBefore(event, pool[Int(tail)].event) {
            pool[Int(node)].next = CalendarQueue.none
            pool[Int(tail)].next = node
            tails[index] = node
            return 0
          }
          var previous = CalendarQueue.none
          var cursor = heads[index]
          var passed = 0
          while cursor != CalendarQueue.none, !Event.firesBefore(event, pool[Int(cursor)].event) {
            previous = cursor
            cursor = pool[Int(cursor)].next
            passed &+= 1
          }
          pool[Int(node)].next = cursor
          if previous == CalendarQueue.none {
            heads[index] = node
          } else {
            pool[Int(previous)].next = node
          }
          return passed
        }
      }
    }
  }

  /// The bucket holding the earliest event, its virtual bucket, and how many buckets were
  /// looked at past the first. Requires count > 0.
  @inline(__always)
  private func locateMin() -> (index: Int, virtual: Int64, scanned: Int) {
    nodes.withUnsafeBufferPointer { pool in
      heads.withUnsafeBufferPointer { heads in
        var bucket = current
        for step in 0..<heads.count {
          let index = Int(truncatingIfNeeded: bucket) & mask
          let head = heads[index]
          if head != CalendarQueue.none && virtualBucket(pool[Int(head)].event.time) <= bucket {
            return (index, bucket, step)
          }
          bucket &+= 1
        }
        // A whole year without an event due: search the heads directly.
        var bestIndex = -1
        for index in 0..<heads.count {
          let head = heads[index]
          if head == CalendarQueue.none { continue }
          if bestIndex < 0 || Event.firesBefore(pool[Int(head)].event, pool[Int(heads[bestIndex])].event) {
            bestIndex = index
          }
        }
        return (bestIndex, virtualBucket(pool[Int(heads[bestIndex])].event.time), 2 * heads.count)
      }
    }
  }

  /// Removes the earliest event without resizing; also returns the buckets scanned past the
  /// first. Requires count > 0.
  @inline(__always)
  private mutating func unlinkMin() -> (Event, Int) {
    let (index, bucket, scanned) = locateMin()
    current = bucket
    count &-= 1
    return nodes.withUnsafeMutableBufferPointer { pool in
      heads.withUnsafeMutableBufferPointer { heads in
        let node = heads[index]
        heads[index] = pool[Int(node)].next
        if heads[index] == CalendarQueue.none { tails[index] = CalendarQueue.none }
        pool[Int(node)].next = freeList
        freeList = node
        return (pool[Int(node)].event, scanned)
      }
    }
  }

  /// Brown's width estimate: 3 x the mean separation of the first few events, the mean taken
  /// again without separations above twice the first mean.
  private mutating func sampledWidth() -> Double {
    let samples = count <= 5 ? count : Swift.min(5 + count / 10, 25)
    if samples < 2 { return width }
    var taken: [Event] = []
    taken.reserveCapacity(samples)
    for _ in 0..<samples { taken.append(unlinkMin().0) }
    var total = 0.0
    for i in 1..<samples { total += Double(taken[i].time.nanoseconds) - Double(taken[i - 1].time.nanoseconds) }
    let mean = total / Double(samples - 1)
    var kept = 0.0
    var keptCount = 0
    for i in 1..<samples {
      let separation = Double(taken[i].time.nanoseconds) - Double(taken[i - 1].time.nanoseconds)
      if separation <= 2 * mean {
        kept += separation
        keptCount += 1
      }
    }
    // Put the samples back (with the old width, which the caller then replaces).
    for event in taken {
      let bucket = virtualBucket(event.time)
      if count == 0 || bucket < current { current = bucket }
      let node = allocateNode(event)
      link(node, event: event, bucket: Int(truncatingIfNeeded: bucket) & mask)
      count &+= 1
    }
    guard keptCount > 0, kept > 0 else { return width }  // all samples simultaneous: keep the width
    return Swift.max(3 * kept / Double(keptCount), 2)  // >= 2 ns keeps t / width inside Int64
  }

  private mutating func resize(buckets newCount: Int) {
    let newCount = Swift.max(newCount, CalendarQueue.minimumBuckets)
    resizes += 1
    let newWidth = sampledWidth()
    let countChanges = newCount != heads.count
    // Chain every node into one list through `next` (no allocation), then empty the buckets.
    var chain = CalendarQueue.none
    for index in 0..<heads.count {
      var node = heads[index]
      while node != CalendarQueue.none {
        let next = nodes[Int(node)].next
        nodes[Int(node)].next = chain
        chain = node
        node = next
      }
    }
    if !countChanges {
      for index in 0..<heads.count {
        heads[index] = CalendarQueue.none
        tails[index] = CalendarQueue.none
      }
    } else {
      heads = ContiguousArray(repeating: CalendarQueue.none, count: newCount)
      tails = heads
    }
    mask = newCount - 1
    width = newWidth
    inverseWidth = 1 / newWidth
    growAbove = 2 * newCount
    shrinkBelow = newCount > CalendarQueue.minimumBuckets ? newCount / 2 : 0
    work = 0
    operations = 0
    if countChanges { window = baseWindow }
    // Relink every node into the new buckets.
    var first = true
    var node = chain
    while node != CalendarQueue.none {
      let next = nodes[Int(node)].next
      let event = nodes[Int(node)].event
      let bucket = virtualBucket(event.time)
      if first || bucket < current {
        current = bucket
        first = false
      }
      link(node, event: event, bucket: Int(truncatingIfNeeded: bucket) & mask)
      node = next
    }
  }
}
