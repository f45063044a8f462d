import Dispatch
import Foundation
import SimKernel
import SimModels
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

  public init(
    plan: ExperimentPlan, directory: String, jobs: Int, shard: (index: Int, count: Int)? = nil, resume: Bool = false,
    progress: Progress? = nil
  ) {
    self.plan = plan
    self.directory = directory
    self.jobs = jobs
    self.shard = shard
    self.resume = resume
    self.progress = progress
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
    for run in assigned {
      if resume, let record = RunRecord.read(run: run.index, from: directory), record.specHash == run.specHash {
        continue
      }
      pending.append(run)
    }
    let skipped = assigned.count - pending.count
    let queue = pending
    let plan = self.plan
    let directory = self.directory
    let progress = self.progress
    progress?.start(total: pending.count)
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
          let output = try plan.execute(run)
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
    return Outcome(
      assigned: assigned.count, skipped: skipped, completed: completed.load(ordering: .relaxed),
      interrupted: interruptRequested.load(ordering: .relaxed))
  }

  /// Makes SIGINT stop dispatching new runs (a second SIGINT exits at once; records are atomic).
  public static func installInterruptHandler() {
    signal(SIGINT) { _ in
      if interruptRequested.load(ordering: .relaxed) { _exit(130) }
      interruptRequested.store(true, ordering: .relaxed)
    }
  }

  public static var wasInterrupted: Bool { interruptRequested.load(ordering: .relaxed) }
}

/// Runs done out of total, elapsed time and an estimate of what remains, on stderr.
public final class Progress: Sendable {
  private struct State {
    var total = 0
    var started = ContinuousClock.now
    var lastDrawn = ContinuousClock.now
  }
  private let state = Mutex(State())

  public init() {}

  func start(total: Int) {
    state.withLock {
      $0.total = total
      $0.started = .now
    }
  }

  func update(done: Int) {
    let line: String? = state.withLock { state in
      let now = ContinuousClock.now
      guard done == state.total || state.lastDrawn.duration(to: now) > .milliseconds(100) else { return nil }
      state.lastDrawn = now
      let elapsed = state.started.duration(to: now).inSeconds
      let eta = done > 0 ? elapsed / Double(done) * Double(state.total - done) : 0
      let percent = state.total > 0 ? 100 * done / state.total : 100
      return "\r  \(done)/\(state.total) runs  \(percent)%  elapsed \(clock(elapsed))  eta \(clock(eta))   "
    }
    if let line { writeStandardError(line) }
  }

  func finish() { writeStandardError("\n") }

  private func clock(_ s: Double) -> String {
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
