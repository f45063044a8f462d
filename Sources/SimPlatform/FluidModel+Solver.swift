import SimKernel

extension FluidModel {
  /// Recomputes the max-min fair rates of the activities connected to the resources marked since
  /// the last solve, and moves the completion events of those whose rate changed.
  func solve() {
    solves += 1
    stamp += 1
    let now = simulator.now
    // The affected component: resources reachable from the marked ones through shared activities.
    // (The arrays are scratch buffers kept between solves: taken out here, put back at the end.)
    var component = scratchComponent
    var members = scratchMembers
    scratchComponent = []
    scratchMembers = []
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
        for q in activities[Int(slot)].resources where resourceStamp[Int(q)] != stamp {
          resourceStamp[Int(q)] = stamp
          component.append(q)
        }
      }
    }
    solverWork += component.count + members.count
    // Bring every member's progress up to now at its old rate.
    for slot in members {
      let a = activities[Int(slot)]
      let elapsed = Double(now.nanoseconds - a.lastUpdate.nanoseconds) / 1e9
      activities[Int(slot)].remaining = max(0, a.remaining - a.rate * elapsed)
      activities[Int(slot)].lastUpdate = now
    }
    fill(component: component, members: members)
    // Apply the new rates. A completion that moves later keeps its event: the event fires early,
    // finds the activity not done and is scheduled again then (lazy rescheduling). Only a
    // completion that moves earlier needs its event cancelled and replaced. This keeps the
    // event queue's churn down when many activities slow each other.
    for slot in members {
      let rate = newRate[Int(slot)]
      let old = activities[Int(slot)].rate
      activities[Int(slot)].rate = rate
      if rate == old, activities[Int(slot)].completion != nil { continue }
      guard rate > 0 else {
        activities[Int(slot)].expected = .max
        continue
      }
      let seconds = activities[Int(slot)].remaining / rate
      let expected = now + SimTime(nanoseconds: Int64(min((seconds * 1e9).rounded(.up), 9.2e18)))
      activities[Int(slot)].expected = expected
      if let handle = activities[Int(slot)].completion {
        if handle.time <= expected { continue }
        simulator.cancel(handle)
      }
      activities[Int(slot)].completion = simulator.schedule(
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
  }

  /// Progressive filling: repeatedly the resource with the least capacity per unfixed activity
  /// (or an activity's own cap, if lower) fixes rates, which are taken off the other resources.
  func fill(component: [Int32], members: [Int32]) {
    var heap = scratchHeap
    scratchHeap = ShareHeap()
    defer {
      heap.removeAll()
      scratchHeap = heap
    }
    for r32 in component {
      let r = Int(r32)
      residual[r] = resources[r].up ? resources[r].capacity : 0
      unfixed[r] = resources[r].activities.count
      keyVersion[r] += 1
      if unfixed[r] > 0 {
        heap.push(ShareHeap.Entry(share: residual[r] / Double(unfixed[r]), resource: r32, version: keyVersion[r]))
      }
    }
    // Capped activities, lowest cap first.
    var capped: [Int32] = []
    for slot in members where activities[Int(slot)].maxRate.isFinite { capped.append(slot) }
    if capped.count > 1 { capped.sort { (activities[Int($0)].maxRate, $0) < (activities[Int($1)].maxRate, $1) } }
    var nextCapped = 0
    var left = members.count
    func fix(_ slot: Int32, at rate: Double) {
      fixedStamp[Int(slot)] = stamp
      newRate[Int(slot)] = rate
      left -= 1
      for q32 in activities[Int(slot)].resources {
        let q = Int(q32)
        residual[q] = max(0, residual[q] - rate)
        unfixed[q] -= 1
        keyVersion[q] += 1
        if unfixed[q] > 0 {
          heap.push(ShareHeap.Entry(share: residual[q] / Double(unfixed[q]), resource: q32, version: keyVersion[q]))
        }
      }
    }
    while left > 0 {
      while nextCapped < capped.count, fixedStamp[Int(capped[nextCapped])] == stamp { nextCapped += 1 }
      var top: ShareHeap.Entry?
      while let entry = heap.first, entry.version != keyVersion[Int(entry.resource)] { _ = heap.popMin() }
      top = heap.first
      if nextCapped < capped.count, top == nil || activities[Int(capped[nextCapped])].maxRate <= top!.share {
        let slot = capped[nextCapped]
        fix(slot, at: activities[Int(slot)].maxRate)
        continue
      }
      guard let bottleneck = top else {
        // Activities on no resource (cannot happen for members) would end here; be safe.
        for slot in members where fixedStamp[Int(slot)] != stamp { fix(slot, at: 0) }
        break
      }
      _ = heap.popMin()
      let share = bottleneck.share
      for slot in resources[Int(bottleneck.resource)].activities where fixedStamp[Int(slot)] != stamp {
        fix(slot, at: share)
      }
    }
  }
}

/// A binary min-heap of resource shares with lazy invalidation (an entry is stale when its
/// version is not the resource's current one). Ties go to the lower resource index, so the
/// order of fixing, and so every floating-point result, is deterministic.
struct ShareHeap {
  struct Entry {
    var share: Double
    var resource: Int32
    var version: Int
    static func before(_ a: Entry, _ b: Entry) -> Bool {
      a.share < b.share || (a.share == b.share && a.resource < b.resource)
    }
  }

  private var storage: [Entry] = []

  var first: Entry? { storage.first }

  mutating func removeAll() { storage.removeAll(keepingCapacity: true) }

  mutating func push(_ entry: Entry) {
    storage.append(entry)
    var child = storage.count - 1
    while child > 0 {
      let parent = (child - 1) / 2
      if !Entry.before(storage[child], storage[parent]) { break }
      storage.swapAt(child, parent)
      child = parent
    }
  }

  mutating func popMin() -> Entry? {
    guard !storage.isEmpty else { return nil }
    storage.swapAt(0, storage.count - 1)
    let top = storage.removeLast()
    var parent = 0
    while true {
      let left = 2 * parent + 1
      if left >= storage.count { break }
      var best = left
      if left + 1 < storage.count, Entry.before(storage[left + 1], storage[left]) { best = left + 1 }
      if !Entry.before(storage[best], storage[parent]) { break }
      storage.swapAt(best, parent)
      parent = best
    }
    return top
  }
}
