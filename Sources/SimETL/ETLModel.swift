import SimKernel
import SimModel
import SimPlatform

/// OLTP, extraction, staging, transform and load into a warehouse or a lake: `model: etl`.
public enum ETLModel: SimulationModel {
  public static let name = "etl"
  public static let documentation: String? = "docs/models/etl.md"
  public static let summary =
    "OLTP database (primary, read replicas), extraction (full, incremental, CDC), staging in HDFS, a MapReduce"
    + " or Spark transform, load into a columnar warehouse or a lake; OLTP p99, ETL window, freshness, queries"
  public static let usesPlatform = true
  public static let headlineMetrics = ["analytics.*"]
  public static let metrics: [MetricInfo] = AnalyticsParameters.metrics

  public static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> ETLParameters {
    try ETLParameters.decode(&reader, input: input)
  }

  public static func run(_ parameters: ETLParameters, context: RunContext) throws(ValueError) -> RunOutput {
    try runOnPlatform(parameters.platform, faults: parameters.faults, context: context) { simulator, platform in
      ETLRun(parameters: parameters, platform: platform, simulator: simulator, context: context)
    }
  }
}

/// One run: the OLTP database, the pipeline and the store's query engine.
final class ETLRun: PlatformWorkload {
  let p: ETLParameters
  let analytics: AnalyticsEngine
  var timeseries: TimeSeries { TimeSeries() }

  init(parameters: ETLParameters, platform: Platform, simulator: Simulator, context: RunContext) {
    p = parameters
    let hosts = parameters.analytics.store == .warehouse ? parameters.warehouseHosts : parameters.datanodeHosts
    analytics = AnalyticsEngine(
      parameters: parameters.analytics, hosts: hosts, platform: platform, simulator: simulator, context: context)
  }

  func metrics() -> Metrics {
    var m = Metrics()
    analytics.metrics(into: &m)
    return m
  }
}
