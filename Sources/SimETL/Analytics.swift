import SimKernel
import SimModel
import SimPlatform

/// Analytical queries on the data the ETL loads: a columnar warehouse on its own hosts, or a lake
/// of raw files in HDFS on the DataNodes read schema-on-read. (Interface; the engine is being built.)
public struct AnalyticsParameters: Sendable, Equatable {
  public enum Store: String, Sendable, Equatable, CaseIterable { case warehouse, lake }
  /// Which store the queries run on (and the ETL loads into).
  public var store = Store.warehouse
  /// Fact rows in the store at the start.
  public var factRows = 600_000_000.0
  /// Bytes of a fact row as the OLTP and the staging files hold it (text, before the columnar
  /// store's encoding): what one row loaded costs in extraction.
  public var rowBytes = 104.0
  /// Queries per second (Poisson); 0: none.
  public var queryRate = 0.0

  public init() {}

  /// Reads the `analytics:` mapping (`reader` is that mapping).
  static func decode(_ reader: inout ConfigReader, baseDirectory: String?) throws(ConfigError) -> AnalyticsParameters {
    AnalyticsParameters()
  }

  static let metrics: [MetricInfo] = []
}

/// The query engine of the store the ETL loads into.
final class AnalyticsEngine: EventHandler, ActivityObserver {
  let p: AnalyticsParameters
  /// The store's hosts: the warehouse's nodes, or the lake's DataNodes.
  let hosts: [HostID]
  unowned let platform: Platform
  unowned let simulator: Simulator
  var me = EntityID(0)
  var rows: Double

  init(parameters: AnalyticsParameters, hosts: [HostID], platform: Platform, simulator: Simulator, context: RunContext)
  {
    p = parameters
    self.hosts = hosts
    self.platform = platform
    self.simulator = simulator
    rows = parameters.factRows
    me = simulator.register(self)
  }

  /// `rows` more fact rows are queryable from now (a load committed, files landed in the lake).
  func loaded(rows more: Double) { rows += more }

  /// Bytes the store holds on its hosts (all replicas).
  var storedBytes: Double { rows * p.rowBytes }

  func handle(_ event: Event, in simulator: Simulator) {}
  func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {}
  func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {}

  func metrics(into m: inout Metrics) {}
}
