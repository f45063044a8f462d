import Foundation
import SimKernel
import SimModel
import SimPlatform

// The analytics engine of the `etl` model: the Star Schema Benchmark's queries (O'Neil, O'Neil,
// Chen and Revilak, "The Star Schema Benchmark and Augmented Fact Table Indexing", TPCTC 2009)
// on a columnar warehouse, or on a lake of raw files read schema-on-read. docs/models/etl-analytics.md
// has the mechanisms, the defaults and their sources, and Q1.1 worked by hand.

/// The SSB schema: the fact table lineorder and its four dimensions.
enum SSB {
  /// lineorder rows at scale factor 1 (SF x 6,000,000 rows).
  static let rowsPerScaleFactor = 6_000_000.0

  /// lineorder's 17 columns and the bytes of each in a compact binary encoding, before
  /// compression (a choice, documented in etl-analytics.md): 1-byte small integers (line number,
  /// ship priority, quantity, discount, tax), 4-byte keys and dates (yyyymmdd), 8-byte decimals
  /// for the money columns (extended price, total price, revenue), a 4-byte supply cost
  /// (at most 1,000.00 in cents), and the two text columns at their mean length plus a length
  /// byte. 70 B a row in all, against ~104 B as CSV text.
  enum Column: Int, CaseIterable {
    case orderkey, linenumber, custkey, partkey, suppkey, orderdate, orderpriority, shippriority
    case quantity, extendedprice, ordtotalprice, discount, revenue, supplycost, tax, commitdate, shipmode

    var bytes: Double {
      switch self {
      case .orderkey, .custkey, .partkey, .suppkey, .orderdate, .supplycost, .commitdate: 4
      case .linenumber, .shippriority, .quantity, .discount, .tax: 1
      case .extendedprice, .ordtotalprice, .revenue: 8
      // "1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW": 8.4 characters on average.
      case .orderpriority: 8
      // AIR, FOB, MAIL, RAIL, REG AIR, SHIP, TRUCK: 4.3 characters, and a length byte.
      case .shipmode: 5
      }
    }
  }

  /// Bytes of a whole lineorder row encoded (before compression): 70.
  static let encodedRowBytes = Column.allCases.reduce(0) { $0 + $1.bytes }

  /// Months of SSB dates: 1992-01 to 1998-12 (the date dimension's 2,556 days, 7 years).
  static let months = 84

  enum Dimension: Int, CaseIterable {
    case date, customer, supplier, part

    /// Rows at scale factor `sf`: date 2,556; customer 30,000 x SF; supplier 2,000 x SF; part
    /// 200,000 x floor(1 + log2 SF) (SSB's specification; below SF 1 part scales as SF).
    func rows(scaleFactor sf: Double) -> Double {
      switch self {
      case .date: 2556
      case .customer: 30_000 * sf
      case .supplier: 2_000 * sf
      case .part: sf >= 1 ? 200_000 * (1 + log2(sf)).rounded(.down) : 200_000 * sf
      }
    }

    /// Bytes of a row as broadcast to the join: the key and the attributes the queries use
    /// (date: datekey, year, yearmonthnum, yearmonth, weeknuminyear; customer and supplier:
    /// key, city, nation, region; part: key, mfgr, category, brand1), decoded, uncompressed.
    var broadcastRowBytes: Double {
      switch self {
      case .date: 16
      case .customer, .supplier: 40
      case .part: 28
      }
    }
  }
}

/// One of the 13 SSB queries.
struct QueryTemplate: Sendable, Equatable {
  /// `q1_1` ... `q4_3`.
  let name: String
  /// The fact columns it reads.
  let columns: [SSB.Column]
  /// The months its date predicate keeps, [from, to) counted from 1992-01 (0 ..< 84).
  let months: Range<Int>
  /// The dimensions it joins, each with the share of its rows the predicate keeps (broadcast).
  let dimensions: [(SSB.Dimension, Double)]
  /// Result rows (groups) at most: what each host sends back.
  let groups: Double

  /// Bytes of the columns read per fact row, encoded, before compression.
  var columnBytes: Double { columns.reduce(0) { $0 + $1.bytes } }

  static func == (a: QueryTemplate, b: QueryTemplate) -> Bool { a.name == b.name }

  /// Bytes of one result row (group keys and the aggregate).
  static let resultRowBytes = 32.0

  /// The 13 queries (SSB specification; the filter factors are the paper's): flight 1 reads
  /// orderdate, extendedprice, discount and quantity (14 B a row) and joins date alone; flight 2
  /// orderdate, partkey, suppkey and revenue (20 B) with date, part and supplier; flight 3
  /// custkey, suppkey, orderdate and revenue (20 B) with customer, supplier and date; flight 4
  /// those and partkey and supplycost (28 B) with all four.
  static let all: [QueryTemplate] = {
    let q1: [SSB.Column] = [.orderdate, .extendedprice, .discount, .quantity]
    let q2: [SSB.Column] = [.orderdate, .partkey, .suppkey, .revenue]
    let q3: [SSB.Column] = [.custkey, .suppkey, .orderdate, .revenue]
    let q4: [SSB.Column] = [.custkey, .suppkey, .partkey, .orderdate, .revenue, .supplycost]
    let all = 0..<SSB.months
    return [
      // d_year = 1993
      QueryTemplate(name: "q1_1", columns: q1, months: 12..<24, dimensions: [(.date, 1.0 / 7)], groups: 1),
      // d_yearmonthnum = 199401
      QueryTemplate(name: "q1_2", columns: q1, months: 24..<25, dimensions: [(.date, 1.0 / 84)], groups: 1),
      // d_weeknuminyear = 6 and d_year = 1994 (5-11 February 1994)
      QueryTemplate(name: "q1_3", columns: q1, months: 25..<26, dimensions: [(.date, 7.0 / 2556)], groups: 1),
      // p_category = 'MFGR#12', s_region = 'AMERICA'; by d_year, p_brand1 (7 x 40 groups)
      QueryTemplate(
        name: "q2_1", columns: q2, months: all, dimensions: [(.date, 1), (.part, 1.0 / 25), (.supplier, 1.0 / 5)],
        groups: 280),
      // p_brand1 between 'MFGR#2221' and 'MFGR#2228', s_region = 'ASIA'
      QueryTemplate(
        name: "q2_2", columns: q2, months: all, dimensions: [(.date, 1), (.part, 1.0 / 125), (.supplier, 1.0 / 5)],
        groups: 56),
      // p_brand1 = 'MFGR#2239', s_region = 'EUROPE'
      QueryTemplate(
        name: "q2_3", columns: q2, months: all, dimensions: [(.date, 1), (.part, 1.0 / 1000), (.supplier, 1.0 / 5)],
        groups: 7),
      // c_region = s_region = 'ASIA', d_year 1992-1997; by c_nation, s_nation, d_year (5 x 5 x 6)
      QueryTemplate(
        name: "q3_1", columns: q3, months: 0..<72,
        dimensions: [(.customer, 1.0 / 5), (.supplier, 1.0 / 5), (.date, 6.0 / 7)], groups: 150),
      // c_nation = s_nation = 'UNITED STATES', 1992-1997; by city (10 x 10 x 6)
      QueryTemplate(
        name: "q3_2", columns: q3, months: 0..<72,
        dimensions: [(.customer, 1.0 / 25), (.supplier, 1.0 / 25), (.date, 6.0 / 7)], groups: 600),
      // two cities each side, 1992-1997
      QueryTemplate(
        name: "q3_3", columns: q3, months: 0..<72,
        dimensions: [(.customer, 1.0 / 125), (.supplier, 1.0 / 125), (.date, 6.0 / 7)], groups: 24),
      // two cities each side, d_yearmonth = 'Dec1997'
      QueryTemplate(
        name: "q3_4", columns: q3, months: 71..<72,
        dimensions: [(.customer, 1.0 / 125), (.supplier, 1.0 / 125), (.date, 1.0 / 84)], groups: 4),
      // c_region = s_region = 'AMERICA', p_mfgr in (MFGR#1, MFGR#2); by d_year, c_nation (7 x 5)
      QueryTemplate(
        name: "q4_1", columns: q4, months: all,
        dimensions: [(.date, 1), (.customer, 1.0 / 5), (.supplier, 1.0 / 5), (.part, 2.0 / 5)], groups: 35),
      // as q4_1 and d_year in (1997, 1998); by d_year, s_nation, p_category (2 x 5 x 10)
      QueryTemplate(
        name: "q4_2", columns: q4, months: 60..<84,
        dimensions: [(.date, 2.0 / 7), (.customer, 1.0 / 5), (.supplier, 1.0 / 5), (.part, 2.0 / 5)], groups: 100),
      // c_region = 'AMERICA', s_nation = 'UNITED STATES', p_category = 'MFGR#14', 1997-1998;
      // by d_year, s_city, p_brand1 (2 x 10 x 40)
      QueryTemplate(
        name: "q4_3", columns: q4, months: 60..<84,
        dimensions: [(.date, 2.0 / 7), (.customer, 1.0 / 5), (.supplier, 1.0 / 25), (.part, 1.0 / 25)], groups: 800),
    ]
  }()

  static func index(named name: String) -> Int? { all.firstIndex { $0.name == name } }
}

/// Analytical queries on the data the ETL loads: a columnar warehouse on its own hosts, or a lake
/// of raw files in HDFS on the DataNodes read schema-on-read.
public struct AnalyticsParameters: Sendable, Equatable {
  public enum Store: String, Sendable, Equatable, CaseIterable { case warehouse, lake }
  /// How the lake's files are written.
  public enum Format: String, Sendable, Equatable, CaseIterable { case csv, json, parquet }
  /// Which store the queries run on (and the ETL loads into).
  public var store = Store.warehouse
  /// Fact rows in the store at the start.
  public var factRows = 600_000_000.0
  /// Bytes of a fact row as the OLTP and the staging files hold it (text, before the columnar
  /// store's encoding): what one row loaded costs in extraction, and a row of a CSV lake.
  public var rowBytes = 104.0
  /// Queries per second (Poisson); 0: none.
  public var queryRate = 0.005
  /// The query mix: indices into ``QueryTemplate/all``, drawn uniformly (a repeated name weighs more).
  public var queries = [0, 3, 6, 10]
  /// Date partitions the fact rows are spread over evenly (months by default).
  public var partitions = 84
  /// Compression ratio of the columnar encodings (warehouse, parquet).
  public var compression = 3.0
  /// The lake's file format.
  public var format = Format.csv
  /// The lake's files are in Hive-style `dt=...` directories, so a date predicate prunes them.
  public var partitionedByPath = false
  /// Bytes of a JSON row over a CSV row (field names repeated in every record).
  public var jsonExpansion = 2.5
  /// Queries running at once at most (workload management slots); the rest wait FIFO.
  public var concurrency = 5
  /// Queries waiting at most; an arrival beyond is rejected.
  public var queueLimit = 10_000
  /// Copies of the data on the store's disks.
  public var replication = 2
  /// Core nanoseconds per decoded column byte to filter, join (probe) and aggregate.
  public var scanCost = 1.0
  /// Core nanoseconds per CSV byte to split and convert the fields.
  public var csvParseCost = 4.0
  /// Core nanoseconds per JSON byte to parse.
  public var jsonParseCost = 5.0
  /// Core nanoseconds per decoded byte to decode Parquet pages (on top of scanCost).
  public var parquetDecodeCost = 0.5

  public init() {}

  /// The most fact rows (1e12 = SF 166,667; SSB's published runs go to SF 30,000).
  static let maxFactRows = 1e12

  /// Reads the `analytics:` mapping (`reader` is that mapping).
  static func decode(_ reader: inout ConfigReader, baseDirectory: String?) throws(ConfigError) -> AnalyticsParameters {
    var p = AnalyticsParameters()
    p.store = Store(
      rawValue: try reader.choice(
        "store", Store.allCases.map(\.rawValue), default: "warehouse",
        help: "warehouse: a columnar MPP warehouse on its own nodes (Redshift-like: column pruning, compression,"
          + " zone maps on the date); lake: files in HDFS on the DataNodes, read schema-on-read (Hive/Spark SQL)"))!
    p.factRows = try reader.double(
      "fact_rows", default: 600_000_000, range: 0...maxFactRows,
      help: "SSB lineorder rows at the start (SF x 6,000,000; default SF 100); the dimensions are sized from it")
    p.rowBytes = try reader.quantity(
      "row_bytes", .size, default: 104, range: 1...1_048_576,
      help: "bytes of a fact row as text (CSV, as extracted and in a CSV lake; SSB lineorder is ~104 B)")
    p.queryRate = try reader.quantity(
      "query_rate", .rate, default: 0.005, range: 0...100,
      help: "analytical queries per second, Poisson (0.005/s = 18/h, a few dashboards refreshed hourly; a CSV"
        + " lake's ~100 s scans keep its disks about half busy at it); 0: none")
    if p.queryRate > 0, p.queryRate < 1e-6 {
      throw reader.error("query_rate", "a rate below 1e-6/s is no query in a run", hint: "give 0 for none")
    }
    let names = QueryTemplate.all.map(\.name)
    let list = try reader.list(
      "queries",
      help: "the query mix, drawn uniformly (repeat a name to weigh it): SSB q1_1 ... q4_3, or 'all'; default"
        + " [q1_1, q2_1, q3_1, q4_1], one per flight")
    if !list.isEmpty {
      guard list.count <= 1000 else { throw reader.error("queries", "\(list.count) entries is more than 1000") }
      p.queries = []
      for item in list {
        guard let text = item.scalarText else {
          throw ConfigError(
            location: item.location, keyPath: reader.keyPath("queries"),
            message: "expected a query name, found \(item.kindDescription)")
        }
        if text == "all" {
          p.queries += QueryTemplate.all.indices
        } else if let k = QueryTemplate.index(named: text) {
          p.queries.append(k)
        } else {
          throw ConfigError(
            location: item.location, keyPath: reader.keyPath("queries"), message: "'\(text)' is not an SSB query",
            hint: "expected one of: " + names.joined(separator: ", ") + ", all")
        }
      }
    }
    p.partitions = try reader.int(
      "partitions", default: 84, range: 1...100_000,
      help: "date partitions of lo_orderdate the fact rows are spread over evenly (84: the months of SSB's 7 years)")
    p.compression = try reader.double(
      "compression", default: 3, range: 1...100,
      help: "compression ratio of the columnar encodings, warehouse and parquet (~3 is typical of Redshift"
        + " column encodings and Parquet with Snappy on such data)")
    p.format = Format(
      rawValue: try reader.choice(
        "format", Format.allCases.map(\.rawValue), default: "csv",
        help: "lake: the files' format; csv and json are rows (every query reads whole rows and parses them),"
          + " parquet is columnar (only the columns read, compressed)"))!
    p.partitionedByPath = try reader.bool(
      "partitioned_by_path", default: false,
      help: "lake: files in Hive-style dt=... directories, so a date predicate reads only its partitions;"
        + " false: every query reads every file")
    p.jsonExpansion = try reader.double(
      "json_expansion", default: 2.5, range: 1...100,
      help: "lake, json: bytes of a JSON record over the CSV row (the 17 field names repeated in every record)")
    p.concurrency = try reader.int(
      "concurrency", default: 5, range: 1...1000,
      help: "queries running at once (Redshift WLM's default queue: 5 slots); the rest wait FIFO")
    p.queueLimit = try reader.int(
      "queue_limit", default: 10_000, range: 0...1_000_000,
      help: "queries waiting at most; an arrival beyond is rejected (a bound, so memory stays flat)")
    p.replication = try reader.int(
      "replication", default: p.store == .warehouse ? 2 : 3, range: 1...10,
      help: "copies of the data on the store's disks (stored_bytes): warehouse 2 (Redshift mirrors each block on"
        + " another node), lake 3 (HDFS dfs.replication)")
    p.scanCost = try reader.double(
      "scan_cost", default: 1, range: 0...1e6,
      help: "core nanoseconds per decoded column byte to filter, probe the joins and aggregate (~1 GB/s a core,"
        + " the order of vectorised columnar engines; a calibrated constant)")
    p.csvParseCost = try reader.double(
      "csv_parse_cost", default: 4, range: 0...1e6,
      help: "lake, csv: core nanoseconds per byte to split and convert fields (~250 MB/s a core, the order of"
        + " JVM CSV readers; a calibrated constant)")
    p.jsonParseCost = try reader.double(
      "json_parse_cost", default: 5, range: 0...1e6,
      help: "lake, json: core nanoseconds per byte to parse (~200 MB/s a core, the order of Jackson-class"
        + " parsers; a calibrated constant)")
    p.parquetDecodeCost = try reader.double(
      "parquet_decode_cost", default: 0.5, range: 0...1e6,
      help: "lake, parquet: core nanoseconds per decoded byte to decompress and decode pages (on top of scan_cost)")
    let rawBytes = p.factRows * p.rowBytes * (p.format == .json ? p.jsonExpansion : 1)
    guard rawBytes <= Quantity.maximumSize else {
      throw reader.error(
        "fact_rows",
        "\(Quantity.shortest(p.factRows)) rows of \(Quantity.shortest(p.rowBytes)) B is more than 2^60 B of data",
        hint: "lower fact_rows or row_bytes")
    }
    return p
  }

  static let metrics: [MetricInfo] = [
    MetricInfo(
      ["analytics.query_latency_mean", "analytics.query_latency_p50", "analytics.query_latency_p99"], .duration,
      "analytical queries that arrived after the warm-up and finished: arrival to result (queue wait included)"),
    MetricInfo(
      ["analytics.q*_*_latency_mean"], .duration,
      "mean latency of each SSB query of the mix (q1_1 ... q4_3), as query_latency_mean"),
    MetricInfo(
      ["analytics.query_wait_mean"], .duration, "mean wait for a workload-management slot, finished queries"),
    MetricInfo(
      ["analytics.queries", "analytics.queries_failed", "analytics.queries_rejected", "analytics.queries_in_flight"],
      .count, unit: "queries",
      "after the warm-up: queries finished; failed (a host, disk or link of the store down); rejected (queue_limit"
        + " full); running or waiting at the end (any arrival)"),
    MetricInfo(
      ["analytics.scanned_bytes"], .bytes,
      "bytes read from disk per finished query, mean (columns and partitions pruned, compressed where columnar)"),
    MetricInfo(
      ["analytics.stored_bytes"], .bytes, "the fact table's bytes on the store's disks at the end, every replica"),
    MetricInfo(["analytics.fact_rows"], .count, unit: "rows", "fact rows queryable at the end (start and loads)"),
  ]
}

/// The query engine of the store the ETL loads into.
///
/// A query runs in three phases: the dimensions it joins, filtered, are broadcast from the first
/// host to the others; every host scans its share of the rows the query touches (disk reads
/// on each of its disks and the CPU work split over its cores, all at once: a host is done when
/// all are); the partial aggregates are gathered to the first host. At most `concurrency`
/// queries run at once, the rest wait FIFO.
final class AnalyticsEngine: EventHandler, ActivityObserver {
  let p: AnalyticsParameters
  /// The store's hosts: the warehouse's nodes, or the lake's DataNodes.
  let hosts: [HostID]
  unowned let platform: Platform
  unowned let simulator: Simulator
  var me = EntityID(0)
  /// Fact rows queryable now (the start's and every load's).
  var rows: Double
  /// Scale factor of the start (sizes the dimensions, which loads do not grow).
  let scaleFactor: Double
  let warmup: SimTime
  let arrivals: RandomStream
  let mix: RandomStream

  /// A query holding a workload-management slot.
  struct Running {
    var template = 0
    var arrival = SimTime.zero
    var started = SimTime.zero
    /// 1: broadcast, 2: scan, 3: gather.
    var phase = 0
    /// Activities of the phase not finished yet.
    var pending = 0
    /// Bumped when the slot is freed, so a late report of an old query is ignored.
    var generation: Int64 = 0
    var activities: [ActivityID] = []
    var scanned = 0.0
    var active = false
  }

  var slots: [Running] = []
  var freeSlots: [Int32] = []
  var running = 0
  var waiting = RingBuffer<(arrival: SimTime, template: Int)>()

  // Statistics of queries that arrived after the warm-up.
  var latency = LatencyHistogram()
  var wait = RunningStatistics()
  var scanned = RunningStatistics()
  var perTemplate: [RunningStatistics]
  var failed = 0
  var rejected = 0

  enum Kind: Int32 { case arrival = 0 }

  init(parameters: AnalyticsParameters, hosts: [HostID], platform: Platform, simulator: Simulator, context: RunContext)
  {
    p = parameters
    self.hosts = hosts
    self.platform = platform
    self.simulator = simulator
    rows = parameters.factRows
    scaleFactor = parameters.factRows / SSB.rowsPerScaleFactor
    warmup = context.warmup
    arrivals = context.streams.stream("etl.queries")
    mix = context.streams.stream("etl.query_mix")
    perTemplate = Array(repeating: RunningStatistics(), count: QueryTemplate.all.count)
    me = simulator.register(self)
    if p.queryRate > 0, !hosts.isEmpty, !p.queries.isEmpty { scheduleArrival() }
  }

  /// `rows` more fact rows are queryable from now (a load committed, files landed in the lake).
  /// They go to the newest date partition (a load brings the latest orders), so queries whose
  /// predicate keeps the newest month scan them and the others do not.
  func loaded(rows more: Double) {
    guard more.isFinite, more > 0 else { return }
    rows += more
  }

  // MARK: Bytes and work

  /// Bytes a fact row takes on disk as stored (one copy).
  var storedRowBytes: Double {
    switch (p.store, p.format) {
    case (.warehouse, _), (.lake, .parquet): SSB.encodedRowBytes / p.compression
    case (.lake, .csv): p.rowBytes
    case (.lake, .json): p.rowBytes * p.jsonExpansion
    }
  }

  /// Bytes the store holds on its hosts (all replicas).
  var storedBytes: Double { rows * storedRowBytes * Double(p.replication) }

  /// Whether a date predicate prunes partitions: always in the warehouse (date-sorted blocks with
  /// zone maps), in the lake only with Hive-style partition directories.
  var prunes: Bool { p.store == .warehouse || p.partitionedByPath }

  /// Fact rows query `t` reads: the partitions its date predicate keeps (all without pruning),
  /// and the loaded rows if it keeps the newest partition.
  func touchedRows(_ t: QueryTemplate) -> Double {
    guard prunes else { return rows }
    // Partition k holds months [k x 84 / P, (k + 1) x 84 / P): the ones the months overlap.
    let first = t.months.lowerBound * p.partitions / SSB.months
    let end = (t.months.upperBound * p.partitions + SSB.months - 1) / SSB.months
    let kept = Double(end - first)
    let newest = end == p.partitions
    return p.factRows / Double(p.partitions) * kept + (newest ? rows - p.factRows : 0)
  }

  /// Bytes read from disk per fact row touched: the columns read, compressed, in a columnar store;
  /// whole rows in a row format.
  func scanRowBytes(_ t: QueryTemplate) -> Double {
    switch (p.store, p.format) {
    case (.warehouse, _), (.lake, .parquet): t.columnBytes / p.compression
    case (.lake, .csv): p.rowBytes
    case (.lake, .json): p.rowBytes * p.jsonExpansion
    }
  }

  /// Core-seconds (work units at core speed 1) per fact row touched: the scan of the decoded
  /// columns, and in a row format the parse of every byte of the row first.
  func workPerRow(_ t: QueryTemplate) -> Double {
    let scan = t.columnBytes * p.scanCost
    let extra: Double =
      switch (p.store, p.format) {
      case (.warehouse, _): 0
      case (.lake, .parquet): t.columnBytes * p.parquetDecodeCost
      case (.lake, .csv): p.rowBytes * p.csvParseCost
      case (.lake, .json): p.rowBytes * p.jsonExpansion * p.jsonParseCost
      }
    return (scan + extra) * 1e-9
  }

  /// Bytes sent to every other host: the joined dimensions' rows the predicates keep.
  func broadcastBytes(_ t: QueryTemplate) -> Double {
    t.dimensions.reduce(0) { sum, d in
      sum + d.0.rows(scaleFactor: scaleFactor) * d.1 * d.0.broadcastRowBytes
    }
  }

  /// Bytes scanned by one query of `t` now, all hosts together.
  func scannedBytes(_ t: QueryTemplate) -> Double { touchedRows(t) * scanRowBytes(t) }

  // MARK: Arrivals and workload management

  func scheduleArrival() {
    let gap = arrivals.exponential(mean: 1 / p.queryRate)
    simulator.schedule(after: SimTime(seconds: gap), to: me, kind: Kind.arrival.rawValue)
  }

  func handle(_ event: Event, in simulator: Simulator) {
    guard event.kind == Kind.arrival.rawValue else { return }
    scheduleArrival()
    let template = p.queries.count == 1 ? p.queries[0] : p.queries[mix.uniformInt(p.queries.count)]
    submit(template)
  }

  /// A query of template `template` (an index into ``QueryTemplate/all``) arrives now.
  func submit(_ template: Int) {
    let now = simulator.now
    guard !hosts.isEmpty else { return }
    if running < p.concurrency {
      start(template, arrival: now)
    } else if waiting.count < p.queueLimit {
      waiting.append((now, template))
    } else if now >= warmup {
      rejected += 1
    }
  }

  func start(_ template: Int, arrival: SimTime) {
    // A freed slot keeps its generation and its array's capacity.
    let slot: Int32
    if let free = freeSlots.popLast() {
      slot = free
    } else {
      slots.append(Running())
      slot = Int32(slots.count - 1)
    }
    slots[Int(slot)].template = template
    slots[Int(slot)].arrival = arrival
    slots[Int(slot)].started = simulator.now
    slots[Int(slot)].active = true
    slots[Int(slot)].scanned = 0
    running += 1
    broadcast(slot)
  }

  func tag(_ slot: Int32) -> Int64 { slots[Int(slot)].generation << 16 | Int64(slot) }

  /// Phase 1: the filtered dimensions from the first host to every other.
  func broadcast(_ slot: Int32) {
    let t = QueryTemplate.all[slots[Int(slot)].template]
    let bytes = broadcastBytes(t)
    guard hosts.count > 1, bytes > 0 else { return scan(slot) }
    slots[Int(slot)].phase = 1
    slots[Int(slot)].pending = hosts.count - 1
    slots[Int(slot)].activities.removeAll(keepingCapacity: true)
    for host in hosts.dropFirst() {
      let id = platform.transfer(bytes: bytes, from: hosts[0], to: host, observer: self, tag: tag(slot))
      slots[Int(slot)].activities.append(id)
    }
  }

  /// Phase 2: every host reads its share of the touched bytes from its disks and processes it on
  /// its cores, all at once.
  func scan(_ slot: Int32) {
    let t = QueryTemplate.all[slots[Int(slot)].template]
    let share = touchedRows(t) / Double(hosts.count)
    let bytes = share * scanRowBytes(t)
    let work = share * workPerRow(t)
    slots[Int(slot)].phase = 2
    slots[Int(slot)].scanned = bytes * Double(hosts.count)
    slots[Int(slot)].activities.removeAll(keepingCapacity: true)
    var pending = 0
    for host in hosts {
      // The host's share is striped over its working disks (a failed disk's blocks are read
      // from the copies on the others); with none left the read fails, and so the query.
      var disks = 0
      for d in 0..<platform.diskCount(of: host) where !platform.isDiskFailed(host, disk: d) { disks += 1 }
      var k = 0
      for d in 0..<platform.diskCount(of: host) where disks == 0 ? d == 0 : !platform.isDiskFailed(host, disk: d) {
        let id = platform.diskIO(
          bytes: bytes / Double(max(disks, 1)), write: false, host: host, disk: d, observer: self, tag: tag(slot))
        slots[Int(slot)].activities.append(id)
        k += 1
      }
      disks = k
      let computing = platform.computeOnAllCores(work: work, host: host, observer: self, tag: tag(slot))
      slots[Int(slot)].activities.append(contentsOf: computing)
      pending += disks + computing.count
    }
    slots[Int(slot)].pending = pending
  }

  /// Phase 3: the partial aggregates to the first host.
  func gather(_ slot: Int32) {
    guard hosts.count > 1 else { return finish(slot) }
    let t = QueryTemplate.all[slots[Int(slot)].template]
    slots[Int(slot)].phase = 3
    slots[Int(slot)].pending = 1
    slots[Int(slot)].activities.removeAll(keepingCapacity: true)
    let id = platform.gather(
      bytes: t.groups * QueryTemplate.resultRowBytes * Double(hosts.count - 1), to: hosts[0], observer: self,
      tag: tag(slot))
    slots[Int(slot)].activities.append(id)
  }

  func finish(_ slot: Int32) {
    let q = slots[Int(slot)]
    if q.arrival >= warmup {
      let now = simulator.now
      latency.record(now - q.arrival)
      wait.add((q.started - q.arrival).seconds)
      scanned.add(q.scanned)
      perTemplate[q.template].add((now - q.arrival).seconds)
    }
    release(slot)
  }

  /// Frees the slot and starts the first waiting query.
  func release(_ slot: Int32) {
    slots[Int(slot)].active = false
    slots[Int(slot)].generation = (slots[Int(slot)].generation + 1) & 0xFF_FFFF
    freeSlots.append(slot)
    running -= 1
    if let next = waiting.popFirst() { start(next.template, arrival: next.arrival) }
  }

  /// The slot a report is for, if it is still that query's.
  func slot(of tag: Int64) -> Int32? {
    let slot = Int32(tag & 0xFFFF)
    guard Int(slot) < slots.count, slots[Int(slot)].active, slots[Int(slot)].generation == tag >> 16 else {
      return nil
    }
    return slot
  }

  func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    guard let slot = slot(of: tag) else { return }
    slots[Int(slot)].pending -= 1
    guard slots[Int(slot)].pending == 0 else { return }
    switch slots[Int(slot)].phase {
    case 1: scan(slot)
    case 2: gather(slot)
    default: finish(slot)
    }
  }

  /// A host, disk or link of the store failed under the query: it fails (its other activities are
  /// cancelled) and its slot goes to the next.
  func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    guard let slot = slot(of: tag) else { return }
    for id in slots[Int(slot)].activities { platform.cancel(id) }
    if slots[Int(slot)].arrival >= warmup { failed += 1 }
    release(slot)
  }

  func metrics(into m: inout Metrics) {
    m.set("analytics.query_latency_mean", latency.count > 0 ? latency.mean : .nan)
    m.set("analytics.query_latency_p50", latency.percentile(50))
    m.set("analytics.query_latency_p99", latency.percentile(99))
    m.set("analytics.query_wait_mean", wait.count > 0 ? wait.mean : .nan)
    m.set("analytics.queries", Double(latency.count))
    m.set("analytics.queries_failed", Double(failed))
    m.set("analytics.queries_rejected", Double(rejected))
    m.set("analytics.queries_in_flight", Double(running + waiting.count))
    m.set("analytics.scanned_bytes", scanned.count > 0 ? scanned.mean : .nan)
    m.set("analytics.stored_bytes", storedBytes)
    m.set("analytics.fact_rows", rows)
    var seen = Set<Int>()
    for k in p.queries where seen.insert(k).inserted {
      let s = perTemplate[k]
      m.set("analytics.\(QueryTemplate.all[k].name)_latency_mean", s.count > 0 ? s.mean : .nan)
    }
  }
}
