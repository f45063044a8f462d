/// A point in simulated time, or a span of it, as a whole number of nanoseconds.
///
/// Integer time is exact: sums never drift, and two events scheduled for the same instant are
/// truly simultaneous (their order is then the order they were scheduled in). An Int64 of
/// nanoseconds spans about 292 years. Arithmetic saturates at ``max`` rather than trapping, so
/// an event scheduled "never" stays at the end of time.
public struct SimTime: Hashable, Comparable, Sendable {
  /// Nanoseconds since the start of the run (or the length of a span).
  public var nanoseconds: Int64

  /// A time of `nanoseconds` nanoseconds (not checked: a model must not schedule at a negative time).
  @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

  /// The start of every run, and the empty span.
  public static let zero = SimTime(nanoseconds: 0)
  /// The end of time: an event scheduled here never fires before a finite horizon.
  public static let max = SimTime(nanoseconds: Int64.max)

  /// Time in seconds as a Double, for statistics and output.
  @inlinable public var seconds: Double { Double(nanoseconds) / 1e9 }

  /// The time nearest to `seconds` (rounded to the nanosecond), saturating at ``max``.
  ///
  /// Negative or NaN inputs give ``zero``: use ``init(validatingSeconds:)`` on user input.
  @inlinable public init(seconds: Double) {
    // Adding one half and truncating rounds a positive value to nearest (ties away from zero)
    // without a call into libm, which matters on the path of every sampled delay.
    let ns = seconds * 1e9 + 0.5
    if !(ns >= 1) {
      self.nanoseconds = 0
    } else if ns >= 9.223372036854775e18 {
      self.nanoseconds = Int64.max
    } else {
      self.nanoseconds = Int64(ns)
    }
  }

  /// A time from a count of seconds given by a user: negative, NaN, infinite or too large is an error.
  public init(validatingSeconds seconds: Double) throws(ValueError) {
    guard seconds.isFinite, seconds >= 0 else {
      throw ValueError("a duration must be finite and not negative, got \(seconds)s")
    }
    guard seconds * 1e9 < 9.223372036854775e18 else {
      throw ValueError("duration \(seconds)s is longer than the 292 years BDSim can represent")
    }
    self.init(seconds: seconds)
  }

  /// Earlier than.
  @inlinable public static func < (a: SimTime, b: SimTime) -> Bool { a.nanoseconds < b.nanoseconds }

  /// Saturating sum: never traps, never wraps past ``max``.
  @inlinable public static func + (a: SimTime, b: SimTime) -> SimTime {
    let (sum, overflow) = a.nanoseconds.addingReportingOverflow(b.nanoseconds)
    if overflow { return b.nanoseconds > 0 ? .max : SimTime(nanoseconds: Int64.min) }
    return SimTime(nanoseconds: sum)
  }

  /// Saturating difference.
  @inlinable public static func - (a: SimTime, b: SimTime) -> SimTime {
    let (difference, overflow) = a.nanoseconds.subtractingReportingOverflow(b.nanoseconds)
    if overflow { return b.nanoseconds < 0 ? .max : SimTime(nanoseconds: Int64.min) }
    return SimTime(nanoseconds: difference)
  }

  /// Saturating in-place sum (see ``+(_:_:)``).
  @inlinable public static func += (a: inout SimTime, b: SimTime) { a = a + b }

  /// Saturating product of a span and a count: never traps, never wraps past ``max``.
  @inlinable public static func * (a: SimTime, n: Int64) -> SimTime {
    let (product, overflow) = a.nanoseconds.multipliedReportingOverflow(by: n)
    if overflow { return (a.nanoseconds < 0) == (n < 0) ? .max : SimTime(nanoseconds: Int64.min) }
    return SimTime(nanoseconds: product)
  }

  /// A span of `n` nanoseconds.
  public static func nanoseconds(_ n: Int64) -> SimTime { SimTime(nanoseconds: n) }
  /// A span of `n` microseconds (`n * 1_000` ns). Unlike ``*(_:_:)`` this does not saturate: it
  /// traps if `n` is beyond about ±292 years, so use it on constants, not on user input.
  public static func microseconds(_ n: Int64) -> SimTime { SimTime(nanoseconds: n * 1_000) }
  /// A span of `n` milliseconds (`n * 1_000_000` ns); traps, rather than saturating, beyond about
  /// ±292 years.
  public static func milliseconds(_ n: Int64) -> SimTime { SimTime(nanoseconds: n * 1_000_000) }
  /// A span of `n` whole seconds (`n * 1_000_000_000` ns); traps, rather than saturating, beyond about
  /// ±292 years. For a `Double` of seconds use ``init(seconds:)``.
  public static func seconds(_ n: Int64) -> SimTime { SimTime(nanoseconds: n * 1_000_000_000) }
}
