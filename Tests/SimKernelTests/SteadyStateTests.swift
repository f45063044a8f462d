import Testing

@testable import SimKernel

@Suite struct SteadyStateTests {
  /// Four batches of 10 then zeros: the zeros' MSER is 0 from d = 4 on, and the first such d wins.
  @Test func mserTruncatesExactlyTheTransient() {
    let y = [10.0, 10, 10, 10] + Array(repeating: 0.0, count: 16)
    #expect(SteadyState.mserTruncation(y) == 4)
    // No transient: nothing to truncate.
    #expect(SteadyState.mserTruncation(Array(repeating: 3.0, count: 20)) == 0)
    // A ramp keeps improving as it is cut: the search runs to its end, half the batches.
    #expect(SteadyState.mserTruncation((0..<20).map(Double.init)) == 10)
  }

  /// A line rising by 10% of its mean is a trend; a constant, or alternating noise, is not.
  @Test func aTrendIsASignificantSlopeOfPracticalSize() {
    #expect(SteadyState.trend((0..<20).map { 100 + Double($0) }) == 1)
    #expect(SteadyState.trend((0..<20).map { 100 - Double($0) }) == -1)
    #expect(SteadyState.trend(Array(repeating: 5.0, count: 20)) == 0)
    #expect(SteadyState.trend((0..<20).map { 100 + ($0 % 2 == 0 ? 1.0 : -1.0) }) == 0)
    // 1% over the span: significant, but under the 5% that is reported.
    #expect(SteadyState.trend((0..<20).map { 100 + Double($0) * 0.05 }) == 0)
    // A sawtooth of period 5 over 50 batches (a page cache flushed on a cycle) is no trend,
    // whatever its phase at the end.
    for phase in 0..<5 {
      #expect(SteadyState.trend((0..<50).map { Double(($0 + phase) % 5) * 100 }) == 0)
    }
    // A rising sawtooth is one.
    #expect(SteadyState.trend((0..<50).map { Double($0 % 5) * 100 + Double($0) * 10 }) == 1)
  }

  /// The monitor on a simulated signal: a backlog growing for the whole run is judged rising
  /// and not steady; a rate constant from the start is steady with nothing truncated.
  @Test func theMonitorJudgesAGrowingBacklogAndASteadyRate() {
    final class Ticker: EventHandler {
      var count = 0.0
      var me = EntityID(0)
      func handle(_ event: Event, in simulator: Simulator) {
        count += 1
        simulator.schedule(after: .milliseconds(10), to: me)
      }
    }
    let simulator = Simulator()
    let ticker = Ticker()
    ticker.me = simulator.register(ticker)
    simulator.schedule(after: .zero, to: ticker.me)
    let monitor = SteadyStateMonitor(duration: .seconds(100), simulator: simulator)
    monitor.rate("ticks") { ticker.count }
    monitor.level("backlog") { ticker.count }
    simulator.run(until: .seconds(100))
    let verdicts = monitor.verdicts()
    #expect(verdicts.map(\.name) == ["ticks", "backlog"])
    #expect(verdicts[0].batches == 100)
    #expect(verdicts[0].steady && verdicts[0].trend == 0)
    #expect(!verdicts[1].steady && verdicts[1].trend == 1)
    var metrics = Metrics()
    monitor.report(into: &metrics)
    #expect(metrics["steady_state.ok"] == 0)
    #expect(metrics["steady_state.backlog.trend"] == 1)
    #expect(metrics["steady_state.ticks.trend"] == 0)
  }
}
