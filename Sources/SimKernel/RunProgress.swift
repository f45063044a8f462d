import Synchronization

/// Where a running simulation is, for a progress display on another thread: its simulated time
/// and events, published by the ``Simulator`` every 4,096 events (relaxed atomics: a display
/// may see a slightly old value, never a torn one). Nothing in a run reads it back, so it
/// cannot change a result.
///
/// The runner binds one to the thread that runs a replication (``RunProgress/current``); every
/// simulator made on that thread publishes to it, without the models knowing.
public final class RunProgress: Sendable {
  /// The record the simulators made in this task publish to; nil (the default) publishes nothing.
  @TaskLocal public static var current: RunProgress?

  /// The run's horizon (its duration), for the fraction done.
  public let horizon: SimTime
  let nanoseconds = Atomic<Int64>(0)
  let eventCount = Atomic<UInt64>(0)

  /// A progress record for a run that ends at `horizon`, at time zero with no events yet.
  public init(horizon: SimTime) { self.horizon = horizon }

  /// The simulated time last published (up to 4,095 events behind the run).
  public var simulatedTime: SimTime { SimTime(nanoseconds: nanoseconds.load(ordering: .relaxed)) }
  /// The events handled, as last published (a multiple of 4,096).
  public var events: UInt64 { eventCount.load(ordering: .relaxed) }
  /// Simulated time over the horizon, 0 to 1 (a model may stop before its horizon).
  public var fraction: Double {
    horizon > .zero ? min(1, Double(nanoseconds.load(ordering: .relaxed)) / Double(horizon.nanoseconds)) : 0
  }

  @usableFromInline func publish(now: SimTime, events: UInt64) {
    nanoseconds.store(now.nanoseconds, ordering: .relaxed)
    eventCount.store(events, ordering: .relaxed)
  }
}
