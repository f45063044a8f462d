/// The time average of a piecewise-constant quantity: queue length, busy servers, memory in use.
///
/// Call ``update(_:at:)`` whenever the value changes; ``average(until:)`` is the integral of the
/// value over time divided by the time elapsed since the start (or the last ``reset(at:)``).
/// - Complexity: O(1) per change.
///
/// ```swift
/// var queueLength = TimeWeightedAverage()
/// queueLength.add(1, at: simulator.now)            // a request joins the queue
/// queueLength.add(-1, at: simulator.now)           // it leaves
/// queueLength.reset(at: context.warmup)            // in the warm-up's event
/// metrics.set("queue_length_mean", queueLength.average(until: simulator.now))
/// ```
public struct TimeWeightedAverage: Sendable, Equatable {
  /// The current value of the quantity.
  public private(set) var value: Double
  /// Where the average starts: the time given to ``init(initialValue:at:)`` or the last ``reset(at:)``.
  public private(set) var startTime: SimTime
  /// The time of the last ``update(_:at:)`` (or of the start).
  public private(set) var lastChange: SimTime
  /// ∫ value dt, in value x nanoseconds, since `startTime`, up to `lastChange`.
  private var area: Double = 0
  /// The largest value held since the start or the last ``reset(at:)``.
  public private(set) var maximum: Double

  /// An average of a quantity that is `initialValue` from `time` on.
  public init(initialValue: Double = 0, at time: SimTime = .zero) {
    value = initialValue
    startTime = time
    lastChange = time
    maximum = initialValue
  }

  /// Records that the quantity changed to `newValue` at `time` (not before the last change).
  ///
  /// Not checked: a `time` before ``lastChange`` subtracts area and gives a wrong average. Pass
  /// `simulator.now` from inside an event and the order holds by construction.
  @inlinable
  public mutating func update(_ newValue: Double, at time: SimTime) {
    record(newValue, at: time)
  }

  @usableFromInline
  mutating func record(_ newValue: Double, at time: SimTime) {
    area += value * Double(time.nanoseconds - lastChange.nanoseconds)
    lastChange = time
    value = newValue
    if newValue > maximum { maximum = newValue }
  }

  /// Adds `delta` to the value at `time`.
  @inlinable
  public mutating func add(_ delta: Double, at time: SimTime) { record(value + delta, at: time) }

  /// The time average over [start, `time`]; the current value if no time has passed.
  public func average(until time: SimTime) -> Double {
    let elapsed = Double(time.nanoseconds - startTime.nanoseconds)
    guard elapsed > 0 else { return value }
    let total = area + value * Double(time.nanoseconds - lastChange.nanoseconds)
    return total / elapsed
  }

  /// Starts averaging afresh at `time`, keeping the current value (the end of a warm-up period).
  public mutating func reset(at time: SimTime) {
    area = 0
    startTime = time
    lastChange = time
    maximum = value
  }
}
