/// Whether a run reached a steady state, judged from a few of its own signals.
///
/// A model names the signals its headline metrics depend on: rates (records acknowledged),
/// means of observations (latency) and levels of state (dirty pages, queue lengths, lag). The
/// monitor reads each at ``points`` evenly spaced instants over the whole run, warm-up included
/// (a fixed number of reads: memory is flat in simulated time), and after the run judges each:
///
/// - **Initialisation bias, MSER-5** (White 1997; White, Cobb and Spratt 2000): the reads are
///   grouped in fives into n = ``points``/5 batch values y_1..y_n, and the truncation point is
///   the d that minimises the standard error of the mean of what is left,
///   MSER(d) = sum_{i>d} (y_i - mean_d)^2 / (n - d)^2, searched over d <= n/2. A minimum at
///   n/2 means the signal was still settling half-way: MSER's own rule for "too short".
/// - **A trend at the end:** the batches kept (after d) in 10 groups; the signal is still rising
///   (falling) when the later 5 groups' mean differs from the earlier 5's by more than
///   ``trendTolerance`` of the mean and by more than 4.5 standard errors (from the groups' spread).
///
/// Both read batch values, not raw observations: a batch of a rate is what was counted in it
/// over its length; of a mean, the sum over the count of its observations (a batch without any
/// repeats the batch before); of a level, the mean of its five reads.
public final class SteadyStateMonitor: EventHandler {
  /// Reads over a run: 100 MSER-5 batches.
  public static let points = 500
  /// A trend smaller than this share of the signal's mean over the kept span is not reported.
  public static let trendTolerance = 0.05

  /// How a signal is read and batched: see ``rate(_:_:)``, ``mean(_:sum:count:)`` and ``level(_:_:)``.
  public enum Kind: Sendable { case rate, mean, level }

  struct Signal {
    let name: String
    let kind: Kind
    let numerator: () -> Double
    let denominator: (() -> Double)?
    var last = (0.0, 0.0)
    /// Per read: what it added (rates and means) or its value (levels), and its weight.
    var reads: [(Double, Double)] = []
  }

  let interval: SimTime
  unowned let simulator: Simulator
  var signals: [Signal] = []
  var me: EntityID?
  var taken = 0

  /// Reads at duration/points, 2 x duration/points, ... up to the end of the run, once a
  /// signal is named (a run that names none has no reads and no events).
  public init(duration: SimTime, simulator: Simulator) {
    interval = SimTime(nanoseconds: max(1, duration.nanoseconds / Int64(Self.points)))
    self.simulator = simulator
  }

  func add(_ signal: Signal) {
    if me == nil {
      let id = simulator.register(self)
      me = id
      simulator.schedule(after: interval, to: id)
    }
    signals.append(signal)
  }

  /// A counter (cumulative, from the start of the run): judged as its rate per batch.
  public func rate(_ name: String, _ cumulative: @escaping () -> Double) {
    add(Signal(name: name, kind: .rate, numerator: cumulative, denominator: nil))
  }

  /// A mean of observations, from cumulative sums and counts: judged as each batch's mean.
  public func mean(_ name: String, sum: @escaping () -> Double, count: @escaping () -> Double) {
    add(Signal(name: name, kind: .mean, numerator: sum, denominator: count))
  }

  /// A level of state (a backlog, a queue's length): judged by its value at each read.
  public func level(_ name: String, _ read: @escaping () -> Double) {
    add(Signal(name: name, kind: .level, numerator: read, denominator: nil))
  }

  /// Reads every signal once, in the order they were named, and schedules the next read (``points``
  /// reads in all).
  public func handle(_ event: Event, in simulator: Simulator) {
    for i in signals.indices {
      let value = signals[i].numerator()
      switch signals[i].kind {
      case .level: signals[i].reads.append((value, 1))
      case .rate:
        signals[i].reads.append((value - signals[i].last.0, interval.seconds))
        signals[i].last.0 = value
      case .mean:
        let count = signals[i].denominator!()
        signals[i].reads.append((value - signals[i].last.0, count - signals[i].last.1))
        signals[i].last = (value, count)
      }
    }
    taken += 1
    if taken < Self.points { simulator.schedule(after: interval, to: me!) }
  }

  /// Each signal's verdict, from the reads taken so far (all of them when the run reached its end).
  public func verdicts() -> [SteadyState.Verdict] {
    signals.map { signal in
      var batches: [Double] = []
      var previous = Double.nan
      let group = 5
      var start = 0
      while start + group <= signal.reads.count {
        let slice = signal.reads[start..<(start + group)]
        let weight = slice.reduce(0) { $0 + $1.1 }
        let value = weight > 0 ? slice.reduce(0) { $0 + $1.0 } / weight : previous
        batches.append(value)
        if !value.isNaN { previous = value }
        start += group
      }
      // Leading batches without observations take the first batch that has some.
      if let first = batches.firstIndex(where: { !$0.isNaN }) {
        for i in 0..<first { batches[i] = batches[first] }
      }
      return SteadyState.judge(signal.name, batches: batches, batchSeconds: interval.seconds * Double(group))
    }
  }

  /// Adds `steady_state.ok` (1 when every signal settled in the first half of the run and shows
  /// no trend at its end, else 0), `steady_state.truncation_s` (the latest MSER-5 point of any
  /// signal, seconds from the start) and per signal `steady_state.NAME.trend` (+1 rising, -1
  /// falling, 0 none) and `.truncation_s`.
  public func report(into metrics: inout Metrics) {
    let all = verdicts()
    guard !all.isEmpty else { return }
    metrics.set("steady_state.ok", all.allSatisfy(\.steady) ? 1 : 0)
    metrics.set("steady_state.truncation_s", all.map(\.truncationSeconds).max()!)
    for v in all {
      metrics.set("steady_state.\(v.name).trend", Double(v.trend))
      metrics.set("steady_state.\(v.name).truncation_s", v.truncationSeconds)
    }
  }
}

/// The judgement behind ``SteadyStateMonitor``, on batch values: MSER-5 truncation and the end trend.
public enum SteadyState {
  /// One signal's judgement.
  public struct Verdict: Sendable, Equatable {
    /// The signal's name, as given to the monitor.
    public var name: String
    /// The MSER-5 truncation point, in batches and in seconds from the start of the run.
    public var truncation: Int
    /// The truncation point in seconds from the start of the run (batches cut times the batch length).
    public var truncationSeconds: Double
    /// Batches judged.
    public var batches: Int
    /// +1 still rising at the end, -1 still falling, 0 neither.
    public var trend: Int
    /// Settled before half the run, with no trend at its end.
    public var steady: Bool { trend == 0 && truncation < batches / 2 }
  }

  /// Judges batch values (NaN: no value; a series of NaN only is judged steady, there is
  /// nothing to judge).
  public static func judge(_ name: String, batches y: [Double], batchSeconds: Double) -> Verdict {
    let values = y.filter { !$0.isNaN }
    guard values.count == y.count, y.count >= 10 else {
      return Verdict(name: name, truncation: 0, truncationSeconds: 0, batches: y.count, trend: 0)
    }
    let d = mserTruncation(y)
    return Verdict(
      name: name, truncation: d, truncationSeconds: Double(d) * batchSeconds, batches: y.count,
      trend: trend(Array(y[d...])))
  }

  /// The d in 0 ... n/2 minimising sum_{i>d} (y_i - mean_d)^2 / (n - d)^2 (the first such d).
  /// The search stops at half the batches, as MSER's authors advise: past it the statistic
  /// rewards cutting to a few quiet batches at the end, and a minimum at n/2 itself means the
  /// signal was still settling there.
  public static func mserTruncation(_ y: [Double]) -> Int {
    let n = y.count
    guard n > 5 else { return 0 }
    // Suffix sums, so that each d costs O(1).
    var sum = 0.0
    var squares = 0.0
    var best = (d: n / 2, value: Double.infinity)
    for d in stride(from: n - 1, through: 0, by: -1) {
      sum += y[d]
      squares += y[d] * y[d]
      guard d <= n / 2 else { continue }
      let k = Double(n - d)
      let mean = sum / k
      let ss = max(0, squares - k * mean * mean)
      let value = ss / (k * k)
      if value <= best.value { best = (d, value) }
    }
    return best.d
  }

  /// +1 / -1 when the later half of `y` differs from the earlier half by more than
  /// ``SteadyStateMonitor/trendTolerance`` of the mean and by more than 4.5 standard errors; else 0.
  ///
  /// The halves are compared through 10 group means (5 a half, the first few values dropped to
  /// make the groups equal), each half's spread of its 5 groups giving the standard error; 4.5 of
  /// them is Student's t at 99.9% for 8 degrees of freedom (a steady run is flagged about once in
  /// 500 signals, where 3 flagged 2-3% of the shipped queueing runs). A
  /// cycle shorter than a group (a page-cache flush every few seconds of a long run) averages out
  /// inside the groups instead of passing for a trend, as a line fitted to the raw batches would.
  public static func trend(_ y: [Double]) -> Int {
    let groups = 10
    guard y.count >= groups else { return 0 }
    let size = y.count / groups
    let start = y.count - size * groups
    let means = (0..<groups).map { g in
      y[(start + g * size)..<(start + (g + 1) * size)].reduce(0, +) / Double(size)
    }
    func meanAndVariance(_ values: ArraySlice<Double>) -> (Double, Double) {
      let mean = values.reduce(0, +) / Double(values.count)
      let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
      return (mean, variance)
    }
    let (early, earlyVariance) = meanAndVariance(means[0..<(groups / 2)])
    let (late, lateVariance) = meanAndVariance(means[(groups / 2)...])
    let difference = late - early
    let standardError = ((earlyVariance + lateVariance) / Double(groups / 2)).squareRoot()
    let scale = abs(early + late) / 2
    guard abs(difference) > SteadyStateMonitor.trendTolerance * scale, abs(difference) > 4.5 * standardError else {
      return 0
    }
    return difference > 0 ? 1 : -1
  }
}
