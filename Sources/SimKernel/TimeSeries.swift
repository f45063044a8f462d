/// Samples of metrics over simulated time, in long format: (time, metric, value).
public struct TimeSeries: Sendable, Equatable {
  public struct Sample: Sendable, Equatable {
    public var time: SimTime
    public var metric: String
    public var value: Double
  }

  public private(set) var samples: [Sample] = []

  public init() {}

  public mutating func append(time: SimTime, metric: String, value: Double) {
    samples.append(Sample(time: time, metric: metric, value: value))
  }

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
public final class TimeSeriesSampler: EventHandler {
  public private(set) var series = TimeSeries()
  private var probes: [(name: String, read: () -> Double)] = []
  private let interval: SimTime
  private var me = EntityID(0)

  /// Samples at interval, 2 x interval, ... (the first sample is one interval in).
  public init(interval: SimTime, simulator: Simulator) {
    precondition(interval > .zero, "a sampling interval must be positive")
    self.interval = interval
    me = simulator.register(self)
    simulator.schedule(after: interval, to: me)
  }

  public func addProbe(_ name: String, _ read: @escaping () -> Double) {
    probes.append((name, read))
  }

  public func handle(_ event: Event, in simulator: Simulator) {
    for probe in probes { series.append(time: simulator.now, metric: probe.name, value: probe.read()) }
    simulator.schedule(after: interval, to: me)
  }
}
