import ArgumentParser
import SimExperiments
import SimKernel
import SimQueueing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

struct ValidateQueueingCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "validate-queueing",
    abstract: "Simulate queues with known closed forms and print theory vs simulation with 95% CIs.")

  @Option(help: "Replications per system.") var replications = 10
  @Option(help: "Length of each run, warm-up included (e.g. 20000s, 6h).") var duration = "20000s"
  @Option(help: "Warm-up whose statistics are discarded.") var warmup = "1000s"
  @Option(help: "Experiment seed.") var seed: UInt64 = 1
  @Option(help: "Worker threads (default: all cores).") var jobs = activeCores()
  @Option(help: "Also write the table as CSV to this file.") var csv: String?

  func run() throws {
    let duration = try parse(self.duration, key: "--duration")
    let warmup = try parse(self.warmup, key: "--warmup")
    let rows = try QueueingValidation.run(
      checks: QueueingValidation.standardChecks(), replications: replications, duration: duration, warmup: warmup,
      seed: seed, jobs: jobs)
    print("Queueing theory vs BDSim: \(replications) replications of \(duration) (warm-up \(warmup)), seed \(seed)")
    let header = ["system", "quantity", "theory", "simulated", "95% CI", "rel. error", "in CI"]
    let table = rows.map { row in
      [
        row.system, row.quantity, fixed(row.theory, 4), fixed(row.interval.mean, 4),
        "[\(fixed(row.interval.lower, 4)), \(fixed(row.interval.upper, 4))]",
        row.theory == 0 ? "-" : fixed(100 * row.relativeError, 2) + "%", row.inside ? "yes" : "NO",
      ]
    }
    print(TextTable.render(header: header, rows: table))
    let inside = rows.filter(\.inside).count
    print("\(inside) of \(rows.count) theoretical values lie inside the simulated 95% confidence interval.")
    print(
      "(Each 95% interval misses the truth 1 time in 20 by design; "
        + "with \(rows.count) rows, a NO is expected in about \(Int((1 - pow(0.95, Double(rows.count))) * 100))% of seeds.)"
    )
    if let csv {
      var file = CSVFile(header: [
        "system", "quantity", "theory", "mean", "stddev", "n", "ci95_low", "ci95_high", "inside",
      ])
      for row in rows {
        let i = row.interval
        file.append(
          [
            "\(row.system)", "\(row.quantity)", "\(row.theory)", "\(i.mean)", "\(i.standardDeviation)", "\(i.count)",
            "\(i.lower)", "\(i.upper)", "\(row.inside)",
          ])
      }
      let text = file.takeText()
      try writeAtomically(text, to: csv)
      print("wrote \(csv)")
    }
  }

  func parse(_ text: String, key: String) throws(ValueError) -> SimTime {
    do { return try SimTime(parsing: text) } catch {
      throw ValueError("\(key): \(error.message)", key: key, hint: error.hint)
    }
  }
}
