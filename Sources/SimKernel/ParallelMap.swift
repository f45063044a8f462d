import Dispatch
import Synchronization

/// Runs `body(i)` for i in 0..<count on up to `jobs` threads and returns the results in index
/// order, so the output never depends on which thread finished first.
///
/// Each call of `body` must be self-contained (its own ``Simulator`` and streams).
public func parallelMap<T: Sendable>(count: Int, jobs: Int, _ body: @Sendable (Int) throws -> T) rethrows -> [T] {
  guard count > 0 else { return [] }
  let workers = Swift.max(1, Swift.min(jobs, count))
  if workers == 1 { return try (0..<count).map(body) }
  let slots = Mutex<[Result<T, any Error>?]>(Array(repeating: nil, count: count))
  let next = Atomic<Int>(0)
  DispatchQueue.concurrentPerform(iterations: workers) { _ in
    while true {
      let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
      if i >= count { return }
      let result = Result { try body(i) }
      slots.withLock { $0[i] = result }
    }
  }
  return try slots.withLock { results in try results.map { try $0!.get() } }
}
