import SimKernel
import SimModel
import SimPlatform

/// An OLTP database, the extraction from it, staging in HDFS, a transform job and a load into a
/// warehouse or a lake, and the analytical queries on it: `model: etl`.
///
/// Hosts in order: the staging NameNode (host 0), `datanodes` DataNodes (the staging area, the
/// transform job's workers and the lake), the OLTP primary, `replicas` read replicas, then
/// `warehouse_nodes` warehouse nodes.
public struct ETLParameters: Sendable, Equatable {
  public var platform: PlatformSpec
  public var faults: [FaultSpec]
  public var datanodes = 3
  public var replicas = 0
  public var warehouseNodes = 2
  public var analytics = AnalyticsParameters()

  public init(platform: PlatformSpec, faults: [FaultSpec]) {
    self.platform = platform
    self.faults = faults
  }

  var primary: HostID { HostID(Int32(datanodes + 1)) }
  func replica(_ k: Int) -> HostID { HostID(Int32(datanodes + 2 + k)) }
  var warehouseHosts: [HostID] { (0..<warehouseNodes).map { HostID(Int32(datanodes + 2 + replicas + $0)) } }
  var datanodeHosts: [HostID] { (1...datanodes).map { HostID(Int32($0)) } }
  /// Hosts the layout takes.
  var hostsUsed: Int { datanodes + 2 + replicas + warehouseNodes }

  static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> ETLParameters {
    let platform = try PlatformSpec.decode(input)
    var p = ETLParameters(
      platform: platform, faults: try FaultSpec.decode(input.faults, spec: platform, baseDirectory: input.baseDirectory)
    )
    var analytics = try reader.mapping("analytics", help: "analytical queries on the warehouse or the lake")
    p.analytics = try AnalyticsParameters.decode(&analytics, baseDirectory: input.baseDirectory)
    try analytics.finish()
    return p
  }
}
