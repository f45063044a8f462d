import SimKernel

/// A resource whose capacity activities share: a link direction, a disk's read or write side, a
/// host's cores.
public struct ResourceID: Hashable, Comparable, Sendable {
  /// The resource's position in its fluid model, in the order resources were added, from 0.
  public var index: Int32
  /// The resource at `index`; models get theirs from ``FluidModel/addResource(name:capacity:kind:)``.
  public init(_ index: Int32) { self.index = index }
  /// Order of creation, for sorting resources deterministically.
  public static func < (a: ResourceID, b: ResourceID) -> Bool { a.index < b.index }
}

/// One activity (a transfer, a disk operation, a computation) of a ``FluidModel``.
public struct ActivityID: Hashable, Sendable {
  /// The activity's slot in the fluid model's table (reused once the activity has ended).
  public var slot: Int32
  /// Which use of the slot this is: an ID of an ended activity never matches the slot's next one.
  public var generation: UInt32
}

/// What kind of resource, for utilisation by class.
public enum ResourceClass: String, Sendable, CaseIterable {
  /// A host's cores (capacity: cores x core speed, in work units per second).
  case cpu
  /// One side (read or write) of a disk, in bytes per second.
  case disk
  /// One direction of a host's own link (a cluster's backbones count here too), in bytes per second.
  case hostLink = "host_link"
  /// One direction of a rack's uplink, or a switch-to-switch link, in bytes per second.
  case uplink
}

/// Why an activity ended without finishing.
public enum FailureReason: String, Sendable {
  /// A host at one end was down, or went down (its cores, disks or link).
  case hostDown = "host_down"
  /// The disk it used failed.
  case diskFailed = "disk_failed"
  /// A link on its route was down, or went down.
  case linkDown = "link_down"
  /// A network partition separated its two ends.
  case partitioned
  /// Cancelled. Nothing in the platform reports it (``FluidModel/cancel(_:)`` calls no observer);
  /// a model may use it for its own requests.
  case cancelled
}

/// Told when its activities finish or fail. Calls come from inside the simulation, at the
/// simulated time of the event.
///
/// The fluid model keeps each observer alive (once, however many activities name it), so an
/// observer holds the platform and the simulator `unowned`. One observer usually serves many
/// activities and tells them apart by `tag` (an index into its own table, which it clears when
/// the activity ends, so that nothing is kept per finished activity).
public protocol ActivityObserver: AnyObject {
  /// The activity was fully served and its latency has passed: called from the fluid model's event
  /// at that time. `tag` is what the model gave when it started the activity.
  func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator)
  /// The activity ended without finishing, for `reason`. Called at the failure's time: from inside
  /// the call that failed it (a host taken down by a fault event) or, for an activity that could not
  /// start, from an event at the time it was started (never from inside the call that started it).
  /// The activity's ID is no longer current; what it had carried is not counted.
  func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator)
}

/// The fluid model of bandwidth: activities share resources max-min fairly.
///
/// An activity needs `amount` units (bytes, work units) of service from every resource it uses;
/// its rate is the same on all of them, limited by its max-min fair share of the most contended
/// one (progressive filling: the resource with the smallest capacity per unfixed activity fixes
/// its activities at that share, which is removed from their other resources, and so on), and
/// by its own cap (one core's speed for a computation). This is the bandwidth-sharing model of
/// SimGrid's fluid network and CPU models, without TCP's RTT bias.
///
/// Changes are batched per instant: starting or ending any number of activities at one simulated
/// time marks their resources, and one solve at the end of the instant recomputes the rates of
/// the activities connected to them (through shared resources, transitively) and no others. An
/// activity's progress is brought up to date only when its rate changes.
///
/// - Complexity: a solve is O((A·P + R) log R) for the A activities and R resources of the
///   affected component, P resources per activity.
///
/// Units are the model's: a resource's capacity is units per second and an activity's `amount`
/// is units, bytes for links and disks (so bytes per second), work units for cores. Rates are
/// deterministic: the solve visits resources and activities in index order, so the same starts
/// in the same order give the same floating-point results. Models usually reach it through
/// ``Platform``, which builds the resources and routes; used alone:
///
/// ```swift
/// let fluid = FluidModel(simulator: simulator)
/// let link = fluid.addResource(name: "link", capacity: 125e6, kind: .hostLink)   // 1 Gbps
/// fluid.start(amount: 10e6, on: [link], latency: .microseconds(50), observer: self, tag: 7)
/// // 80.05 ms later (alone on the link): self.activityFinished(_, tag: 7, in:)
/// ```
public final class FluidModel: EventHandler {
  struct Resource {
    var name: String
    /// What activities share now: the nominal capacity, or less while degraded (a failing disk).
    var capacity: Double
    /// The capacity it was built with, and nominal / capacity (1 unless degraded).
    let nominal: Double
    var scale = 1.0
    var kind: ResourceClass
    var up = true
    /// Slots of the activities using it; ``FluidModel/routePosition`` says where each is.
    var activities: [Int32] = []
    /// Time-average of the allocated rate scaled to the nominal capacity (allocated x nominal /
    /// capacity), so that utilisation = this / nominal is the busy fraction, degraded or not.
    var allocated = TimeWeightedAverage()
    var allocatedNow = 0.0
    /// Units carried by finished activities, and that figure at the last statistics reset.
    var carried = 0.0
    var carriedAtReset = 0.0
  }

  /// A plain value (no references), so that copying one or reading its fields costs no
  /// reference counting; its resources are in ``FluidModel/routeResource``. The fields a solve
  /// reads come first and fill 64 bytes, one cache line (Swift lays a struct out in declaration
  /// order); the others follow.
  struct Activity {
    var remaining = 0.0
    var rate = 0.0
    var maxRate = Double.infinity
    var lastUpdate = SimTime.zero
    /// When the activity will finish at its current rate (its completion event may be earlier).
    var expected = SimTime.max
    var completion: EventHandle?
    var active = false
    /// Whether it is on its resources' lists (``FluidModel/routePosition`` says where).
    var placed = false
    /// How many resources it uses (its first `pathLength` route entries).
    var pathLength: Int32 = 0
    var amount = 0.0
    var latency = SimTime.zero
    var tag: Int64 = 0
    var generation: UInt32 = 0
    /// Index into ``FluidModel/observers`` (-1: none).
    var observer: Int32 = -1
    var endpoints: (Int32, Int32)?
    /// When it started, and its number among the run's activities (from 1): for the trace.
    var started = SimTime.zero
    var serial: Int64 = 0
  }

  enum Kind: Int32 {
    case solve = 0
    case complete = 1  // payload: slot
    case deliver = 2  // payload: slot (after the latency)
    case failLater = 3  // payload: slot (an activity that could not start)
  }

  unowned let simulator: Simulator
  var me = EntityID(0)
  var resources: [Resource] = []
  var activities: [Activity] = []
  /// Each slot's resources and its position in each resource's list, `routeStride` entries per
  /// slot (the longest path seen so far), flat: no array per activity, nothing kept per
  /// finished one (a slot is reused with its entries).
  var routeStride = 0
  var routeResource: [Int32] = []
  var routePosition: [Int32] = []
  var freeSlots: [Int32] = []
  var dirty: [Int32] = []
  /// Whom activities report to: held here (observers hold the platform unowned, so there is no
  /// cycle), each once; an activity keeps an index, which is cheaper to copy than a reference.
  var observers: [any ActivityObserver] = []
  var lastObserver: Int32 = -1
  /// The solver's scratch buffers, kept between solves to save allocations.
  var scratchComponent: [Int32] = []
  var scratchMembers: [Int32] = []
  var scratchHeap = ShareHeap()
  var scratchCapped: [Int32] = []
  var solveScheduled = false
  var failedLater: [Int32: FailureReason] = [:]
  /// Activities started so far, and the trace being written (nil: none).
  var startedCount: Int64 = 0
  var trace: ActivityTraceState?

  // Scratch space of the solver, reused between solves (stamps avoid clearing).
  var stamp = 0
  var resourceStamp: [Int] = []
  var activityStamp: [Int] = []
  var residual: [Double] = []
  var unfixed: [Int] = []
  var newRate: [Double] = []
  var fixedStamp: [Int] = []

  /// Activities that finished and failed, and solver work done (resources and activities visited).
  public private(set) var finishedCount = 0
  /// Activities that failed since the start of the run (cancelled ones are not counted).
  public private(set) var failedCount = 0
  var failedAtReset = 0
  /// Bytes of finished transfers between different hosts, and that figure at the last reset.
  var networkCarried = 0.0
  var networkCarriedAtReset = 0.0
  /// Told of every finished transfer between two hosts (the activity, sender, receiver, bytes):
  /// the platform's egress meter when a `cost:` section prices traffic; nil otherwise.
  var networkMeter: ((ActivityID, Int32, Int32, Double) -> Void)?
  /// Solves run so far (about one per instant at which activities started or ended).
  public internal(set) var solves = 0
  /// Resources and activities the solves have visited, a measure of their cost.
  public internal(set) var solverWork = 0

  /// An empty fluid model, registered with `simulator` as an entity (it schedules its own solve,
  /// completion and delivery events).
  public init(simulator: Simulator) {
    self.simulator = simulator
    me = simulator.register(self)
  }

  /// Adds a resource of the given capacity (units per second).
  ///
  /// - Precondition: `capacity` is positive and finite (a user's value is checked when read).
  @discardableResult
  public func addResource(name: String, capacity: Double, kind: ResourceClass) -> ResourceID {
    precondition(capacity > 0 && capacity.isFinite, "resource \(name): capacity must be positive")
    resources.append(Resource(name: name, capacity: capacity, nominal: capacity, kind: kind))
    resourceStamp.append(0)
    residual.append(0)
    unfixed.append(0)
    scratchHeap.addResource()
    return ResourceID(Int32(resources.count - 1))
  }

  /// The name the resource was added with (`rack1-host2/disk0-read`).
  public func name(of resource: ResourceID) -> String { resources[Int(resource.index)].name }
  /// What the resource can carry now, in units per second (less than nominal while degraded).
  public func capacity(of resource: ResourceID) -> Double { resources[Int(resource.index)].capacity }
  /// The capacity a resource was built with.
  public func nominalCapacity(of resource: ResourceID) -> Double { resources[Int(resource.index)].nominal }

  /// Changes what a resource can carry (a degrading disk, a throttled link), from now on; the
  /// activities on it are re-shared at once. Utilisation stays the busy fraction: a degraded
  /// resource that is saturated is fully utilised.
  public func setCapacity(_ resource: ResourceID, _ capacity: Double) {
    precondition(capacity > 0 && capacity.isFinite, "resource \(name(of: resource)): capacity must be positive")
    let r = Int(resource.index)
    guard resources[r].capacity != capacity else { return }
    resources[r].capacity = capacity
    resources[r].scale = resources[r].nominal / capacity
    // The running average is on the nominal scale: restate the current allocation.
    setAllocated(r, resources[r].allocatedNow)
    markDirty(resource.index)
  }
  /// Whether the resource is up (activities on a down one fail; new ones cannot start).
  public func isUp(_ resource: ResourceID) -> Bool { resources[Int(resource.index)].up }
  /// The rate currently allocated on a resource.
  public func allocated(on resource: ResourceID) -> Double { resources[Int(resource.index)].allocatedNow }
  /// Units carried through a resource by finished activities.
  public func carried(by resource: ResourceID) -> Double { resources[Int(resource.index)].carried }
  /// The number of resources added.
  public var resourceCount: Int { resources.count }

  /// Starts an activity of `amount` units over `resources` (all must differ), capped at
  /// `maxRate`; the observer hears of its end `latency` after its last unit is served.
  ///
  /// The rate is set by a solve event at the current time (after the events already due now), so
  /// activities started at one instant share fairly whatever order they were started in. An
  /// activity with no resources or no amount ends after its latency alone. If a resource is down,
  /// the activity fails (by an event at the current time) with the reason for that resource's class.
  ///
  /// - Parameters:
  ///   - amount: Units to serve: bytes for links and disks, work units for cores.
  ///   - resources: What it uses; it gets the same rate on every one.
  ///   - maxRate: Its own cap, in units per second (one core's speed for a computation).
  ///   - latency: Added after the last unit is served, before the observer hears of it.
  ///   - observer: Told of the end or the failure; kept alive by the fluid model.
  ///   - tag: Handed back to the observer.
  ///   - endpoints: Host indices at its two ends, which partitions and the trace look at.
  ///   - deferred: Internal use: reserve the slot but do not start it.
  /// - Returns: The activity's ID, current until it finishes, fails or is cancelled.
  /// - Precondition: `amount` finite and not negative; `maxRate` positive.
  @discardableResult
  public func start(
    amount: Double, on resources: [ResourceID], maxRate: Double = .infinity, latency: SimTime = .zero,
    observer: any ActivityObserver, tag: Int64 = 0, endpoints: (Int32, Int32)? = nil, deferred: Bool = false
  ) -> ActivityID {
    precondition(amount >= 0 && amount.isFinite, "activity amount must be finite and >= 0")
    precondition(maxRate > 0, "activity max rate must be positive")
    let slot: Int32
    if resources.count > routeStride { widenRoutes(to: resources.count) }
    if let reused = freeSlots.popLast() {
      slot = reused
    } else {
      activities.append(Activity())
      activityStamp.append(0)
      newRate.append(0)
      fixedStamp.append(0)
      routeResource.append(contentsOf: repeatElement(-1, count: routeStride))
      routePosition.append(contentsOf: repeatElement(-1, count: routeStride))
      slot = Int32(activities.count - 1)
    }
    let observerIndex = index(of: observer)
    let generation = activities[Int(slot)].generation &+ 1
    activities[Int(slot)].generation = generation
    activities[Int(slot)].active = true
    activities[Int(slot)].amount = amount
    activities[Int(slot)].remaining = amount
    activities[Int(slot)].rate = 0
    activities[Int(slot)].maxRate = maxRate
    activities[Int(slot)].lastUpdate = simulator.now
    let base = Int(slot) * routeStride
    for (k, r) in resources.enumerated() { routeResource[base + k] = r.index }
    activities[Int(slot)].pathLength = Int32(resources.count)
    activities[Int(slot)].placed = false
    activities[Int(slot)].completion = nil
    activities[Int(slot)].latency = latency
    activities[Int(slot)].observer = observerIndex
    activities[Int(slot)].tag = tag
    activities[Int(slot)].endpoints = endpoints
    startedCount += 1
    activities[Int(slot)].started = simulator.now
    activities[Int(slot)].serial = startedCount
    let id = ActivityID(slot: slot, generation: generation)
    if deferred { return id }
    if let down = resources.first(where: { !self.resources[Int($0.index)].up }) {
      // It cannot start: it fails at once (announced by an event, not from inside this call).
      if trace != nil { traceRow(slot, outcome: reason(forDown: down).rawValue) }
      activities[Int(slot)].pathLength = 0
      failedLater[slot] = reason(forDown: down)
      simulator.schedule(after: .zero, to: me, kind: Kind.failLater.rawValue, payload: Int64(slot))
      return id
    }
    for (k, r) in resources.enumerated() {
      routePosition[base + k] = Int32(self.resources[Int(r.index)].activities.count)
      self.resources[Int(r.index)].activities.append(slot)
      markDirty(r.index)
    }
    activities[Int(slot)].placed = true
    if resources.isEmpty || amount == 0 {
      // Nothing to share: it ends after its latency.
      finish(slot)
    }
    return id
  }

  /// An activity that cannot start (its host is down, a partition is in the way): the observer
  /// hears of its failure at once, by an event at the current time.
  /// `amount` and `endpoints` are what it would have carried, for the trace.
  @discardableResult
  public func startFailed(
    observer: any ActivityObserver, tag: Int64 = 0, reason: FailureReason, amount: Double = 0,
    endpoints: (Int32, Int32)? = nil
  ) -> ActivityID {
    let id = start(amount: amount, on: [], observer: observer, tag: tag, endpoints: endpoints, deferred: true)
    if trace != nil { traceRow(id.slot, outcome: reason.rawValue) }
    failedLater[id.slot] = reason
    simulator.schedule(after: .zero, to: me, kind: Kind.failLater.rawValue, payload: Int64(id.slot))
    return id
  }

  /// Cancels an activity (no callback). Its resources are re-shared by a solve at the current time;
  /// a stale ID (an activity that already ended) is ignored.
  public func cancel(_ activity: ActivityID) {
    guard isCurrent(activity) else { return }
    end(activity.slot)
  }

  /// Whether `activity` is still running (or waiting out its latency).
  public func isCurrent(_ activity: ActivityID) -> Bool {
    let a = activities[Int(activity.slot)]
    return a.active && a.generation == activity.generation
  }

  /// The endpoints recorded for a running activity.
  public func endpoints(of activity: ActivityID) -> (Int32, Int32)? {
    isCurrent(activity) ? activities[Int(activity.slot)].endpoints : nil
  }

  /// The current rate of a running activity.
  public func rate(of activity: ActivityID) -> Double {
    isCurrent(activity) ? activities[Int(activity.slot)].rate : 0
  }

  /// Takes a resource down (every activity on it fails) or brings it back.
  ///
  /// Failures are reported from inside this call, in the order of the resource's activity list;
  /// bringing a resource back restarts nothing. Faults go through ``Platform`` instead, which
  /// counts causes and tells its observers.
  public func setUp(_ resource: ResourceID, _ up: Bool, reason: FailureReason) {
    let r = Int(resource.index)
    guard resources[r].up != up else { return }
    resources[r].up = up
    guard !up else { return }
    let victims = resources[r].activities
    for slot in victims { fail(slot, reason: reason) }
  }

  /// Fails every running activity for which `predicate(endpoints)` holds (a partition forming).
  public func failActivities(reason: FailureReason, where predicate: ((Int32, Int32)) -> Bool) {
    var victims: [Int32] = []
    for (slot, a) in activities.enumerated() where a.active && a.pathLength > 0 {
      if let endpoints = a.endpoints, predicate(endpoints) { victims.append(Int32(slot)) }
    }
    for slot in victims { fail(slot, reason: reason) }
  }

  func reason(forDown resource: ResourceID) -> FailureReason {
    switch resources[Int(resource.index)].kind {
    case .cpu: .hostDown
    case .disk: .diskFailed
    case .hostLink, .uplink: .linkDown
    }
  }

  // MARK: Events

  /// The fluid model's own events: the end-of-instant solve, completions (a completion that fires
  /// early, because the rate fell, is rescheduled), deliveries after the latency, and failures of
  /// activities that could not start. Models do not schedule these.
  public func handle(_ event: Event, in simulator: Simulator) {
    let slot = Int32(truncatingIfNeeded: event.payload)
    switch Kind(rawValue: event.kind) {
    case .solve:
      solveScheduled = false
      solve()
    case .complete:
      // Only the completion event the activity currently expects counts.
      guard activities[Int(slot)].active, activities[Int(slot)].completion?.sequence == event.sequence else { return }
      activities[Int(slot)].completion = nil
      let expected = activities[Int(slot)].expected
      if expected > simulator.now {
        // Fired early (its rate fell since it was scheduled): wait for the real finish.
        if expected != .max {
          activities[Int(slot)].completion = simulator.schedule(
            at: expected, to: me, kind: Kind.complete.rawValue, payload: Int64(slot))
        }
        return
      }
      finish(slot)
    case .deliver:
      guard activities[Int(slot)].active else { return }
      let id = ActivityID(slot: slot, generation: activities[Int(slot)].generation)
      let (observer, tag) = (activities[Int(slot)].observer, activities[Int(slot)].tag)
      release(slot)
      finishedCount += 1
      if observer >= 0 { observers[Int(observer)].activityFinished(id, tag: tag, in: simulator) }
    case .failLater:
      guard let reason = failedLater.removeValue(forKey: slot), activities[Int(slot)].active else { return }
      notifyFailure(slot, reason: reason)
    case nil:
      preconditionFailure("unknown fluid event kind \(event.kind)")
    }
  }

  /// The last unit is served: free the resources now, tell the observer after the latency.
  func finish(_ slot: Int32) {
    let amount = activities[Int(slot)].amount
    // A transfer between two hosts (a disk operation or a computation has one host at both ends).
    if let ends = activities[Int(slot)].endpoints, ends.0 != ends.1 {
      networkCarried += amount
      networkMeter?(ActivityID(slot: slot, generation: activities[Int(slot)].generation), ends.0, ends.1, amount)
    }
    if trace != nil { traceRow(slot, outcome: "finished") }
    let base = Int(slot) * routeStride
    for k in 0..<Int(activities[Int(slot)].pathLength) { resources[Int(routeResource[base + k])].carried += amount }
    removeFromResources(slot)
    simulator.schedule(after: activities[Int(slot)].latency, to: me, kind: Kind.deliver.rawValue, payload: Int64(slot))
  }

  func fail(_ slot: Int32, reason: FailureReason) {
    guard activities[Int(slot)].active else { return }
    if trace != nil { traceRow(slot, outcome: reason.rawValue) }
    removeFromResources(slot)
    if let handle = activities[Int(slot)].completion { simulator.cancel(handle) }
    activities[Int(slot)].completion = nil
    notifyFailure(slot, reason: reason)
  }

  /// Frees the slot and tells the observer the activity failed.
  func notifyFailure(_ slot: Int32, reason: FailureReason) {
    let id = ActivityID(slot: slot, generation: activities[Int(slot)].generation)
    let (observer, tag) = (activities[Int(slot)].observer, activities[Int(slot)].tag)
    release(slot)
    failedCount += 1
    if observer >= 0 { observers[Int(observer)].activityFailed(id, tag: tag, reason: reason, in: simulator) }
  }

  /// Forgets an observer whose part in the run is over: a stand-in takes its index, so its
  /// activities still running end unheard and the fluid model no longer holds it.
  public func release(_ observer: any ActivityObserver) {
    guard let k = observers.firstIndex(where: { $0 === observer }) else { return }
    observers[k] = SilentObserver()
    if lastObserver == Int32(k) { lastObserver = -1 }
  }

  /// The index of an observer in ``observers`` (registered on first use; there are few).
  func index(of observer: any ActivityObserver) -> Int32 {
    if lastObserver >= 0, observers[Int(lastObserver)] === observer { return lastObserver }
    if let k = observers.firstIndex(where: { $0 === observer }) {
      lastObserver = Int32(k)
    } else {
      observers.append(observer)
      lastObserver = Int32(observers.count - 1)
    }
    return lastObserver
  }

  func end(_ slot: Int32) {
    if trace != nil, activities[Int(slot)].placed { traceRow(slot, outcome: "cancelled") }
    removeFromResources(slot)
    if let handle = activities[Int(slot)].completion { simulator.cancel(handle) }
    activities[Int(slot)].completion = nil
    failedLater.removeValue(forKey: slot)
    release(slot)
  }

  func release(_ slot: Int32) {
    activities[Int(slot)].active = false
    activities[Int(slot)].observer = -1
    freeSlots.append(slot)
  }

  /// Takes an activity off its resources (swap-remove, fixing the moved activity's position).
  func removeFromResources(_ slot: Int32) {
    let base = Int(slot) * routeStride
    let length = Int(activities[Int(slot)].pathLength)
    if activities[Int(slot)].placed {
      for k in 0..<length {
        let r = routeResource[base + k]
        let position = Int(routePosition[base + k])
        let lastSlot = resources[Int(r)].activities.removeLast()
        if lastSlot != slot {
          resources[Int(r)].activities[position] = lastSlot
          let lastBase = Int(lastSlot) * routeStride
          var j = lastBase
          while routeResource[j] != r { j += 1 }
          routePosition[j] = Int32(position)
        }
        markDirty(r)
      }
    }
    // Progress and rate stop here.
    if activities[Int(slot)].rate > 0 {
      for k in 0..<length {
        let r = Int(routeResource[base + k])
        setAllocated(r, resources[r].allocatedNow - activities[Int(slot)].rate)
      }
    }
    activities[Int(slot)].rate = 0
    activities[Int(slot)].pathLength = 0
    activities[Int(slot)].placed = false
  }

  /// Makes room for paths of `stride` resources in every slot (paths only get longer, and only
  /// up to the longest route of the platform, so this happens a handful of times per run).
  func widenRoutes(to stride: Int) {
    let old = routeStride
    var resource = [Int32](repeating: -1, count: activities.count * stride)
    var position = [Int32](repeating: -1, count: activities.count * stride)
    for slot in 0..<activities.count {
      for k in 0..<old {
        resource[slot * stride + k] = routeResource[slot * old + k]
        position[slot * stride + k] = routePosition[slot * old + k]
      }
    }
    routeResource = resource
    routePosition = position
    routeStride = stride
  }

  func markDirty(_ resource: Int32) {
    dirty.append(resource)
    if !solveScheduled {
      solveScheduled = true
      simulator.schedule(after: .zero, to: me, kind: Kind.solve.rawValue)
    }
  }

  func setAllocated(_ r: Int, _ value: Double) {
    let clamped = max(0, value)
    resources[r].allocatedNow = clamped
    let scale = resources[r].scale
    resources[r].allocated.update(scale == 1 ? clamped : clamped * scale, at: simulator.now)
  }
}

/// What stands in for a released observer (``FluidModel/release(_:)``): it hears nothing.
final class SilentObserver: ActivityObserver {
  func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {}
  func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {}
}
