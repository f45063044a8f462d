import SimKernel
import SimModel

/// PHOLD as a model configs can name: `model: phold`. The run's `duration` is PHOLD's end time.
public enum PHOLDModel: SimulationModel {
  public static let name = "phold"
  public static let documentation: String? = "docs/models/phold.md"
  public static let summary = "the PHOLD discrete-event benchmark: a constant population of events hopping between LPs"
  public static let headlineMetrics = ["events", "remote_sends"]
  public static let metrics: [MetricInfo] = [
    MetricInfo(["events"], .count, unit: "events", "events handled"),
    MetricInfo(["remote_sends"], .count, unit: "events", "events sent to another LP"),
    MetricInfo(["pending_events"], .count, unit: "events", "events pending at the end (constant: lps x events_per_lp)"),
  ]

  public static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> PHOLDParameters {
    var p = PHOLDParameters()
    p.lps = try reader.int("lps", default: 1024, range: 1...Int(Int32.max), help: "logical processes")
    p.eventsPerLP = try reader.int("events_per_lp", default: 16, range: 1...1_000_000, help: "initial events per LP")
    p.remote = try reader.probability("remote", default: 0.5, help: "probability of sending to a random LP")
    p.lookahead = try reader.duration("lookahead", default: .milliseconds(100), help: "minimum time increment").seconds
    p.mean = try reader.duration("mean", default: .seconds(1), help: "mean of the exponential increment").seconds
    do { try p.validate() } catch { throw reader.error(error.key, error.message, hint: error.hint) }
    return p
  }

  public static func run(_ parameters: PHOLDParameters, context: RunContext) throws(ValueError) -> RunOutput {
    try context.validate()
    var p = parameters
    p.endTime = context.duration.seconds
    let run = try PHOLD.prepare(p, streams: context.streams)
    run.execute()
    return RunOutput(metrics: run.metrics)
  }
}
