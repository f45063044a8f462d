import Dispatch
import Foundation
import SimKernel
import SimModel
import Synchronization

/// Set by SIGINT: stop dispatching runs. A second SIGINT abandons the running ones at once.
let interruptRequested = Atomic<Bool>(false)

/// Runs the runs of a plan on worker threads, writing one record per finished run.
///
/// Which thread runs what, and in which order runs finish, does not matter: every run's output
/// depends only on its spec, and the result files are assembled afterwards in run order.
public struct Runner: Sendable {
  public var plan: ExperimentPlan
  public var directory: String
  public var jobs: Int
  /// Run only runs with index % count == index - 1 (Slurm job arrays: `--shard K/N`).
  public var shard: (index: Int, count: Int)?
  /// Skip runs whose record exists with the same spec hash.
  public var resume: Bool
  public var progress: Progress?
  /// Which round of a `precision:` experiment this is, for the progress line (nil: the only one).
  public var round: Progress.Round?

  public init(
    plan: ExperimentPlan, directory: String, jobs: Int, shard: (index: Int, count: Int)? = nil, resume: Bool = false,
    progress: Progress? = nil, round: Progress.Round? = nil
  ) {
    self.plan = plan
    self.directory = directory
    self.jobs = jobs
    self.shard = shard
    self.resume = resume
    self.progress = progress
    self.round = round
  }

  public struct Outcome: Sendable {
    /// Runs this invocation was responsible for (its shard).
    public var assigned: Int
    public var skipped: Int
    public var completed: Int
    public var interrupted: Bool
  }

  /// The runs of this shard.
  public var assignedRuns: [ExperimentPlan.Run] {
    guard let shard else { return plan.runs }
    return plan.runs.filter { $0.index % shard.count == shard.index - 1 }
  }

  public func run() throws -> Outcome {
    try makeDirectories(directory + "/runs")
    // Temporary files of an earlier, interrupted run (never those of a live shard).
    TemporaryFiles.removeStale(in: directory)
    let assigned = assignedRuns
    var pending: [ExperimentPlan.Run] = []
    // Traces made with another selection (kinds, window) are made again, with every run.
    let traces = plan.config.outputs.trace
    let tracesCurrent = traces?.madeTraces(in: directory) ?? true
    for run in assigned {
      if resume, let record = RunRecord.read(run: run.index, from: directory), record.specHash == run.specHash,
        traces == nil
          || (tracesCurrent
            && FileManager.default.fileExists(atPath: TraceSelection.path(run: run.index, in: directory)))
      {
        continue
      }
      pending.append(run)
    }

    let skipped = assigned.count - pending.count
    let queue = pending
    let plan = self.plan
    let directory = self.directory
    let progress = self.progress
    progress?.start(total: pending.count, round: round)
    let next = Atomic<Int>(0)
    let completed = Atomic<Int>(0)
    let failure = Mutex<(any Error)?>(nil)
    let workers = max(1, min(jobs, pending.count))
    let work = { @Sendable in
      while !interruptRequested.load(ordering: .relaxed) {
        if failure.withLock({ $0 != nil }) { return }
        let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
        if i >= queue.count { return }
        let run = queue[i]
        let clock = ContinuousClock()
        let start = clock.now
        do {
          let tracker = RunProgress(horizon: plan.points[run.point].duration)
          progress?.began(run.index, tracker)
          defer { progress?.ended(run.index) }
          let trace =
            try plan.config.outputs.trace.map { _ throws(ExperimentError) in
              try TraceFile(path: TraceSelection.path(run: run.index, in: directory))
            }
          let output = try RunProgress.$current.withValue(tracker) { () throws(ValueError) -> RunOutput in
            try plan.execute(run, trace: trace) { () throws(ValueError) in
              do throws(ExperimentError) { try trace?.restart() } catch { throw ValueError(error.description) }
            }
          }
          try trace?.commit()
          let elapsed = start.duration(to: clock.now)
          let wall = elapsed.inSeconds
          try RunRecord(run: run, output: output, wallSeconds: wall).write(to: directory)
          let done = completed.wrappingAdd(1, ordering: .relaxed).newValue
          progress?.update(done: done)
        } catch {
          failure.withLock { if $0 == nil { $0 = error } }
          return
        }
      }
    }
    if workers == 1 {
      work()
    } else {
      DispatchQueue.concurrentPerform(iterations: workers) { _ in work() }
    }
    progress?.finish()
    if let error = failure.withLock({ $0 }) { throw error }
    // The traces are now this selection's once every run they were remade for has been: an
    // interrupted remake leaves the old record, so the next --resume remakes them all again.
    if let traces, !tracesCurrent, completed.load(ordering: .relaxed) == pending.count {
      try makeDirectories(directory + "/traces")
      try writeAtomically(traces.record, to: TraceSelection.recordPath(in: directory))
    }
    return Outcome(
      assigned: assigned.count, skipped: skipped, completed: completed.load(ordering: .relaxed),
      interrupted: interruptRequested.load(ordering: .relaxed))
  }

  /// Makes SIGINT stop dispatching new runs and say so at once: `first` is printed on the first
  /// Ctrl-C (what happens now, how to resume), `second` on a second one, which exits at once
  /// (status 130) abandoning the runs in progress. Records are written whole or not at all
  /// (a temporary file renamed), so neither leaves a torn one.
  public static func installInterruptHandler(first: String, second: String) {
    interruptMessages = (StaticText(first), StaticText(second))
    // A parent may hand SIGINT down blocked (some process launchers do): unblock it, or Ctrl-C
    // would wait, pending, until the process ends.
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    signal(SIGINT) { _ in
      if interruptRequested.load(ordering: .relaxed) {
        interruptMessages.1.write()
        _exit(130)
      }
      interruptRequested.store(true, ordering: .relaxed)
      interruptMessages.0.write()
    }
  }

  /// The default messages: the first names the command that resumes.
  public static func installInterruptHandler(directory: String, resumeCommand: String) {
    installInterruptHandler(
      first: "\ninterrupted: finishing the runs in progress, starting no more (completed runs stay in "
        + "\(directory)/runs). Press Ctrl-C again to stop them now. To finish later, run:\n  \(resumeCommand)\n",
      second:
        "\nstopped: the runs in progress are abandoned; completed runs are kept in \(directory)/runs. To finish, run:\n"
        + "  \(resumeCommand)\n")
  }

  public static var wasInterrupted: Bool { interruptRequested.load(ordering: .relaxed) }
}

/// A message kept as bytes, so that a signal handler can write it (write(2) is async-signal-safe;
/// building a String is not).
struct StaticText: @unchecked Sendable {
  let bytes: UnsafeMutableBufferPointer<UInt8>
  init(_ text: String) {
    let utf8 = Array(text.utf8)
    bytes = .allocate(capacity: utf8.count)
    _ = bytes.initialize(from: utf8)
  }
  func write() { _ = SimExperiments.systemWrite(2, bytes.baseAddress, bytes.count) }
}

nonisolated(unsafe) var interruptMessages = (StaticText(""), StaticText(""))

func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buffer, count) }

/// Progress on stderr while runs go on: runs done out of total, elapsed time, an estimate of what
/// remains (counting the runs in progress by their simulated time), and each running run's
/// simulated time and events per second. On a terminal the line is redrawn in place twice a
/// second; otherwise (a log file, Slurm, nohup) a plain line is written every 10 s.
public final class Progress: Sendable {
  /// A round of a `precision:` experiment: its number (from 0), the runs of the rounds before
  /// and the most the experiment may have, since its total is not known until it stops.
  public struct Round: Sendable {
    public var index: Int
    public var earlier: Int
    public var cap: Int
  }

  private struct State {
    var round: Round?
    var total = 0
    var done = 0
    var started = ContinuousClock.now
    /// Runs in progress: their trackers, and the last reading (events, when) for a rate.
    var running: [(run: Int, tracker: RunProgress, events: UInt64, at: ContinuousClock.Instant)] = []
    /// Which `start` the ticker belongs to (validate-published starts once per file), and whether
    /// that one has finished.
    var generation = 0
    var stopped = false
    var lastDrawn = ContinuousClock.now
  }
  private let state = Mutex(State())
  private let terminal: Bool
  private let interval: Duration

  /// `terminal`: redraw one line in place (stderr is a terminal); else write a line every 10 s.
  public init(terminal: Bool) {
    self.terminal = terminal
    interval = terminal ? .milliseconds(500) : .seconds(10)
  }

  func start(total: Int, round: Round? = nil) {
    let generation = state.withLock {
      $0.round = round
      $0.total = total
      $0.done = 0
      $0.started = .now
      $0.stopped = false
      $0.generation += 1
      return $0.generation
    }
    let ticker = Thread { [self] in
      while true {
        Thread.sleep(forTimeInterval: interval.inSeconds)
        if state.withLock({ $0.stopped || $0.generation != generation }) { return }
        draw()
      }
    }
    ticker.start()
  }

  func began(_ run: Int, _ tracker: RunProgress) {
    state.withLock { $0.running.append((run, tracker, 0, .now)) }
  }

  func ended(_ run: Int) {
    state.withLock { $0.running.removeAll { $0.run == run } }
  }

  func update(done: Int) {
    // On a terminal a finished run redraws the line, at most every 100 ms (a sweep of thousands
    // of short runs would otherwise flood it), and always for the last.
    let redraw = state.withLock { state in
      state.done = done
      let now = ContinuousClock.now
      guard terminal, done == state.total || state.lastDrawn.duration(to: now) > .milliseconds(100) else {
        return false
      }
      state.lastDrawn = now
      return true
    }
    if redraw { draw() }
  }

  /// The progress line, from the state now (and the rates since the last line).
  func line() -> String {
    state.withLock { state in
      let now = ContinuousClock.now
      let elapsed = state.started.duration(to: now).inSeconds
      var parts: [String] = []
      var inFlight = 0.0
      for i in state.running.indices {
        let r = state.running[i]
        let events = r.tracker.events
        let seconds = r.at.duration(to: now).inSeconds
        let rate = seconds > 0 ? Double(events &- r.events) / seconds : 0
        state.running[i].events = events
        state.running[i].at = now
        inFlight += r.tracker.fraction
        parts.append(
          "run \(r.run) at \(SimTime(nanoseconds: r.tracker.simulatedTime.nanoseconds / 1_000_000 * 1_000_000).formatted)"
            + " of \(r.tracker.horizon.formatted) "
            + "(\(Int(100 * r.tracker.fraction))%, \(Self.count(rate)) events/s)")
      }
      let effective = Double(state.done) + inFlight
      let eta = effective > 0 ? elapsed / effective * (Double(state.total) - effective) : .nan
      var text =
        "\(state.done)/\(state.total) runs done, elapsed \(Self.clock(elapsed)), eta \(eta.isFinite ? Self.clock(eta) : "-")"
      if let round = state.round {
        // The total is open: it is decided round by round. Say what is known.
        text =
          "round \(round.index): \(state.done)/\(state.total) runs of the round done (\(round.earlier + state.done) "
          + "so far, at most \(round.cap)), elapsed \(Self.clock(elapsed)), round eta \(eta.isFinite ? Self.clock(eta) : "-")"
      }
      if !parts.isEmpty { text += "; " + parts.prefix(terminal ? 2 : 8).joined(separator: "; ") }
      if parts.count > (terminal ? 2 : 8) { text += "; +\(parts.count - (terminal ? 2 : 8)) more" }
      return text
    }
  }

  private func draw() {
    let text = line()
    if terminal {
      // Redrawn in place: cut to the terminal's width and clear the rest of the line.
      writeStandardError("\r  " + String(text.prefix(Self.width() - 3)) + "\u{1B}[K")
    } else {
      writeStandardError("[progress] " + text + "\n")
    }
  }

  func finish() {
    state.withLock { $0.stopped = true }
    if terminal { writeStandardError("\r  " + String(line().prefix(Self.width() - 3)) + "\u{1B}[K\n") }
  }

  static func width() -> Int {
    var size = winsize()
    if ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col >= 20 { return Int(size.ws_col) }
    return 100
  }

  static func count(_ x: Double) -> String {
    if x >= 1e6 { return "\(Double(Int(x / 1e5)) / 10)M" }
    if x >= 1e3 { return "\(Double(Int(x / 1e2)) / 10)k" }
    return String(Int(x))
  }

  static func clock(_ s: Double) -> String {
    let total = Int(s.rounded())
    if total < 60 { return "\(total)s" }
    if total < 3600 { return "\(total / 60)m\(total % 60)s" }
    return "\(total / 3600)h\((total % 3600) / 60)m"
  }
}

/// Writes to file descriptor 2 (the C `stderr` global is shared mutable state to Swift 6).
public func writeStandardError(_ text: String) {
  let bytes = Array(text.utf8)
  _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

extension Duration {
  /// The duration in seconds (wall-clock measurements; never used inside a run).
  public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
