/// Samples of metrics over simulated time, in long format: (time, metric, value).
///
/// A series grows by one sample per metric per interval, so its size is set by the run's duration
/// over the sampling interval (``RunContext/timeseriesInterval``), never by the number of events.
/// Models usually fill one with a ``TimeSeriesSampler`` and return it beside their ``Metrics``.
public struct TimeSeries: Sendable, Equatable {
  /// One observation: `metric` read `value` at simulated `time`.
  public struct Sample: Sendable, Equatable {
    /// When the value was read.
    public var time: SimTime
    /// The metric's name, as in ``Metrics`` (`station.web.in_system`).
    public var metric: String
    /// The value read, in the metric's unit.
    public var value: Double
  }

  /// The samples in the order they were appended (for a sampler: by time, then in probe order).
  public private(set) var samples: [Sample] = []

  /// An empty series.
  public init() {}

  /// Appends one sample. Appending out of time order is allowed; the series keeps the order given.
  public mutating func append(time: SimTime, metric: String, value: Double) {
    samples.append(Sample(time: time, metric: metric, value: value))
  }

  /// Equal when every sample matches, values bit for bit (so NaN equals NaN, and 0 differs from -0).
  public static func == (a: TimeSeries, b: TimeSeries) -> Bool {
    a.samples.count == b.samples.count
      && zip(a.samples, b.samples).allSatisfy {
        $0.time == $1.time && $0.metric == $1.metric && $0.value.bitPattern == $1.value.bitPattern
      }
  }
}

/// An entity that reads a set of probes every `interval` of simulated time into a ``TimeSeries``.
///
/// Probes are closures, called once per sample (not per event), in the order they were added.
///
/// ```swift
/// if let interval = context.timeseriesInterval {
///   let sampler = TimeSeriesSampler(interval: interval, simulator: simulator)
///   sampler.addProbe("station.web.in_system") { Double(station.busy + station.queue.count) }
/// }
/// ```
public final class TimeSeriesSampler: EventHandler {
  /// The samples taken so far.
  public private(set) var series = TimeSeries()
  private var probes: [(name: String, read: () -> Double)] = []
  private let interval: SimTime
  private var me = EntityID(0)

  /// Samples at interval, 2 x interval, ... (the first sample is one interval in).
  ///
  /// Registers the sampler with `simulator` and schedules its first sample; the sampler keeps
  /// scheduling itself, so a run with it ends at its horizon, not by exhausting its events.
  ///
  /// - Precondition: `interval` is positive.
  public init(interval: SimTime, simulator: Simulator) {
    precondition(interval > .zero, "a sampling interval must be positive")
    self.interval = interval
    me = simulator.register(self)
    simulator.schedule(after: interval, to: me)
  }

  /// Adds a metric to sample: `read` is called at every sample time, inside the simulation, and must
  /// only read the model's state (not schedule events or draw random numbers).
  public func addProbe(_ name: String, _ read: @escaping () -> Double) {
    probes.append((name, read))
  }

  /// Takes one sample of every probe, in the order they were added, and schedules the next one.
  public func handle(_ event: Event, in simulator: Simulator) {
    for probe in probes { series.append(time: simulator.now, metric: probe.name, value: probe.read()) }
    simulator.schedule(after: interval, to: me)
  }
}
