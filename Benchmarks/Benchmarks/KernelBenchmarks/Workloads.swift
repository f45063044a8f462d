import SimKernel
import SimPHOLD

/// Precomputed time increments, so that the hold loops measure the queue and not the RNG.
///
/// 65,536 increments (512 KiB, read sequentially) of `lookahead + Exp(mean)` seconds.
func makeIncrements(lookahead: Double, mean: Double, seed: UInt64 = 0xB05E_ED) -> ContiguousArray<Int64> {
  let stream = RandomStream(seed: seed, name: "increments")
  let step = SimTime(seconds: lookahead)
  return ContiguousArray((0..<(1 << 16)).map { _ in (step + SimTime(seconds: stream.exponential(mean: mean))).nanoseconds })
}

/// Increments from a two-scale mixture: Exp(`shortMean`) with probability `shortProbability`,
/// else Exp(`longMean`) (seconds): events of very different time scales in one queue, as a model
/// of network packets and batch jobs would have.
func makeMixtureIncrements(
  shortProbability: Double, shortMean: Double, longMean: Double, seed: UInt64 = 0xB1_40DA
) -> ContiguousArray<Int64> {
  let stream = RandomStream(seed: seed, name: "mixture")
  return ContiguousArray(
    (0..<(1 << 16)).map { _ in
      let mean = stream.uniform() < shortProbability ? shortMean : longMean
      return SimTime(seconds: stream.exponential(mean: mean)).nanoseconds
    })
}

/// The classic hold model on a bare queue: pop the minimum, push one event at its time plus an
/// increment. The queue keeps its size, so after warm-up nothing is allocated.
final class HoldModel<Queue: EventQueue> {
  var queue = Queue()
  var sequence: UInt64 = 0
  var cursor = 0
  let increments: ContiguousArray<Int64>

  /// Fills the queue with `pending` events at times drawn like the increments (as PHOLD starts)
  /// and runs `20 x pending` holds, so the queue and its storage reach their steady state.
  init(pending: Int, increments: ContiguousArray<Int64>) {
    self.increments = increments
    queue.reserveCapacity(pending)
    for _ in 0..<pending {
      queue.push(Event(time: SimTime(nanoseconds: increments[cursor]), sequence: sequence, target: EntityID(0), kind: 0, payload: 0))
      sequence += 1
      cursor = (cursor + 1) & (increments.count - 1)
    }
    _ = run(holds: 20 * pending)
  }

  /// Performs `holds` hold operations; returns a checksum of the popped times.
  @inline(never)
  func run(holds: Int) -> Int64 {
    increments.withUnsafeBufferPointer { increments in
      hold(&queue, holds: holds, increments: increments, cursor: &cursor, sequence: &sequence)
    }
  }
}

@inline(__always)
func hold<Queue: EventQueue>(
  _ queue: inout Queue, holds: Int, increments: UnsafeBufferPointer<Int64>, cursor: inout Int, sequence: inout UInt64
) -> Int64 {
  var checksum: Int64 = 0
  var position = cursor
  var next = sequence
  let mask = increments.count - 1
  for _ in 0..<holds {
    let event = queue.popMin().unsafelyUnwrapped
    checksum &+= event.time.nanoseconds
    let time = SimTime(nanoseconds: event.time.nanoseconds &+ increments[position])
    position = (position &+ 1) & mask
    queue.push(Event(time: time, sequence: next, target: event.target, kind: 0, payload: event.payload))
    next &+= 1
  }
  cursor = position
  sequence = next
  return checksum
}

/// The hold model through ``Simulator``: one entity whose events each reschedule it, stopping
/// the run after a set number of events.
final class Rescheduler: EventHandler {
  let simulator: Simulator
  var me = EntityID(0)
  let increments: ContiguousArray<Int64>
  var cursor = 0
  var remaining = 0

  init(pending: Int, increments: ContiguousArray<Int64>) {
    self.increments = increments
    simulator = Simulator(expectedPendingEvents: pending + 1)
    me = simulator.register(self)
    for _ in 0..<pending {
      simulator.schedule(after: SimTime(nanoseconds: nextIncrement()), to: me)
    }
    run(events: 20 * pending)
  }

  @inline(__always) func nextIncrement() -> Int64 {
    let increment = increments[cursor]
    cursor = (cursor &+ 1) & (increments.count - 1)
    return increment
  }

  func handle(_ event: Event, in simulator: Simulator) {
    simulator.schedule(after: SimTime(nanoseconds: nextIncrement()), to: me, payload: event.payload)
    remaining &-= 1
    if remaining == 0 { simulator.stop() }
  }

  /// Handles exactly `events` events.
  func run(events: Int) {
    remaining = events
    let outcome = simulator.run()
    precondition(outcome == .stopped)
  }
}

/// PHOLD's exact sequence of queue operations, recorded from the real model and replayed on a
/// bare queue, so that the queues can be compared on PHOLD's access pattern without repeating
/// the model here (the kernel's `Simulator` cannot take another queue).
///
/// Recording: the real ``PHOLD`` handler runs on a ``Simulator`` behind a recorder (entity 0, as
/// the model is in its own simulator), which notes every event handled. Handling the i-th event
/// schedules exactly one event, sequence `initial.count + i`: that is `pushes[i]`. The run goes
/// on past the end time until every event scheduled before it has fired, so each one's time is
/// known.
///
/// Replay: push `initial`, then pop, and push `pushes[i]` for the i-th event popped, until an
/// event lies beyond the end time (pushed back, as `Simulator.run` does). The model's random
/// draws and dispatch are not in the replay: only the queue is measured.
struct PHOLDTrace: Sendable {
  let initial: ContiguousArray<Event>
  let pushes: ContiguousArray<Event>
  let end: SimTime
  /// ``orderHash(_:)`` of the sequences handled up to the end time, in order.
  let expectedOrder: UInt64

  var events: Int { pushes.count }

  /// Passes each event on to the model, and notes it.
  final class Recorder: EventHandler {
    let model: PHOLD
    var handled: [Event] = []
    /// After the end time: stop once this many events with a sequence below `limit` have fired.
    var remaining = Int.max
    var limit = UInt64.max

    init(model: PHOLD) { self.model = model }

    func handle(_ event: Event, in simulator: Simulator) {
      handled.append(event)
      model.handle(event, in: simulator)
      if event.sequence < limit {
        remaining -= 1
        if remaining == 0 { simulator.stop() }
      }
    }
  }

  /// Records the run of `PHOLD.prepare(parameters, streams:)` and checks it against the real one.
  static func record(_ parameters: PHOLDParameters, streams: RandomStreams) -> PHOLDTrace {
    let pending = parameters.lps * parameters.eventsPerLP
    // The model's own initial events go to a simulator that never runs.
    let recorder = Recorder(model: PHOLD(parameters: parameters, streams: streams, simulator: Simulator()))
    let simulator = Simulator(expectedPendingEvents: pending + 1)
    let me = simulator.register(recorder)
    // The same initial events, from the same draws of the model's stream.
    let draws = streams.stream("phold")
    for lp in 0..<pending {
      let time = SimTime(seconds: draws.exponential(mean: parameters.mean))
      simulator.schedule(at: time, to: me, payload: Int64(lp / parameters.eventsPerLP))
    }
    let end = SimTime(seconds: parameters.endTime)
    simulator.run(until: end)
    let handledByEnd = recorder.handled.count
    let remoteSends = recorder.model.remoteSends
    let handledPerLP = recorder.model.handledPerLP

    let reference = try! PHOLD.prepare(parameters, streams: streams)
    reference.execute()
    guard handledByEnd == Int(reference.simulator.eventsProcessed), remoteSends == reference.model.remoteSends,
      handledPerLP == reference.model.handledPerLP
    else {
      fatalError(
        "PHOLD trace: recorded \(handledByEnd) events (\(remoteSends) remote), "
          + "PHOLD handled \(reference.simulator.eventsProcessed) (\(reference.model.remoteSends) remote)")
    }

    // Every event scheduled up to the end time: pending ones fire after it.
    let scheduled = pending + handledByEnd
    recorder.limit = UInt64(scheduled)
    recorder.remaining = simulator.pendingEvents
    precondition(simulator.run() == .stopped)
    var bySequence = ContiguousArray<Event?>(repeating: nil, count: scheduled)
    for event in recorder.handled where event.sequence < UInt64(scheduled) {
      bySequence[Int(event.sequence)] = event
    }
    let events = ContiguousArray(bySequence.map { $0! })
    return PHOLDTrace(
      initial: ContiguousArray(events[..<pending]), pushes: ContiguousArray(events[pending...]), end: end,
      expectedOrder: orderHash(recorder.handled[..<handledByEnd].map(\.sequence)))
  }

  /// FNV-1a over the sequences, in order.
  static func orderHash(_ sequences: some Sequence<UInt64>) -> UInt64 {
    sequences.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ $1) &* 0x100_0000_01b3 }
  }

  /// A queue holding the initial events.
  func startQueue<Queue: EventQueue>(_ type: Queue.Type) -> Queue {
    var queue = Queue()
    queue.reserveCapacity(initial.count + 1)
    for event in initial { queue.push(event) }
    return queue
  }

  /// Replays the run on `queue` (from ``startQueue(_:)``); returns the events handled and the
  /// ``orderHash(_:)`` of their sequences.
  @inline(never)
  func replay<Queue: EventQueue>(on queue: inout Queue) -> (events: Int, order: UInt64) {
    pushes.withUnsafeBufferPointer { pushes in
      var handled = 0
      var order: UInt64 = 0xcbf2_9ce4_8422_2325
      while let event = queue.popMin() {
        // (A queue that popped in another order could run out of pushes first.)
        if event.time > end || handled == pushes.count {
          queue.push(event)
          break
        }
        order = (order ^ event.sequence) &* 0x100_0000_01b3
        queue.push(pushes[handled])
        handled &+= 1
      }
      return (handled, order)
    }
  }
}
