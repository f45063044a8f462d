import SimKernel
import SimModel
import SimPlatform

/// An HDFS cluster: a NameNode, DataNodes, a placement policy and a workload, with HDFS's own
/// parameter names (dots and dashes become underscores) and defaults.
public struct HDFSParameters: Sendable, Equatable {
  public enum Placement: String, Sendable, Equatable {
    /// BlockPlacementPolicyDefault: the writer's node (or a random node of its rack), a node
    /// of another rack, another node of that remote rack.
    case `default`
    /// BlockPlacementPolicyRackFaultTolerant: replicas over as many racks as possible.
    case rackFaultTolerant = "rack_fault_tolerant"
    /// Test only: every replica in one rack.
    case oneRack = "one_rack"
  }

  public enum Workload: String, Sendable, Equatable { case write, read, none }

  public var platform: PlatformSpec
  public var faults: [FaultSpec]
  /// The NameNode runs on the first host, DataNodes on the next `datanodes`.
  public var datanodes = 7
  public var blockSize = 134_217_728.0
  public var replication = 3
  public var placement = Placement.default
  // NameNode.
  public var handlerCount = 10
  public var rpcService = Distribution.exponential(mean: 0.000_2)
  public var objectBytes = 150.0
  public var checkpointPeriod = SimTime.seconds(3600)
  public var checkpointTxns = 1_000_000
  /// Restart: loading the image per object, replaying the edit log per edit, then safe mode.
  public var imageLoadPerObject = SimTime.microseconds(2)
  public var editReplayPerEdit = SimTime.microseconds(20)
  public var safemodeExtension = SimTime.seconds(30)
  // DataNodes and re-replication.
  public var heartbeatInterval = SimTime.seconds(3)
  public var recheckInterval = SimTime.seconds(300)
  public var replicationInterval = SimTime.seconds(3)
  public var replicationWorkMultiplier = 2
  public var maxStreams = 2
  public var maxStreamsHardLimit = 4
  // Data already there at the start, and the workload.
  public var preloadFiles = 0
  public var preloadFileSize = Distribution.constant(1_073_741_824)
  public var workload = Workload.write
  /// Clients: one per DataNode host by default (TestDFSIO's map tasks), each doing
  /// `filesPerClient` files one after another, or hosts given by name.
  public var clientHosts: [Int32] = []
  public var filesPerClient = 4
  public var fileSize = Distribution.constant(1_073_741_824)
  public var clientRetry = SimTime.seconds(1)

  /// Dead after 2 x recheck + 10 x heartbeat (10.5 minutes by default), as HDFS computes it
  /// (DatanodeManager's heartbeatExpireInterval). Both are range-checked (``maxHeartbeatInterval``,
  /// ``maxRecheckInterval``), so this is at most 2 days + 10 hours: far inside the clock.
  public var deadInterval: SimTime {
    SimTime(nanoseconds: 2 * recheckInterval.nanoseconds + 10 * heartbeatInterval.nanoseconds)
  }

  /// The NameNode's HeartbeatManager.Monitor looks every 5 s and runs heartbeatCheck at the
  /// first look more than `recheck_interval` after the last check.
  static let monitorSleep = SimTime.seconds(5)

  /// The time between two heartbeat checks: the smallest multiple of the Monitor's 5 s sleep
  /// longer than `recheck_interval` (305 s for the default 300 s).
  public var checkPeriod: SimTime {
    let sleep = Self.monitorSleep.nanoseconds
    return SimTime(nanoseconds: sleep * (recheckInterval.nanoseconds / sleep + 1))
  }

  /// A DataNode's heartbeat period at most: an hour. A DataNode also takes its commands
  /// (replications, deletions) with its heartbeats, so a longer period stalls the cluster; the
  /// bound keeps the dead-node interval (10 heartbeats) within hours.
  static let maxHeartbeatInterval = SimTime.seconds(3600)
  /// `recheck_interval` at most: a day (the dead-node interval is twice it, so at most 2 days
  /// and 10 hours, well within the runs the simulator makes and its clock).
  static let maxRecheckInterval = SimTime.seconds(86_400)

  /// Preloaded blocks at most, on average (preload_files x mean preload_file_size / blocksize):
  /// each block is placed at the start and held with its replicas, some 150 bytes each.
  static let maxPreloadBlocks = 10_000_000

  static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> HDFSParameters {
    let platform = try PlatformSpec.decode(input)
    var p = HDFSParameters(
      platform: platform, faults: try FaultSpec.decode(input.faults, spec: platform, baseDirectory: input.baseDirectory)
    )
    let hosts = platform.hostNames
    p.datanodes = try reader.int(
      "datanodes", default: max(1, hosts.count - 1), range: 1...max(1, hosts.count - 1),
      help: "DataNodes, on the hosts after the NameNode's (the first host)")
    p.blockSize = try reader.quantity("blocksize", .size, default: 134_217_728, help: "dfs.blocksize")
    guard p.blockSize >= 1_048_576 else { throw reader.error("blocksize", "blocksize must be at least 1MiB") }
    p.replication = try reader.int(
      "replication", default: min(3, p.datanodes), range: 1...p.datanodes, help: "dfs.replication (<= datanodes)")
    p.placement = Placement(
      rawValue: try reader.choice(
        "placement", ["default", "rack_fault_tolerant", "one_rack"], default: "default",
        help: "block placement policy (one_rack: test only)"))!
    p.handlerCount = try reader.int(
      "handler_count", default: 10, range: 1...10_000, help: "dfs.namenode.handler.count: RPC handler threads")
    p.rpcService = try reader.distribution(
      "rpc_service", .duration, default: .exponential(mean: 0.000_2), baseDirectory: input.baseDirectory,
      help: "NameNode time per RPC (under its namesystem lock)")
    p.objectBytes = try reader.quantity(
      "namenode_object_bytes", .size, default: 150, help: "NameNode heap per file or block object")
    p.checkpointPeriod = try reader.duration(
      "checkpoint_period", default: .seconds(3600), help: "dfs.namenode.checkpoint.period")
    p.checkpointTxns = try reader.int(
      "checkpoint_txns", default: 1_000_000, range: 1...Int.max, help: "dfs.namenode.checkpoint.txns")
    p.imageLoadPerObject = try reader.duration(
      "image_load_per_object", default: .microseconds(2), help: "NameNode restart: fsimage load time per object")
    p.editReplayPerEdit = try reader.duration(
      "edit_replay_per_edit", default: .microseconds(20), help: "NameNode restart: replay time per edit")
    p.safemodeExtension = try reader.duration(
      "safemode_extension", default: .seconds(30), help: "dfs.namenode.safemode.extension")
    p.heartbeatInterval = try reader.period(
      "heartbeat_interval", default: .seconds(3), help: "dfs.heartbeat.interval (at most 1h)")
    guard p.heartbeatInterval <= Self.maxHeartbeatInterval else {
      throw reader.error(
        "heartbeat_interval", "a heartbeat interval of \(p.heartbeatInterval.formatted) is longer than 1h",
        hint: "give 1h or less: DataNodes take their commands with their heartbeats; HDFS's default is 3s")
    }
    p.recheckInterval = try reader.period(
      "recheck_interval", default: .seconds(300),
      help: "dfs.namenode.heartbeat.recheck-interval: how often the NameNode checks heartbeats (at most 1d)")
    guard p.recheckInterval <= Self.maxRecheckInterval else {
      throw reader.error(
        "recheck_interval", "a recheck interval of \(p.recheckInterval.formatted) is longer than 1d",
        hint:
          "give 1d or less: a DataNode is declared dead after 2 x recheck_interval + 10 x heartbeat_interval; HDFS's default is 5m"
      )
    }
    p.replicationInterval = try reader.period(
      "replication_interval", default: .seconds(3), help: "dfs.namenode.replication.interval")
    p.replicationWorkMultiplier = try reader.int(
      "replication_work_multiplier", default: 2, range: 1...1000,
      help: "dfs.namenode.replication.work.multiplier.per.iteration")
    p.maxStreams = try reader.int(
      "max_streams", default: 2, range: 1...1000,
      help:
        "dfs.namenode.replication.max-streams: copies queued on a source DataNode, but for blocks with one replica left"
    )
    p.maxStreamsHardLimit = try reader.int(
      "max_streams_hard_limit", default: max(4, p.maxStreams), range: 1...1000,
      help: "dfs.namenode.replication.max-streams-hard-limit: copies queued on a source DataNode, for any block")
    guard p.maxStreamsHardLimit >= p.maxStreams else {
      throw reader.error(
        "max_streams_hard_limit",
        "max_streams_hard_limit (\(p.maxStreamsHardLimit)) is below max_streams (\(p.maxStreams))",
        hint: "the hard limit is for the most endangered blocks, above the soft one; raise it or lower max_streams")
    }
    for (key, value) in [
      ("heartbeat_interval", p.heartbeatInterval), ("replication_interval", p.replicationInterval),
      ("checkpoint_period", p.checkpointPeriod),
    ] where value <= .zero {
      throw reader.error(key, "\(key) must be positive")
    }
    p.preloadFiles = try reader.int(
      "preload_files", default: 0, range: 0...10_000_000, help: "files already in HDFS at the start")
    p.preloadFileSize = try reader.distribution(
      "preload_file_size", .size, default: .constant(1_073_741_824), baseDirectory: input.baseDirectory,
      help: "their sizes")
    let preloadBlocks =
      Double(p.preloadFiles) * max(1, ((p.preloadFileSize.mean ?? .infinity) / p.blockSize).rounded(.up))
    guard p.preloadFiles == 0 || preloadBlocks <= Double(Self.maxPreloadBlocks) else {
      throw reader.error(
        "preload_file_size",
        "preload_files x preload_file_size / blocksize is \(Quantity.shortest(preloadBlocks)) blocks on average, "
          + "more than the model's limit of 10,000,000",
        hint: "every block is placed and held in memory; use a larger blocksize, fewer or smaller files")
    }
    p.workload = Workload(
      rawValue: try reader.choice(
        "workload", ["write", "read", "none"], default: "write",
        help: "clients write new files, read the preloaded ones, or do nothing"))!
    if p.workload == .read, p.preloadFiles == 0 {
      throw reader.error("workload", "a read workload needs preload_files > 0")
    }
    if let clients = reader.node("clients") {
      p.clientHosts = try FaultSpec.group(clients, names: hosts, spec: platform, keyPath: reader.keyPath("clients"))
    } else {
      reader.describe("clients", kind: "list", help: "client hosts or racks (default: every DataNode's host)")
    }
    if p.clientHosts.isEmpty { p.clientHosts = (1...p.datanodes).map { Int32($0) } }
    let perHost = try reader.int(
      "clients_per_host", default: 1, range: 1...1000, help: "clients on each client host (tasks per node)")
    p.clientHosts = p.clientHosts.flatMap { Array(repeating: $0, count: perHost) }
    p.filesPerClient = try reader.int(
      "files_per_client", default: 4, range: 0...10_000_000, help: "files each client writes or reads in turn")
    p.fileSize = try reader.distribution(
      "file_size", .size, default: .constant(1_073_741_824), baseDirectory: input.baseDirectory,
      help: "sizes of the files written")
    p.clientRetry = try reader.duration(
      "client_retry", default: .seconds(1), help: "a client's wait before retrying a failed operation")
    return p
  }
}
