import Benchmark
import SimKernel
import SimPHOLD

/// Events per second of simulated work, measured around the run loop alone.
let eventsPerSecond = BenchmarkMetric.custom("events/s", polarity: .prefersLarger, useScalingFactor: false)

/// The PHOLD configuration of the benchmarks: 1024 LPs x 16 events (16,384 pending), remote 0.5,
/// lookahead 0.1 s, mean 1 s, end time 50 s (about 0.75 million events a run).
let pholdParameters: PHOLDParameters = {
  var parameters = PHOLDParameters()
  parameters.lps = 1024
  parameters.eventsPerLP = 16
  parameters.remote = 0.5
  parameters.lookahead = 0.1
  parameters.mean = 1
  parameters.endTime = 50
  return parameters
}()
let pholdStreams = RandomStreams(experimentSeed: 1)

let benchmarks: @Sendable () -> Void = {
  // A queue that pops in another order than EventHeap must not be benchmarked: stop here.
  QueueCheck.requireAgreement()
  if Probe.requested { Probe.run() }

  // Hold operations: 1M per iteration, results per operation (scaled, marked * in the table).
  let holdConfiguration = Benchmark.Configuration(
    metrics: [.wallClock, .throughput, .mallocCountTotal],
    timeUnits: .nanoseconds,
    warmupIterations: 1,
    scalingFactor: .mega,
    maxDuration: .seconds(2),
    maxIterations: 200
  )

  // The classic hold model: 10,000 pending events, increments Exp(1 s).
  let exponential = makeIncrements(lookahead: 0, mean: 1)
  // PHOLD's increments (lookahead 0.1 s + Exp(1 s)) at PHOLD's size (1024 x 16 = 16,384 pending).
  let pholdLike = makeIncrements(lookahead: 0.1, mean: 1)

  func registerHold<Queue: EventQueue>(_ name: String, _ queue: Queue.Type, pending: Int, increments: ContiguousArray<Int64>) {
    Benchmark(name, configuration: holdConfiguration) { benchmark, model in
      benchmark.startMeasurement()
      blackHole(model.run(holds: benchmark.scaledIterations.count))
      benchmark.stopMeasurement()
    } setup: {
      HoldModel<Queue>(pending: pending, increments: increments)
    }
  }

  registerHold("EventHeap hold", EventHeap.self, pending: 10_000, increments: exponential)
  registerHold("CalendarQueue hold", CalendarQueue.self, pending: 10_000, increments: exponential)
  registerHold("Heap (swift-collections) hold", CollectionsHeap.self, pending: 10_000, increments: exponential)

  registerHold("EventHeap hold 16384 PHOLD-like", EventHeap.self, pending: 16_384, increments: pholdLike)
  registerHold("CalendarQueue hold 16384 PHOLD-like", CalendarQueue.self, pending: 16_384, increments: pholdLike)
  registerHold(
    "Heap (swift-collections) hold 16384 PHOLD-like", CollectionsHeap.self, pending: 16_384, increments: pholdLike)

  // Two time scales in one queue: 90% of increments Exp(1 ms), 10% Exp(100 s). Pending events
  // are then almost all long ones, while the queue is filled at the start mostly with short ones
  // (Brown's calendar queue, without the adaptive re-widths, was 65x slower than EventHeap here).
  let twoScales = makeMixtureIncrements(shortProbability: 0.9, shortMean: 0.001, longMean: 100)
  registerHold("EventHeap hold two-scale", EventHeap.self, pending: 10_000, increments: twoScales)
  registerHold("CalendarQueue hold two-scale", CalendarQueue.self, pending: 10_000, increments: twoScales)
  registerHold("Heap (swift-collections) hold two-scale", CollectionsHeap.self, pending: 10_000, increments: twoScales)

  // The same hold model through Simulator: pop, dispatch to a handler, schedule.
  Benchmark("Simulator hold", configuration: holdConfiguration) { benchmark, model in
    benchmark.startMeasurement()
    model.run(events: benchmark.scaledIterations.count)
    benchmark.stopMeasurement()
  } setup: {
    Rescheduler(pending: 10_000, increments: exponential)
  }

  // PHOLD as the CLI runs it: building the run is outside the measurement, the run loop inside.
  let pholdConfiguration = Benchmark.Configuration(
    metrics: [.wallClock, .throughput, .mallocCountTotal, eventsPerSecond],
    timeUnits: .milliseconds,
    units: [eventsPerSecond: .kilo],
    warmupIterations: 1,
    scalingFactor: .one,
    maxDuration: .seconds(3),
    maxIterations: 50
  )

  Benchmark("PHOLD", configuration: pholdConfiguration) { benchmark in
    let run = try! PHOLD.prepare(pholdParameters, streams: pholdStreams)
    benchmark.startMeasurement()
    let start = ContinuousClock.now
    run.execute()
    let elapsed = start.duration(to: .now)
    benchmark.stopMeasurement()
    benchmark.measurement(eventsPerSecond, rate(run.simulator.eventsProcessed, elapsed))
  }

  // PHOLD's recorded pushes and pops replayed on each bare queue (the model's draws and dispatch
  // left out). Every run is checked to pop events in the recorded order.
  func registerReplay<Queue: EventQueue>(_ name: String, _ queue: Queue.Type) {
    Benchmark(name, configuration: pholdConfiguration) { benchmark, trace in
      var queue = trace.startQueue(Queue.self)
      benchmark.startMeasurement()
      let start = ContinuousClock.now
      let (events, order) = trace.replay(on: &queue)
      let elapsed = start.duration(to: .now)
      benchmark.stopMeasurement()
      guard events == trace.events, order == trace.expectedOrder else {
        fatalError("\(name): popped \(events) events, not in PHOLD's order (\(trace.events) events recorded)")
      }
      benchmark.measurement(eventsPerSecond, rate(UInt64(events), elapsed))
    } setup: {
      pholdTrace
    }
  }

  registerReplay("PHOLD replay on EventHeap", EventHeap.self)
  registerReplay("PHOLD replay on CalendarQueue", CalendarQueue.self)
  registerReplay("PHOLD replay on Heap (swift-collections)", CollectionsHeap.self)
}

/// Recorded on first use (about a second, in the replay benchmarks' setup).
let pholdTrace = PHOLDTrace.record(pholdParameters, streams: pholdStreams)

func rate(_ events: UInt64, _ elapsed: Duration) -> Int {
  let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
  return seconds > 0 ? Int(Double(events) / seconds) : 0
}
