import SimKernel
import SimPHOLD

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `BDSIM_QUEUE_PROBE=1 .build/release/KernelBenchmarks` prints, without the benchmark harness,
/// ns per hold for every queue and workload and ns per event of the PHOLD replay, then exits: a
/// cross-check of the harness's numbers. (The calendar queue's shape, buckets and width, is
/// internal to the kernel now, so it is not printed.)
enum Probe {
  static var requested: Bool { getenv("BDSIM_QUEUE_PROBE") != nil }

  static func run() {
    let workloads: [(String, Int, ContiguousArray<Int64>)] = [
      ("Exp(1 s), 10,000 pending", 10_000, makeIncrements(lookahead: 0, mean: 1)),
      ("0.1 s + Exp(1 s), 16,384 pending", 16_384, makeIncrements(lookahead: 0.1, mean: 1)),
      ("two-scale, 10,000 pending", 10_000, makeMixtureIncrements(shortProbability: 0.9, shortMean: 0.001, longMean: 100)),
    ]
    for (name, pending, increments) in workloads {
      print("== \(name)")
      measure("EventHeap", HoldModel<EventHeap>(pending: pending, increments: increments))
      measure("CalendarQueue", HoldModel<CalendarQueue>(pending: pending, increments: increments))
      measure("Heap (swift-collections)", HoldModel<CollectionsHeap>(pending: pending, increments: increments))
    }
    let trace = pholdTrace
    print("== PHOLD replay: \(trace.events) events a run, \(trace.initial.count) pending")
    replay("EventHeap", EventHeap.self, trace)
    replay("CalendarQueue", CalendarQueue.self, trace)
    replay("Heap (swift-collections)", CollectionsHeap.self, trace)
    exit(0)
  }

  static func replay<Q: EventQueue>(_ name: String, _ type: Q.Type, _ trace: PHOLDTrace) {
    var best = Double.infinity
    for _ in 0..<5 {
      var queue = trace.startQueue(type)
      let start = ContinuousClock.now
      let (events, order) = trace.replay(on: &queue)
      let elapsed = start.duration(to: .now)
      precondition(events == trace.events && order == trace.expectedOrder, "\(name): not PHOLD's order")
      best = Swift.min(best, seconds(elapsed) / Double(events) * 1e9)
    }
    print("  \(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(String(format: "%7.1f", best)) ns/event (best of 5)")
  }

  static func seconds(_ elapsed: Duration) -> Double {
    Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
  }

  static func measure<Q: EventQueue>(_ name: String, _ model: HoldModel<Q>) {
    var best = Double.infinity
    for _ in 0..<5 {
      let start = ContinuousClock.now
      let holds = 400_000
      let checksum = model.run(holds: holds)
      let elapsed = start.duration(to: .now)
      if checksum == 42 { print("") }  // keeps the result alive
      best = Swift.min(best, seconds(elapsed) / Double(holds) * 1e9)
    }
    print("  \(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(String(format: "%7.1f", best)) ns/hold (best of 5 x 400k)")
  }
}
