import SimKernel

/// PHOLD (Fujimoto 1990), the standard benchmark of discrete-event engines.
///
/// `lps` logical processes each start with `eventsPerLP` events. Handling an event at LP i at
/// time t schedules exactly one new event at t + lookahead + Exp(mean), sent to a uniformly
/// chosen LP (i included) with probability `remote`, else to i itself. The number of pending
/// events therefore stays at lps x eventsPerLP: a pure test of the event queue and dispatch.
public struct PHOLDParameters: Sendable, Equatable {
  public var lps: Int = 1024
  public var eventsPerLP: Int = 16
  public var remote: Double = 0.5
  /// Minimum increment, in simulated seconds.
  public var lookahead: Double = 0.1
  /// Mean of the exponential part of the increment, in simulated seconds.
  public var mean: Double = 1
  /// Events after this simulated time are not handled.
  public var endTime: Double = 1000

  public init() {}

  public func validate() throws(ValueError) {
    guard lps >= 1, lps <= Int(Int32.max) else { throw ValueError("lps must be >= 1, got \(lps)", key: "lps") }
    guard eventsPerLP >= 1 else {
      throw ValueError("events per LP must be >= 1, got \(eventsPerLP)", key: "events_per_lp")
    }
    guard lps.multipliedReportingOverflow(by: eventsPerLP).partialValue <= 100_000_000,
      !lps.multipliedReportingOverflow(by: eventsPerLP).overflow
    else {
      throw ValueError("lps x events per LP must be at most 100 million pending events", key: "events_per_lp")
    }
    guard remote.isFinite, remote >= 0, remote <= 1 else {
      throw ValueError("remote must be a probability in [0, 1], got \(remote)", key: "remote")
    }
    guard lookahead.isFinite, lookahead >= 0 else {
      throw ValueError("lookahead must be >= 0, got \(lookahead)", key: "lookahead")
    }
    guard mean.isFinite, mean > 0 else { throw ValueError("mean must be > 0, got \(mean)", key: "mean") }
    guard lookahead > 0 || mean > 0 else { throw ValueError("lookahead and mean cannot both be 0", key: "mean") }
    _ = try SimTime(validatingSeconds: endTime)
  }
}

/// The PHOLD model on a ``Simulator``: one handler for all LPs; the event payload is the LP.
public final class PHOLD: EventHandler {
  let parameters: PHOLDParameters
  let stream: RandomStream
  let lookahead: SimTime
  let meanSeconds: Double
  let remote: Double
  let lpCount: Int
  var me = EntityID(0)
  /// Events handled per LP.
  public private(set) var handledPerLP: [Int]
  /// How many handled events were sent to another LP (remote draws that picked someone else).
  public private(set) var remoteSends = 0

  public init(parameters: PHOLDParameters, streams: RandomStreams, simulator: Simulator) {
    self.parameters = parameters
    stream = streams.stream("phold")
    lookahead = SimTime(seconds: parameters.lookahead)
    meanSeconds = parameters.mean
    remote = parameters.remote
    lpCount = parameters.lps
    handledPerLP = Array(repeating: 0, count: parameters.lps)
    me = simulator.register(self)
    for lp in 0..<parameters.lps {
      for _ in 0..<parameters.eventsPerLP {
        simulator.schedule(at: SimTime(seconds: stream.exponential(mean: meanSeconds)), to: me, payload: Int64(lp))
      }
    }
  }

  public func handle(_ event: Event, in simulator: Simulator) {
    let lp = Int(event.payload)
    handledPerLP[lp] &+= 1
    var destination = lp
    if stream.uniform() < remote {
      destination = stream.uniformInt(lpCount)
      if destination != lp { remoteSends &+= 1 }
    }
    let delay = lookahead + SimTime(seconds: stream.exponential(mean: meanSeconds))
    simulator.schedule(after: delay, to: me, payload: Int64(destination))
  }

  /// A built PHOLD run, ready to go; timing the loop is the caller's business.
  public struct Run {
    public let simulator: Simulator
    public let model: PHOLD
    public let endTime: SimTime

    /// Handles every event up to the end time.
    public func execute() { simulator.run(until: endTime) }

    /// Events handled, events sent to another LP, and pending events at the end.
    public var metrics: Metrics {
      var metrics = Metrics()
      metrics.set("events", Double(simulator.eventsProcessed))
      metrics.set("remote_sends", Double(model.remoteSends))
      metrics.set("pending_events", Double(simulator.pendingEvents))
      return metrics
    }
  }

  /// Builds a run (the initial events scheduled) without starting it.
  public static func prepare(_ parameters: PHOLDParameters, streams: RandomStreams) throws(ValueError) -> Run {
    try parameters.validate()
    let pending = parameters.lps * parameters.eventsPerLP
    // PHOLD is the hold model the calendar queue is best at (docs/PERFORMANCE.md).
    let simulator = Simulator(expectedPendingEvents: pending + 1, queue: .calendar)
    let model = PHOLD(parameters: parameters, streams: streams, simulator: simulator)
    return Run(simulator: simulator, model: model, endTime: SimTime(seconds: parameters.endTime))
  }
}
