/// What one run of a model is given besides its own parameters: its horizon and its randomness.
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
