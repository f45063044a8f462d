/// What one run of a model is given besides its own parameters: its horizon and its randomness.
///
/// A model runs its simulator until ``duration``, resets (or ignores) its statistics at
/// ``warmup``, and takes every random stream from ``streams``, so the same context gives the same
/// results on any machine and with any number of jobs.
public struct RunContext: Sendable {
  /// The length of the run, warm-up included.
  public var duration: SimTime
  /// Statistics from before this time are discarded.
  public var warmup: SimTime
  /// The source of every random stream of the run.
  public var streams: RandomStreams
  /// How often models sample their time series; nil for none.
  public var timeseriesInterval: SimTime?
  /// Where relative file names in parameters (empirical samples) are resolved.
  public var baseDirectory: String?
  /// The activity trace to write (`outputs.trace`); nil for none, which costs a run nothing.
  public var trace: ActivityTraceRequest?

  /// A context for one run, with no activity trace (`trace` is nil). Call ``validate()`` on values
  /// that come from a user.
  public init(
    duration: SimTime, warmup: SimTime = .zero, streams: RandomStreams, timeseriesInterval: SimTime? = nil,
    baseDirectory: String? = nil
  ) {
    self.duration = duration
    self.warmup = warmup
    self.streams = streams
    self.timeseriesInterval = timeseriesInterval
    self.baseDirectory = baseDirectory
  }

  /// Checks the horizon: a positive duration, and a warm-up shorter than it.
  public func validate() throws(ValueError) {
    guard duration > .zero, duration != .max else {
      throw ValueError(
        "duration must be positive and finite, got \(duration)", key: "duration", hint: "e.g. duration: 1h")
    }
    guard warmup < duration else {
      throw ValueError(
        "warmup (\(warmup)) must be shorter than duration (\(duration))", key: "warmup",
        hint: "a warm-up of 10% of the duration is a common start")
    }
  }

  /// The time over which statistics are collected.
  public var measuredSeconds: Double { (duration - warmup).seconds }
}

/// Takes the lines of a run's activity trace as the run makes them (CSV text, header first).
/// The runner gives each run its own (a file), so it is used by one thread at a time.
public protocol TraceSink: AnyObject, Sendable {
  func write(_ line: String)
}

/// What a run is asked to trace (`outputs.trace`): which activities, and where the rows go.
public struct ActivityTraceRequest: Sendable {
  /// What an activity must be to be traced: using one of these resource classes (`network`,
  /// `disk`, `cpu`), or a control message (`message`: no resources, only latency).
  public var kinds: Set<String>
  /// Only activities that overlap [from, until] are traced.
  public var from: SimTime
  /// The end of the traced window (``SimTime/max`` for the whole run).
  public var until: SimTime
  /// Where the rows go, one ``TraceSink/write(_:)`` per line.
  public var sink: any TraceSink

  /// A request to trace activities of `kinds` (from ``allKinds``) overlapping [`from`, `until`] into `sink`.
  public init(kinds: Set<String>, from: SimTime = .zero, until: SimTime = .max, sink: any TraceSink) {
    self.kinds = kinds
    self.from = from
    self.until = until
    self.sink = sink
  }

  /// The kinds a trace may name.
  public static let allKinds = ["network", "disk", "cpu", "message"]
}
