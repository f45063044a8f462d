import SimKernel

extension FluidModel {
  /// Recomputes the max-min fair rates of the activities connected to the resources marked since
  /// the last solve, and moves the completion events of those whose rate changed.
  ///
  /// The arrays it works on (the activities, the stamps, the scratch buffers) are taken out of
  /// the model for the solve and put back at the end, so the loops index local arrays (no access
  /// checks on class properties, no copy on write); nothing the solve calls touches them.
  func solve() {
    solves += 1
    stamp += 1
    let stamp = self.stamp
    let now = simulator.now
    var component = scratchComponent
    var members = scratchMembers
    var activities = self.activities
    var resourceStamp = self.resourceStamp
    var activityStamp = self.activityStamp
    scratchComponent = []
    scratchMembers = []
    self.activities = []
    self.resourceStamp = []
    self.activityStamp = []
    let routes = routeResource
    let stride = routeStride
    // The affected component: resources reachable from the marked ones through shared activities.
    for r in dirty where resourceStamp[Int(r)] != stamp {
      resourceStamp[Int(r)] = stamp
      component.append(r)
    }
    dirty.removeAll(keepingCapacity: true)
    var next = 0
    while next < component.count {
      let r = Int(component[next])
      next += 1
      for slot in resources[r].activities where activityStamp[Int(slot)] != stamp {
        activityStamp[Int(slot)] = stamp
        members.append(slot)
        let base = Int(slot) * stride
        for k in 0..<Int(activities[Int(slot)].pathLength) {
          let q = routes[base + k]
          if resourceStamp[Int(q)] != stamp {
            resourceStamp[Int(q)] = stamp
            component.append(q)
          }
        }
      }
    }
    solverWork += component.count + members.count
    // Bring every member's progress up to now at its old rate.
    for slot in members {
      let s = Int(slot)
      let elapsed = Double(now.nanoseconds - activities[s].lastUpdate.nanoseconds) / 1e9
      activities[s].remaining = max(0, activities[s].remaining - activities[s].rate * elapsed)
      activities[s].lastUpdate = now
    }
    fill(component: component, members: members, activities: activities)
    // Apply the new rates. A completion that moves later keeps its event: the event fires early,
    // finds the activity not done and is scheduled again then (lazy rescheduling). Only a
    // completion that moves earlier needs its event cancelled and replaced. This keeps the
    // event queue's churn down when many activities slow each other.
    let newRate = self.newRate
    for slot in members {
      let s = Int(slot)
      let rate = newRate[s]
      let old = activities[s].rate
      activities[s].rate = rate
      if rate == old, activities[s].completion != nil { continue }
      guard rate > 0 else {
        activities[s].expected = .max
        continue
      }
      let seconds = activities[s].remaining / rate
      let expected = now + SimTime(nanoseconds: Int64(min((seconds * 1e9).rounded(.up), 9.2e18)))
      activities[s].expected = expected
      if let handle = activities[s].completion {
        if handle.time <= expected { continue }
        simulator.cancel(handle)
      }
      activities[s].completion = simulator.schedule(
        at: expected, to: me, kind: Kind.complete.rawValue, payload: Int64(slot))
    }
    for r in component {
      var total = 0.0
      for slot in resources[Int(r)].activities { total += activities[Int(slot)].rate }
      setAllocated(Int(r), total)
    }
    component.removeAll(keepingCapacity: true)
    members.removeAll(keepingCapacity: true)
    scratchComponent = component
    scratchMembers = members
    self.activities = activities
    self.resourceStamp = resourceStamp
    self.activityStamp = activityStamp
  }

  /// Progressive filling: repeatedly the resource with the least capacity per unfixed activity
  /// (or an activity's own cap, if lower) fixes rates, which are taken off the other resources.
  /// Writes the rates into ``newRate``.
  func fill(component: [Int32], members: [Int32], activities: [Activity]) {
    var heap = scratchHeap
    var capped = scratchCapped
    var residual = self.residual
    var unfixed = self.unfixed
    var newRate = self.newRate
    var fixedStamp = self.fixedStamp
    scratchHeap = ShareHeap()
    scratchCapped = []
    self.residual = []
    self.unfixed = []
    self.newRate = []
    self.fixedStamp = []
    let routes = routeResource
    let stride = routeStride
    let stamp = self.stamp
    for r32 in component {
      let r = Int(r32)
      residual[r] = resources[r].up ? resources[r].capacity : 0
      unfixed[r] = resources[r].activities.count
      if unfixed[r] > 0 { heap.set(r32, share: residual[r] / Double(unfixed[r])) }
    }
    // Capped activities, lowest cap first.
    for slot in members where activities[Int(slot)].maxRate.isFinite { capped.append(slot) }
    if capped.count > 1 { capped.sort { (activities[Int($0)].maxRate, $0) < (activities[Int($1)].maxRate, $1) } }
    var nextCapped = 0
    var left = members.count
    /// Fixes `slot` at `rate` and updates the shares of its resources (but that of `bottleneck`,
    /// whose round is fixing every activity it has left).
    func fix(_ slot: Int32, at rate: Double, bottleneck: Int32) {
      fixedStamp[Int(slot)] = stamp
      newRate[Int(slot)] = rate
      left -= 1
      let base = Int(slot) * stride
      for k in 0..<Int(activities[Int(slot)].pathLength) {
        let q32 = routes[base + k]
        let q = Int(q32)
        residual[q] = max(0, residual[q] - rate)
        unfixed[q] -= 1
        if q32 == bottleneck { continue }
        if unfixed[q] > 0 {
          heap.set(q32, share: residual[q] / Double(unfixed[q]))
        } else {
          heap.remove(q32)
        }
      }
    }
    while left > 0 {
      while nextCapped < capped.count, fixedStamp[Int(capped[nextCapped])] == stamp { nextCapped += 1 }
      let top = heap.first
      if nextCapped < capped.count, top == nil || activities[Int(capped[nextCapped])].maxRate <= top!.share {
        let slot = capped[nextCapped]
        fix(slot, at: activities[Int(slot)].maxRate, bottleneck: -1)
        continue
      }
      guard let bottleneck = top else {
        // Activities on no resource (cannot happen for members) would end here; be safe.
        for slot in members where fixedStamp[Int(slot)] != stamp { fix(slot, at: 0, bottleneck: -1) }
        break
      }
      heap.remove(bottleneck.resource)
      let share = bottleneck.share
      for slot in resources[Int(bottleneck.resource)].activities where fixedStamp[Int(slot)] != stamp {
        fix(slot, at: share, bottleneck: bottleneck.resource)
      }
    }
    heap.removeAll()
    capped.removeAll(keepingCapacity: true)
    scratchHeap = heap
    scratchCapped = capped
    self.residual = residual
    self.unfixed = unfixed
    self.newRate = newRate
    self.fixedStamp = fixedStamp
  }
}

/// The resources of a solve that still have unfixed activities, in a binary min-heap by share
/// (capacity left per unfixed activity), each at most once: a share that changes moves its
/// resource up or down in place. Ties go to the lower resource index, so the order of fixing,
/// and so every floating-point result, is deterministic (and the same as picking the least
/// (share, index) by any other means).
struct ShareHeap {
  /// Resources in heap order.
  private var items: [Int32] = []
  /// Per resource: its index in `items`, or -1; and its share while in the heap.
  private var position: [Int32] = []
  private var share: [Double] = []

  /// Makes room for one more resource (called as resources are added).
  mutating func addResource() {
    position.append(-1)
    share.append(0)
  }

  var first: (resource: Int32, share: Double)? {
    guard let r = items.first else { return nil }
    return (r, share[Int(r)])
  }

  @inline(__always)
  private func before(_ a: Int32, _ b: Int32) -> Bool {
    let sa = share[Int(a)]
    let sb = share[Int(b)]
    return sa < sb || (sa == sb && a < b)
  }

  /// Puts `resource` in the heap with `share`, or moves it to its new share.
  mutating func set(_ resource: Int32, share value: Double) {
    let r = Int(resource)
    let at = Int(position[r])
    if at < 0 {
      share[r] = value
      items.append(resource)
      position[r] = Int32(items.count - 1)
      siftUp(items.count - 1)
      return
    }
    let old = share[r]
    share[r] = value
    if value < old {
      siftUp(at)
    } else if value > old {
      siftDown(at)
    }
  }

  /// Takes `resource` out of the heap, if it is there.
  mutating func remove(_ resource: Int32) {
    let at = Int(position[Int(resource)])
    guard at >= 0 else { return }
    position[Int(resource)] = -1
    let last = items.removeLast()
    guard at < items.count else { return }
    items[at] = last
    position[Int(last)] = Int32(at)
    siftUp(at)
    siftDown(Int(position[Int(last)]))
  }

  mutating func removeAll() {
    for r in items { position[Int(r)] = -1 }
    items.removeAll(keepingCapacity: true)
  }

  private mutating func siftUp(_ start: Int) {
    var child = start
    let moving = items[child]
    while child > 0 {
      let parent = (child - 1) / 2
      if !before(moving, items[parent]) { break }
      items[child] = items[parent]
      position[Int(items[child])] = Int32(child)
      child = parent
    }
    items[child] = moving
    position[Int(moving)] = Int32(child)
  }

  private mutating func siftDown(_ start: Int) {
    var parent = start
    let moving = items[parent]
    let n = items.count
    while true {
      let left = 2 * parent + 1
      if left >= n { break }
      var best = left
      if left + 1 < n, before(items[left + 1], items[left]) { best = left + 1 }
      if !before(items[best], moving) { break }
      items[parent] = items[best]
      position[Int(items[parent])] = Int32(parent)
      parent = best
    }
    items[parent] = moving
    position[Int(moving)] = Int32(parent)
  }
}
