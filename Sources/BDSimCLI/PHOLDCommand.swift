import ArgumentParser
import SimExperiments
import SimKernel
import SimPHOLD

struct PHOLDCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "phold",
    abstract: "Run the PHOLD benchmark and print events handled and events per wall-clock second.")

  @Option(help: "Logical processes.") var lps = 1024
  @Option(name: .customLong("events-per-lp"), help: "Initial events per LP (the pending-event population).")
  var eventsPerLP = 16
  @Option(help: "Probability that an event goes to a uniformly chosen LP.") var remote = 0.5
  @Option(help: "Minimum time increment (simulated seconds).") var lookahead = 0.1
  @Option(help: "Mean of the exponential time increment (simulated seconds).") var mean = 1.0
  @Option(name: .customLong("end-time"), help: "Simulated seconds to run.") var endTime = 1000.0
  @Option(help: "Experiment seed.") var seed: UInt64 = 1

  func run() throws {
    var parameters = PHOLDParameters()
    parameters.lps = lps
    parameters.eventsPerLP = eventsPerLP
    parameters.remote = remote
    parameters.lookahead = lookahead
    parameters.mean = mean
    parameters.endTime = endTime
    let run = try PHOLD.prepare(parameters, streams: RandomStreams(experimentSeed: seed))
    // Only the event loop is timed, not building the initial population.
    let clock = ContinuousClock()
    let elapsed = clock.measure { run.execute() }
    let seconds = elapsed.inSeconds
    let events = run.simulator.eventsProcessed
    print(
      "lps=\(lps) events_per_lp=\(eventsPerLP) remote=\(remote) lookahead=\(lookahead) mean=\(mean) end_time=\(endTime) seed=\(seed)"
    )
    print("remote_sends=\(Int(run.metrics["remote_sends"]!)) pending_events=\(run.simulator.pendingEvents)")
    print("events=\(events) seconds=\(fixed(seconds, 4)) events_per_s=\(fixed(Double(events) / seconds, 0))")
  }
}

/// `value` with `digits` decimals (no locale, no exponent).
func fixed(_ value: Double, _ digits: Int) -> String {
  guard value.isFinite else { return "\(value)" }
  var scale = 1.0
  for _ in 0..<digits { scale *= 10 }
  let rounded = (value * scale).rounded() / scale
  if digits == 0 { return String(Int64(rounded)) }
  let whole = Int64(rounded.magnitude)
  var fraction = String(Int64(((rounded.magnitude - Double(whole)) * scale).rounded()))
  fraction = String(repeating: "0", count: max(0, digits - fraction.count)) + fraction
  return (rounded < 0 ? "-" : "") + "\(whole).\(fraction)"
}
