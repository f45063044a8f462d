/// Something that receives events: a model's entity (a station, a broker, a logical process).
///
/// Entities are registered once with ``Simulator/register(_:)`` and addressed afterwards by the
/// ``EntityID`` it returns. One handler may stand for many model-level entities (a table of
/// stations, say) and tell them apart by the event's `payload`.
///
/// The simulator keeps its entities alive; an entity that keeps a reference to the simulator
/// must make it `unowned`, or the two form a cycle and neither is ever freed.
public protocol EventHandler: AnyObject {
  /// Reacts to `event` at `simulator.now == event.time`, typically by scheduling more events.
  ///
  /// Called inside the run loop, on the simulator's thread, at the event's simulated time; the
  /// handler may schedule, cancel and ``Simulator/stop()``, but must not call
  /// ``Simulator/run(until:)``. Anything it draws at random comes from a named ``RandomStream``
  /// of the run's ``RandomStreams``, never from Swift's `random` or the wall clock.
  func handle(_ event: Event, in simulator: Simulator)
}

/// The discrete-event engine: a clock, a queue of pending events and the entities they go to.
///
/// Events fire in (time, scheduling order): simultaneous events fire in the order they were
/// scheduled, so a run is a deterministic function of its inputs. The engine is single-threaded
/// by design; parallelism comes from running many replications at once.
///
/// A model keeps the run deterministic by drawing only from ``RandomStream``s of its
/// ``RunContext/streams``, and by putting the contents of a `Dictionary` or `Set` in a fixed order
/// (sorted, or by index) before the order can affect which events are scheduled. To keep memory flat
/// in simulated time, per-request state lives only while the request does; what is reported at the
/// end is kept in streaming accumulators (``RunningStatistics``, ``LatencyHistogram``,
/// ``TimeWeightedAverage``).
///
/// ```swift
/// let sim = Simulator()
/// let station = sim.register(myStation)
/// sim.schedule(after: .milliseconds(5), to: station, kind: 0)
/// sim.run(until: .seconds(60))
/// ```
///
/// In the entity, `handle(_:in:)` switches on `event.kind` and schedules what follows, for instance
/// `sim.schedule(after: SimTime(seconds: service.exponential(mean: 0.004)), to: me, kind: 1)`.
public final class Simulator {
  /// The current simulated time: the time of the event being handled, or where the run stopped.
  public private(set) var now: SimTime = .zero
  /// Events handled so far (cancelled events are not counted).
  public private(set) var eventsProcessed: UInt64 = 0

  /// Pending events (see ``EventQueueKind`` for the choice of structure).
  @usableFromInline var queue: EventQueue
  /// The entities, owned here; ``dispatch`` holds the same references unretained, so that
  /// delivering an event costs no reference counting.
  @usableFromInline var handlers: ContiguousArray<any EventHandler> = []
  @usableFromInline var dispatch: ContiguousArray<UnretainedHandler> = []
  @usableFromInline var nextSequence: UInt64 = 0
  /// Sequence of the last event taken off the queue: events at `now` with a sequence at most
  /// this have fired already, which is how ``cancel(_:)`` tells pending from past events.
  @usableFromInline var lastPoppedSequence: UInt64 = 0
  @usableFromInline var hasPopped = false
  /// Pending events that were cancelled; they are skipped (and forgotten) when they come up, or
  /// removed from the queue all at once when they make up half of it (see ``cancel(_:)``).
  @usableFromInline var cancelled = SequenceSet()
  /// Times the queue was rid of its cancelled events.
  public private(set) var compactions = 0
  @usableFromInline var stopRequested = false
  /// Where a display on another thread reads this run's progress (``RunProgress/current`` of the
  /// thread that made the simulator).
  @usableFromInline let progress = RunProgress.current

  /// A simulator whose event queue is `queue` (the heap suits most models; a calendar queue
  /// suits hold-like workloads such as PHOLD).
  public init(expectedPendingEvents: Int = 1024, queue: EventQueueKind = .heap) {
    self.queue = EventQueue(kind: queue)
    self.queue.reserveCapacity(expectedPendingEvents)
  }

  /// The number of events waiting to fire (including cancelled ones not yet skipped).
  public var pendingEvents: Int { queue.count - cancelled.count }

  /// Registers an entity and returns the address its events are sent to.
  ///
  /// The simulator keeps `handler` alive until the simulator itself is freed; IDs are given in
  /// registration order from 0, so registering in a fixed order keeps runs identical.
  ///
  /// - Precondition: fewer than 2^24 entities.
  @discardableResult
  public func register(_ handler: any EventHandler) -> EntityID {
    precondition(handlers.count <= Int(Event.maximumTarget), "more than 2^24 entities")
    handlers.append(handler)
    dispatch.append(UnretainedHandler(handler: handler))
    return EntityID(Int32(handlers.count - 1))
  }

  /// Lets go of every registered entity, for the end of a run whose results have been read: an
  /// entity that holds the simulator strongly (a closure capturing it) would otherwise keep the
  /// simulator, and with it every entity of the run, alive after the run. Nothing may be
  /// scheduled or run afterwards.
  public func releaseEntities() {
    handlers.removeAll()
    dispatch.removeAll()
  }

  /// Lets go of one entity whose part in the run is over (a finished job of a longer model): a
  /// stand-in that ignores events takes its place, so its events still pending are dropped when
  /// they come up and the simulator no longer holds it. Its ID is not given again.
  ///
  /// Call it from another entity's handler, never from the entity's own.
  public func retire(_ id: EntityID) {
    let standIn = RetiredEntity()
    handlers[Int(id.index)] = standIn
    dispatch[Int(id.index)] = UnretainedHandler(handler: standIn)
  }

  /// Schedules an event at an absolute time, which must not be in the past.
  ///
  /// Events at the same `time` fire in the order they were scheduled (the sequence number is
  /// taken here), also when one is scheduled from inside a handler for the current instant.
  ///
  /// - Parameters:
  ///   - time: When the event fires; ``SimTime/max`` means it never fires before a finite horizon.
  ///   - target: The entity it is delivered to, as returned by ``register(_:)``.
  ///   - kind: Which of the entity's event kinds (0...255).
  ///   - payload: A number the entity interprets (within ``Event/payloadRange``).
  /// - Returns: The handle with which the event can be cancelled.
  /// - Precondition: `time >= now`, `target` registered, `kind` in 0...255 and `payload` within
  ///   ±2^39. These guard programming errors: check user input before it reaches here.
  @inlinable @discardableResult
  public func schedule(at time: SimTime, to target: EntityID, kind: Int32 = 0, payload: Int64 = 0) -> EventHandle {
    precondition(time >= now, "event scheduled in the past (\(time) < now \(now))")
    precondition(Int(target.index) < handlers.count && target.index >= 0, "no entity \(target.index)")
    precondition(kind >= 0 && kind <= Event.maximumKind, "event kind \(kind) outside 0...255")
    precondition(Event.payloadRange.contains(payload), "event payload \(payload) outside ±2^39")
    let sequence = nextSequence
    nextSequence &+= 1
    queue.push(Event(time: time, sequence: sequence, target: target, kind: kind, payload: payload))
    return EventHandle(time: time, sequence: sequence)
  }

  /// Schedules an event `delay` after now (a delay of zero fires after the events already due now).
  ///
  /// The sum saturates, so a delay of ``SimTime/max`` schedules the event at the end of time.
  ///
  /// - Returns: The handle with which the event can be cancelled.
  /// - Precondition: `delay` is not negative, with the preconditions of
  ///   ``schedule(at:to:kind:payload:)``.
  @inlinable @discardableResult
  public func schedule(after delay: SimTime, to target: EntityID, kind: Int32 = 0, payload: Int64 = 0) -> EventHandle {
    precondition(delay.nanoseconds >= 0, "negative delay \(delay)")
    return schedule(at: now + delay, to: target, kind: kind, payload: payload)
  }

  /// Cancels a pending event. Returns false (and does nothing) if it has already fired or was
  /// already cancelled.
  ///
  /// The event stays in the queue and is dropped when it comes up, unless cancelled events come
  /// to be at least half of the queue (and more than ``compactionThreshold``): then they are all
  /// removed at once, so the queue holds at most twice the live events however many are
  /// cancelled. Order is unaffected: events still fire in (time, sequence) order. (A handle
  /// cancelled again after its event was removed so is not recognised: the call returns true and
  /// changes nothing but ``pendingEvents`` until the next removal.)
  ///
  /// - Complexity: O(1) amortised.
  @discardableResult
  public func cancel(_ handle: EventHandle) -> Bool {
    // Events leave the queue in strictly increasing (time, sequence) order, so a handle at or
    // before the last one taken off has fired (or was skipped) already.
    if handle.sequence >= nextSequence { return false }
    if hasPopped
      && (handle.time < lastPoppedTime
        || (handle.time == lastPoppedTime && handle.sequence <= lastPoppedSequence))
    {
      return false
    }
    guard cancelled.insert(handle.sequence) else { return false }
    if cancelled.count > Simulator.compactionThreshold, cancelled.count * 2 >= queue.count { compact() }
    return true
  }

  /// Cancelled events the queue may hold before they are removed from it at once (if they are
  /// also half of it).
  public static let compactionThreshold = 1024

  /// Removes every cancelled event from the queue: O(queue size), paid for by the cancellations
  /// since the last compaction (at least half of that size).
  func compact() {
    let set = cancelled
    queue.removeAll { set.contains($0.sequence) }
    cancelled.removeAll()
    compactions += 1
  }

  @usableFromInline var lastPoppedTime: SimTime = .zero

  /// Ends the run after the event being handled: ``run(until:)`` returns ``Outcome/stopped``
  /// with `now` at that event's time, leaving later events in the queue.
  public func stop() { stopRequested = true }

  /// Why ``run(until:)`` returned.
  public enum Outcome: Equatable, Sendable {
    /// No events remain.
    case exhausted
    /// The next event lies beyond the horizon; `now` is the horizon.
    case reachedHorizon
    /// An entity called ``stop()``.
    case stopped
  }

  /// Handles events in order until none remain, the next lies after `horizon`, or ``stop()``.
  ///
  /// Events at exactly `horizon` fire. On reaching a finite horizon (or exhausting the queue
  /// before it) the clock is advanced to `horizon`, so time-weighted statistics close there.
  @discardableResult
  public func run(until horizon: SimTime = .max) -> Outcome {
    stopRequested = false
    while true {
      // Pop first and put back the one event beyond the horizon: a calendar queue finds the
      // minimum by scanning, so a separate peek would scan twice per event.
      guard let event = queue.popMin() else {
        if horizon != .max, horizon > now { now = horizon }
        return .exhausted
      }
      if event.time > horizon {
        queue.push(event)
        if horizon > now { now = horizon }
        return .reachedHorizon
      }
      lastPoppedSequence = event.sequence
      lastPoppedTime = event.time
      hasPopped = true
      if !cancelled.isEmpty, cancelled.remove(event.sequence) { continue }
      now = event.time
      eventsProcessed &+= 1
      if eventsProcessed & 0xFFF == 0, let progress { progress.publish(now: now, events: eventsProcessed) }
      dispatch[Int(event.target.index)].handler.handle(event, in: self)
      if stopRequested { return .stopped }
    }
  }
}

/// What stands in for a retired entity (``Simulator/retire(_:)``): it ignores its events.
final class RetiredEntity: EventHandler {
  func handle(_ event: Event, in simulator: Simulator) {}
}

/// A reference to a handler that the simulator's `handlers` array keeps alive.
@usableFromInline
struct UnretainedHandler {
  @usableFromInline unowned(unsafe) let handler: any EventHandler
  @usableFromInline init(handler: any EventHandler) { self.handler = handler }
}
