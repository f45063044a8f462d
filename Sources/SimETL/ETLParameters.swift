import SimHDFS
import SimKernel
import SimMapReduce
import SimModel
import SimPlatform
import SimSpark

/// An OLTP database, the extraction from it, staging in HDFS, a transform job and a load into a
/// warehouse or a lake, and the analytical queries on it: `model: etl`.
///
/// Hosts in order: the staging NameNode (host 0), `datanodes` DataNodes (the staging area, the
/// transform job's workers and the lake), the OLTP primary, `replicas` read replicas, then
/// `warehouse_nodes` warehouse nodes.
public struct ETLParameters: Sendable, Equatable {
  public enum Method: String, Sendable, Equatable, CaseIterable { case full, incremental, cdc }
  public enum Source: String, Sendable, Equatable, CaseIterable { case primary, replica }
  public enum Schedule: String, Sendable, Equatable, CaseIterable { case nightly, periodic }
  public enum Engine: String, Sendable, Equatable, CaseIterable { case mapreduce, spark }

  /// The OLTP database (MySQL/InnoDB names and defaults).
  public struct OLTP: Sendable, Equatable {
    /// Transactions per second (Poisson).
    public var rate = 500.0
    /// CPU a transaction takes on one core (parse, optimise, execute).
    public var cpu = Distribution.exponential(mean: 0.002)
    /// Pages a transaction touches (index and row lookups).
    public var pages = 8
    /// The buffer pool's hit ratio: a touched page is read from disk with probability 1 - it.
    public var hitRatio = 0.99
    /// InnoDB's page (innodb_page_size, 16 KiB): a miss reads one.
    public var pageSize = 16_384.0
    /// Share of transactions that write (and so commit a redo log flush and reach the replicas).
    public var writeFraction = 0.3
    /// Rows a write transaction inserts into the extracted table (TPC-C New-Order: 10 lines).
    public var insertedRows = 10
    /// Rows in the extracted table at the start.
    public var tableRows = 100_000_000.0
    /// max_connections: transactions at once; one more is refused (error 1040).
    public var connections = 151
    /// innodb_flush_log_at_trx_commit: 1 flushes the redo log at every commit (group commit);
    /// 2 writes it to the OS at commit and flushes once a second.
    public var flushAtCommit = 1
    /// I/O requests a database host's disk serves at once (1: a spinning disk's one head).
    public var ioDepth = 1
    /// replica_parallel_workers (MySQL 8.0.27+: 4): transactions a replica applies at once.
    public var replicaWorkers = 4
  }

  /// The extraction (Sqoop-style import from the OLTP, or change data capture from its log).
  public struct Extraction: Sendable, Equatable {
    public var method = Method.full
    public var source = Source.primary
    /// Sqoop --num-mappers (default 4): key ranges read at once, each by a map task on a DataNode.
    public var mappers = 4
    /// Bytes a mapper reads per request (InnoDB's read-ahead extent: 64 pages of 16 KiB).
    public var chunk = 1_048_576.0
    /// CPU per extracted byte on the database host (row materialisation and the JDBC send).
    public var cpuPerByte = 10e-9
    /// false: straight to the warehouse (the transform in it, ELT); true: staged in HDFS first.
    public var staging = true
    /// CDC: the log is read and shipped this often (a micro-batch).
    public var cdcInterval = SimTime.seconds(60)
  }

  public var platform: PlatformSpec
  public var faults: [FaultSpec]
  public var datanodes = 3
  public var replicas = 0
  public var warehouseNodes = 2
  public var oltp = OLTP()
  public var extraction = Extraction()
  public var schedule = Schedule.nightly
  /// Nightly: the window's start after midnight (the run starts at midnight) and its length.
  public var windowStart = SimTime.seconds(3600)
  public var window = SimTime.seconds(4 * 3600)
  /// Periodic: a run every `period` from the first at `period`.
  public var period = SimTime.seconds(3600)
  public var engine = Engine.mapreduce
  /// Transform CPU per staged byte (parse, cleanse, look up surrogate keys), one core.
  public var transformCost = 20e-9
  /// Bytes the transform writes per byte staged.
  public var outputRatio = 1.0
  /// Warehouse load (COPY): CPU per loaded byte to encode it into columns, one core.
  public var loadCost = 10e-9
  /// The staging HDFS (its DataNodes, block size, replication).
  public var hdfs: HDFSParameters
  public var analytics = AnalyticsParameters()

  public init(platform: PlatformSpec, faults: [FaultSpec]) {
    self.platform = platform
    self.faults = faults
    hdfs = HDFSParameters(platform: platform, faults: faults)
    hdfs.datanodes = datanodes
    hdfs.workload = .none
  }

  var primary: HostID { HostID(Int32(datanodes + 1)) }
  func replica(_ k: Int) -> HostID { HostID(Int32(datanodes + 2 + k)) }
  var warehouseHosts: [HostID] { (0..<warehouseNodes).map { HostID(Int32(datanodes + 2 + replicas + $0)) } }
  var datanodeHosts: [HostID] { (1...datanodes).map { HostID(Int32($0)) } }
  /// Hosts the layout takes.
  var hostsUsed: Int { datanodes + 2 + replicas + warehouseNodes }
  /// Bytes the staging HDFS holds at most (one copy): its DataNodes' disks over the replication.
  var stagingCapacity: Double {
    Double(datanodes * platform.disks) * platform.diskCapacity / Double(hdfs.replication)
  }
  /// Blocks the staging HDFS holds at most (each is a task of the transform and state kept).
  static let maxStagedBlocks = 1_000_000

  /// The host extraction reads from.
  var sourceHost: HostID { extraction.source == .replica ? replica(0) : primary }

  /// The transform job's MapReduce parameters: a map per staged block at `transform_cost` a
  /// byte, a reduce that dedupes by key (the sort preset's reduce cost), output_ratio of it kept.
  var mapReduce: MapReduceParameters {
    var m = MapReduceParameters(hdfs: hdfs)
    m.job = "etl"
    m.costs.mapCost = transformCost
    m.costs.reduceOutputRatio = outputRatio
    m.reduces = datanodes * m.reduceSlots
    m.outputReplication = hdfs.replication
    return m
  }

  /// The same transform as one Spark pass (no caching, its shuffle by key).
  var spark: SparkParameters {
    var s = SparkParameters(hdfs: hdfs)
    s.job = "etl"
    s.costs.parseCost = transformCost
    s.costs.iterationCost = 0
    s.costs.shuffleRatio = 1
    s.iterations = 1
    s.cache = .none
    return s
  }

  static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> ETLParameters {
    let platform = try PlatformSpec.decode(input)
    var p = ETLParameters(
      platform: platform, faults: try FaultSpec.decode(input.faults, spec: platform, baseDirectory: input.baseDirectory)
    )
    let hosts = platform.hostNames.count
    p.datanodes = try reader.int(
      "datanodes", default: 3, range: 1...1000,
      help: "staging DataNodes (hosts 1...datanodes, after the NameNode on host 0): the transform's workers, the lake")
    p.replicas = try reader.int(
      "replicas", default: 0, range: 0...100,
      help: "OLTP read replicas (after the primary, which follows the DataNodes)")
    p.warehouseNodes = try reader.int(
      "warehouse_nodes", default: 2, range: 1...1000,
      help: "warehouse nodes (the last of the layout)")
    guard p.hostsUsed <= hosts else {
      throw reader.error(
        reader.has("warehouse_nodes") ? "warehouse_nodes" : reader.has("replicas") ? "replicas" : "datanodes",
        "the layout needs \(p.hostsUsed) hosts (NameNode, DataNodes, primary, replicas, warehouse) and the"
          + " platform has \(hosts)",
        hint: "platform: {racks: 1, hosts_per_rack: \(p.hostsUsed)}")
    }
    p.hdfs.datanodes = p.datanodes

    var o = try reader.mapping("oltp", help: "the OLTP database (MySQL/InnoDB names and defaults)")
    p.oltp.rate = try o.quantity(
      "rate", .rate, default: 500, range: 1e-6...1e5, help: "transactions per second (Poisson)")
    p.oltp.cpu = try o.distribution(
      "cpu", .duration, default: .exponential(mean: 0.002), baseDirectory: input.baseDirectory,
      help: "CPU a transaction takes on one core")
    try o.checkDurations("cpu", p.oltp.cpu, maximumMean: 1e6)
    p.oltp.pages = try o.int("pages", default: 8, range: 0...10_000, help: "pages a transaction touches")
    p.oltp.hitRatio = try o.probability(
      "hit_ratio", default: 0.99, help: "buffer pool hit ratio (a touched page misses with 1 - it: a page read)")
    p.oltp.pageSize = try o.quantity(
      "page_size", .size, default: 16_384, range: 4096...65_536, help: "innodb_page_size (a miss reads one)")
    p.oltp.writeFraction = try o.probability(
      "write_fraction", default: 0.3, help: "share of transactions that write (commit a redo flush, replicate)")
    p.oltp.insertedRows = try o.int(
      "inserted_rows", default: 10, range: 0...100_000,
      help: "rows a write transaction adds to the extracted table (TPC-C New-Order: 10 order lines)")
    p.oltp.tableRows = try o.double(
      "table_rows", default: 100_000_000, range: 0...1e12, help: "rows of the extracted table at the start")
    p.oltp.connections = try o.int(
      "connections", default: 151, range: 1...100_000,
      help: "max_connections (MySQL default 151): transactions at once, one more is refused")
    p.oltp.flushAtCommit = try o.int(
      "flush_log_at_trx_commit", default: 1, range: 1...2,
      help: "innodb_flush_log_at_trx_commit: 1 flush at every commit (group commit), 2 flush once a second")
    p.oltp.ioDepth = try o.int(
      "io_depth", default: 1, range: 1...1024,
      help: "disk requests a database host serves at once (1: a spinning disk; an SSD's queue depth)")
    p.oltp.replicaWorkers = try o.int(
      "replica_parallel_workers", default: 4, range: 1...1024,
      help: "transactions a replica applies at once (MySQL 8.0.27+ default 4)")
    try o.finish()

    var e = try reader.mapping("extraction", help: "how rows leave the OLTP")
    p.extraction.method = Method(
      rawValue: try e.choice(
        "method", Method.allCases.map(\.rawValue), default: "full",
        help: "full: the whole table every run; incremental: rows newer than the last run's watermark (an index on"
          + " the timestamp); cdc: the binlog's row events every cdc_interval (Debezium)"))!
    p.extraction.source = Source(
      rawValue: try e.choice(
        "from", Source.allCases.map(\.rawValue), default: "primary", help: "read the primary or the first replica"))!
    if p.extraction.source == .replica && p.replicas == 0 {
      throw e.error("from", "extraction from a replica needs replicas: 1 or more", hint: "set replicas: 1")
    }
    p.extraction.mappers = try e.int(
      "mappers", default: 4, range: 1...1024, help: "Sqoop --num-mappers (default 4): key ranges read at once")
    p.extraction.chunk = try e.quantity(
      "chunk", .size, default: 1_048_576, range: 16_384...1_073_741_824,
      help: "bytes a mapper reads per request (InnoDB's read-ahead extent, 1 MiB)")
    p.extraction.cpuPerByte =
      try e.duration(
        "cpu_per_byte", default: SimTime(seconds: 10e-9), range: .zero...SimTime.seconds(1),
        help: "database CPU per extracted byte (row materialisation, the JDBC send), one core"
      ).seconds
    p.extraction.staging = try e.bool(
      "staging", default: true,
      help: "true: land in the staging HDFS, transform there, then load; false: straight into the warehouse (ELT)")
    p.extraction.cdcInterval = try e.period(
      "cdc_interval", default: .seconds(60), help: "cdc: how often the log is read and shipped (a micro-batch)")
    try e.finish()

    var s = try reader.mapping("schedule", help: "when ETL runs (method full or incremental)")
    p.schedule = Schedule(
      rawValue: try s.choice(
        "kind", Schedule.allCases.map(\.rawValue), default: "nightly",
        help: "nightly: once a day at window_start (the run starts at midnight); periodic: every period"))!
    p.windowStart = try s.duration(
      "window_start", default: .seconds(3600), range: .zero...SimTime.seconds(86_399),
      help: "nightly: the window's start after midnight")
    p.window = try s.duration(
      "window", default: .seconds(4 * 3600), range: .seconds(1)...SimTime.seconds(86_400),
      help: "the time a run has to finish (nightly: the batch window; periodic: defaults to the period)")
    p.period = try s.period("period", default: .seconds(3600), help: "periodic: time between runs")
    if p.schedule == .periodic && !s.has("window") { p.window = p.period }
    try s.finish()

    var t = try reader.mapping("transform", help: "the batch job over the staged files")
    p.engine = Engine(
      rawValue: try t.choice(
        "engine", Engine.allCases.map(\.rawValue), default: "mapreduce", help: "the MapReduce or Spark model's job"))!
    p.transformCost =
      try t.duration(
        "cpu_per_byte", default: SimTime(seconds: 20e-9), range: .zero...SimTime.seconds(1),
        help: "CPU per staged byte (parse, cleanse, surrogate keys), one core"
      ).seconds
    p.outputRatio = try t.double(
      "output_ratio", default: 1, range: 0...100, help: "bytes the transform writes per staged byte")
    p.loadCost =
      try t.duration(
        "load_cpu_per_byte", default: SimTime(seconds: 10e-9), range: .zero...SimTime.seconds(1),
        help: "warehouse CPU per loaded byte (COPY encoding it into columns), one core"
      ).seconds
    try t.finish()

    var h = try reader.mapping("hdfs", help: "the staging HDFS")
    p.hdfs.blockSize = try h.quantity(
      "block_size", .size, default: 134_217_728, range: 1_048_576...1e12, help: "dfs.blocksize (128 MiB)")
    p.hdfs.replication = try h.int(
      "replication", default: min(3, p.datanodes), range: 1...p.datanodes,
      help: "dfs.replication (3; at most the DataNodes)")
    try h.finish()

    var analytics = try reader.mapping("analytics", help: "analytical queries on the warehouse or the lake")
    p.analytics = try AnalyticsParameters.decode(&analytics, baseDirectory: input.baseDirectory)
    try analytics.finish()
    if !p.extraction.staging && p.analytics.store == .lake {
      throw reader.error(
        "extraction", "the lake is the staging HDFS: extraction.staging: false needs analytics.store: warehouse")
    }
    return p
  }

}
