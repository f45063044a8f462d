import Foundation
import SimKernel
import SimModel
import SimPlatform
import Testing

@testable import SimETL

/// An engine on `hosts` hosts of one rack (PlatformSpec defaults otherwise: 8 cores at speed 1,
/// disks of 200 MB/s read and 5 ms latency, 10 Gbps = 1.25e9 B/s host links of 25 us), with no
/// Poisson arrivals unless the parameters ask.
final class AnalyticsBench {
  let simulator = Simulator()
  let platform: Platform
  let engine: AnalyticsEngine

  init(_ p: AnalyticsParameters, hosts: Int, disks: Int = 1, warmup: SimTime = .zero) {
    var spec = PlatformSpec()
    spec.racks = 1
    spec.hostsPerRack = hosts
    spec.disks = disks
    platform = Platform(spec: spec, simulator: simulator)
    engine = AnalyticsEngine(
      parameters: p, hosts: (0..<hosts).map { HostID(Int32($0)) }, platform: platform, simulator: simulator,
      context: RunContext(duration: .seconds(86_400), warmup: warmup, streams: RandomStreams(experimentSeed: 7)))
  }

  /// Submits `count` queries of `name` now and runs until everything has ended.
  func run(_ name: String, count: Int = 1) -> Metrics {
    let k = QueryTemplate.index(named: name)!
    for _ in 0..<count { engine.submit(k) }
    _ = simulator.run()
    var m = Metrics()
    engine.metrics(into: &m)
    return m
  }
}

func analytics(_ store: AnalyticsParameters.Store, format: AnalyticsParameters.Format = .csv) -> AnalyticsParameters {
  var p = AnalyticsParameters()
  p.store = store
  p.format = format
  p.queryRate = 0
  p.replication = store == .warehouse ? 2 : 3
  return p
}

func decodeAnalytics(_ entries: [(String, String)]) throws -> AnalyticsParameters {
  var reader = try ConfigReader(.mapping(entries.map { ($0.0, ConfigNode.scalar($0.1)) }), path: "analytics")
  let p = try AnalyticsParameters.decode(&reader, baseDirectory: nil)
  try reader.finish()
  return p
}

@Suite struct AnalyticsTests {
  // Q1.1 (d_year = 1993) at the defaults: SF 100 = 600M lineorder rows over 84 monthly
  // partitions; 1993 is months 12..<24, 12 partitions, 600M x 12/84 = 85,714,285.7 rows. It reads
  // lo_orderdate (4 B), lo_extendedprice (8), lo_discount (1), lo_quantity (1): 14 B a row
  // encoded, 14/3 B compressed. It broadcasts the date rows of 1993: 2,556 / 7 x 16 B = 5,842.29 B.

  /// One Q1.1 alone on an idle warehouse of 2 nodes. Broadcast: 5,842.29 B / 1.25e9 B/s =
  /// 4.674 us + 2 x 25 us. Scan, per node: 42,857,142.9 rows x 14/3 B = 200e6 B on one disk:
  /// 1.0 s + 5 ms; CPU 42,857,142.9 x 14 B x 1 ns = 0.6 core-s over 8 cores = 0.075 s; the disk
  /// is the longer, 1.005 s. Gather: 32 B / 1.25e9 = 25.6 ns + 50 us. Total 1.0051047 s.
  @Test func oneQueryOnAnIdleWarehouseIsItsDiskTimePlusTheNetwork() {
    let m = AnalyticsBench(analytics(.warehouse), hosts: 2).run("q1_1")
    let broadcast = 2556.0 / 7 * 16 / 1.25e9 + 50e-6
    let scan = max(200e6 / 200e6 + 0.005, 42_857_142.857 * 14e-9 / 8)
    let gather = 32 / 1.25e9 + 50e-6
    #expect(abs(broadcast - 54.674e-6) < 1e-9)
    #expect(abs(m["analytics.query_latency_mean"]! - (broadcast + scan + gather)) < 1e-8)
    #expect(abs(m["analytics.query_latency_mean"]! - 1.0051047) < 1e-7)
    #expect(m["analytics.query_wait_mean"] == 0)
    #expect(m["analytics.queries"] == 1)
    #expect(abs(m["analytics.q1_1_latency_mean"]! - 1.0051047) < 1e-7)
  }

  /// One Q1.1 on a CSV lake of 3 DataNodes with 16 disks each, unpartitioned: every row read,
  /// 200M per node x 104 B = 20.8e9 B over 16 disks, 1.3e9 B each: 6.5 s + 5 ms; CPU 200M x
  /// (104 B x 4 ns parse + 14 B x 1 ns scan) = 86 core-s over 8 cores = 10.75 s: the CPU is the
  /// longer. Broadcast: 2 x 5,842.29 B share the first host's link, 9.348 us + 50 us; gather
  /// 64 B, 51.2 ns + 50 us. Total 10.7501094 s.
  @Test func aCSVLakeWithManyDisksIsCPUBound() {
    let m = AnalyticsBench(analytics(.lake), hosts: 3, disks: 16).run("q1_1")
    let broadcast = 2 * 2556.0 / 7 * 16 / 1.25e9 + 50e-6
    let cpu = 200e6 * (104 * 4e-9 + 14 * 1e-9) / 8
    let disk = 1.3e9 / 200e6 + 0.005
    #expect(abs(cpu - 10.75) < 1e-9 && disk < cpu)
    let expected = broadcast + cpu + 64 / 1.25e9 + 50e-6
    #expect(abs(m["analytics.query_latency_mean"]! - expected) < 1e-7)
    #expect(abs(m["analytics.query_latency_mean"]! - 10.7501094) < 1e-6)
  }

  /// Bytes Q1.1 scans: the warehouse prunes to 12 of 84 partitions, 85,714,285.7 rows x 14/3 B =
  /// 400e6 B; a CSV lake with dt=... directories the same rows x 104 B = 8,914,285,714 B; without
  /// them every row, 600M x 104 B = 62.4e9 B. With 1 partition nothing is pruned (600M x 14/3 =
  /// 2.8e9 B); with 5 (16.8 months each), 1993 overlaps partitions 0 and 1: 2/5 x 600M x 14/3 =
  /// 1.12e9 B.
  @Test func q11ScansItsPartitionsOnlyWhenTheStorePrunes() {
    let warehouse = AnalyticsBench(analytics(.warehouse), hosts: 2).run("q1_1")
    #expect(abs(warehouse["analytics.scanned_bytes"]! - 400e6) < 1)
    var partitioned = analytics(.lake)
    partitioned.partitionedByPath = true
    let pruned = AnalyticsBench(partitioned, hosts: 3).run("q1_1")
    #expect(abs(pruned["analytics.scanned_bytes"]! - 600e6 * 12 / 84 * 104) < 1)
    let full = AnalyticsBench(analytics(.lake), hosts: 3).run("q1_1")
    #expect(abs(full["analytics.scanned_bytes"]! - 62.4e9) < 1)
    for (partitions, bytes) in [(1, 2.8e9), (5, 1.12e9), (7, 400e6)] {
      var p = analytics(.warehouse)
      p.partitions = partitions
      let m = AnalyticsBench(p, hosts: 2).run("q1_1")
      #expect(abs(m["analytics.scanned_bytes"]! - bytes) < 1, "partitions: \(partitions)")
    }
  }

  /// With the same pruning, a CSV lake reads 104 B a row where the warehouse reads 14/3 B:
  /// 104 / (14/3) = 22.29 times the bytes for Q1.1 (and 7 x that, 156, unpartitioned); JSON is
  /// 2.5 x CSV (260 B a row); Parquet prunes columns and compresses as the warehouse does.
  @Test func theLakeScansMoreByTheRatioOfRowToColumnBytes() {
    let engine = AnalyticsBench(analytics(.warehouse), hosts: 2).engine
    var csv = analytics(.lake)
    csv.partitionedByPath = true
    var json = csv
    json.format = .json
    var parquet = csv
    parquet.format = .parquet
    let q11 = QueryTemplate.all[QueryTemplate.index(named: "q1_1")!]
    let w = engine.scannedBytes(q11)
    let c = AnalyticsBench(csv, hosts: 3).engine.scannedBytes(q11)
    #expect(abs(c / w - 104 / (14.0 / 3)) < 1e-9)
    #expect(abs(c / w - 22.2857142857) < 1e-6)
    #expect(abs(AnalyticsBench(json, hosts: 3).engine.scannedBytes(q11) / c - 2.5) < 1e-12)
    #expect(abs(AnalyticsBench(parquet, hosts: 3).engine.scannedBytes(q11) - w) < 1e-3)
    let unpartitioned = AnalyticsBench(analytics(.lake), hosts: 3).engine.scannedBytes(q11)
    #expect(abs(unpartitioned / w - 156) < 1e-9)
    // Q4.1 reads 6 columns (28 B) of every partition: 600M x 28/3 = 5.6e9 B in the warehouse.
    #expect(abs(engine.scannedBytes(QueryTemplate.all[10]) - 5.6e9) < 1)
  }

  /// Two Q1.1 at once on 2 warehouse nodes share each disk: 100 MB/s each, 2.0 s + 5 ms, about
  /// twice one alone (1.005 s). Broadcasts 2 x 5,842.29 B on one link: 9.348 us + 50 us; gathers
  /// 2 x 32 B: 51.2 ns + 50 us. Latency 2.0051098 s each.
  @Test func twoQueriesAtOnceTakeTwiceAsLong() {
    var p = analytics(.warehouse)
    p.concurrency = 2
    let m = AnalyticsBench(p, hosts: 2).run("q1_1", count: 2)
    let expected = 2 * 2556.0 / 7 * 16 / 1.25e9 + 50e-6 + 2.005 + 64 / 1.25e9 + 50e-6
    #expect(m["analytics.queries"] == 2)
    #expect(abs(m["analytics.query_latency_mean"]! - expected) < 1e-7)
    #expect(abs(m["analytics.query_latency_mean"]! / 1.0051047 - 1.995) < 0.001)
    #expect(m["analytics.query_wait_mean"] == 0)
  }

  /// Six Q1.1 at once with 5 WLM slots: five share the disks, 200e6 B per node at 40 MB/s =
  /// 5.0 s + 5 ms, broadcasts 5 x 5,842.29 B (23.369 us + 50 us), gathers 5 x 32 B (128 ns +
  /// 50 us): they end at 5.0051235 s. The sixth waits that long, then runs alone (1.0051047 s):
  /// 6.0102282 s. Mean wait 5.0051235 / 6; mean latency (5 x 5.0051235 + 6.0102282) / 6.
  @Test func theQueryBeyondTheSlotsWaits() {
    let bench = AnalyticsBench(analytics(.warehouse), hosts: 2)
    let m = bench.run("q1_1", count: 6)
    let five = 5 * 2556.0 / 7 * 16 / 1.25e9 + 50e-6 + 5.005 + 5 * 32 / 1.25e9 + 50e-6
    #expect(abs(five - 5.0051235) < 1e-7)
    let sixth = five + 1.0051047
    #expect(m["analytics.queries"] == 6)
    #expect(abs(m["analytics.query_wait_mean"]! - five / 6) < 1e-7)
    #expect(abs(m["analytics.query_latency_mean"]! - (5 * five + sixth) / 6) < 1e-6)
    // Slots are reused: never more than the 5.
    #expect(bench.engine.slots.count == 5)
    #expect(m["analytics.queries_in_flight"] == 0)
  }

  /// Loads go to the newest month: Q4.1 (every month) scans 60M x 28/3 = 560e6 B more after
  /// 60M rows load, Q1.1 (1993) nothing more. Stored bytes: 600M x 70/3 B x 2 copies = 28e9 B in
  /// the warehouse, 660M x 70/3 x 2 = 30.8e9 B after; 600M x 104 B x 3 = 187.2e9 B on a CSV lake.
  @Test func loadsGrowTheNewestPartitionAndTheStore() {
    let engine = AnalyticsBench(analytics(.warehouse), hosts: 2).engine
    let q11 = QueryTemplate.all[0]
    let q41 = QueryTemplate.all[10]
    #expect(q41.name == "q4_1")
    #expect(abs(engine.storedBytes - 28e9) < 1)
    let before = (engine.scannedBytes(q11), engine.scannedBytes(q41))
    engine.loaded(rows: 60e6)
    #expect(engine.scannedBytes(q11) == before.0)
    #expect(abs(engine.scannedBytes(q41) - before.1 - 560e6) < 1)
    #expect(abs(engine.storedBytes - 30.8e9) < 1)
    engine.loaded(rows: -5)
    engine.loaded(rows: .nan)
    #expect(engine.rows == 660e6)
    #expect(abs(AnalyticsBench(analytics(.lake), hosts: 3).engine.storedBytes - 187.2e9) < 1)
  }

  /// SSB's row counts and encodings as the specification and the docs give them.
  @Test func theSchemaIsSSBs() {
    #expect(SSB.Column.allCases.count == 17)
    #expect(SSB.encodedRowBytes == 70)
    #expect(SSB.Dimension.part.rows(scaleFactor: 100) == 1_400_000)  // 200,000 x floor(1 + 6.64)
    #expect(SSB.Dimension.customer.rows(scaleFactor: 100) == 3_000_000)
    #expect(SSB.Dimension.supplier.rows(scaleFactor: 100) == 200_000)
    #expect(QueryTemplate.all.count == 13)
    let bytes = Dictionary(uniqueKeysWithValues: QueryTemplate.all.map { ($0.name, $0.columnBytes) })
    #expect(bytes["q1_1"] == 14 && bytes["q2_1"] == 20 && bytes["q3_1"] == 20 && bytes["q4_1"] == 28)
  }

  /// Poisson arrivals at 1/min on the default ETL layout for 2 h: about 120 queries, each from a
  /// uniform mix, slots reused; the same seed gives the same run.
  @Test func poissonQueriesThroughTheETLModelAreDeterministic() throws {
    var p = ETLParameters(platform: PlatformSpec(), faults: [])
    p.analytics.queryRate = 1.0 / 60
    let context = RunContext(duration: .seconds(7200), warmup: .seconds(60), streams: RandomStreams(experimentSeed: 3))
    let a = try ETLModel.run(p, context: context).metrics
    let b = try ETLModel.run(p, context: context).metrics
    #expect(a == b)
    let n = a["analytics.queries"]!
    #expect(n > 80 && n < 160, "queries: \(n)")
    for name in ["q1_1", "q2_1", "q3_1", "q4_1"] { #expect(a["analytics.\(name)_latency_mean"]! > 0.5) }
    // Q1.1 alone takes 1.005 s on 2 nodes; nothing beats it.
    #expect(a["analytics.query_latency_p50"]! > 1.0)
    #expect(a["analytics.queries_failed"] == 0 && a["analytics.queries_rejected"] == 0)
  }

  /// A long run at a rate the warehouse cannot serve (Q4.1 alone takes 14 s; 1/s is far more):
  /// the queue stops at queue_limit, the rest are rejected, and memory does not grow.
  @Test func anOverloadedWarehouseRejectsBeyondItsQueue() {
    var p = analytics(.warehouse)
    p.queryRate = 1
    p.queries = [10]
    p.queueLimit = 100
    let bench = AnalyticsBench(p, hosts: 2)
    _ = bench.simulator.run(until: .seconds(3600))
    var m = Metrics()
    bench.engine.metrics(into: &m)
    #expect(bench.engine.slots.count == 5)
    #expect(bench.engine.waiting.count == 100)
    #expect(m["analytics.queries_rejected"]! > 3000)
  }

  /// Faults: with 2 disks a node and disk0 of node 1 failed, node 1 reads its 200e6 B from disk1
  /// alone (1.0 s + 5 ms) while node 0 stripes over both (0.5 s): Q1.1 takes 1.0051047 s as on
  /// one disk. With node 1 down the query fails and frees its slot; back up, the next one runs.
  @Test func aFailedDiskShiftsTheReadAndADownHostFailsTheQuery() {
    let striped = AnalyticsBench(analytics(.warehouse), hosts: 2, disks: 2)
    striped.platform.failDisk(HostID(1), disk: 0)
    let m = striped.run("q1_1")
    #expect(abs(m["analytics.query_latency_mean"]! - 1.0051047) < 1e-7)
    let bench = AnalyticsBench(analytics(.warehouse), hosts: 2)
    bench.platform.setHost(HostID(1), down: true)
    let failed = bench.run("q1_1")
    #expect(failed["analytics.queries_failed"] == 1 && failed["analytics.queries"] == 0)
    #expect(failed["analytics.queries_in_flight"] == 0)
    bench.platform.setHost(HostID(1), down: false)
    let again = bench.run("q1_1")
    #expect(again["analytics.queries"] == 1)
    #expect(abs(again["analytics.query_latency_mean"]! - 1.0051047) < 1e-7)
  }

  /// Bad values are located errors naming the key.
  @Test func badInputIsALocatedError() throws {
    for (key, value) in [
      ("fact_rows", "-5"), ("fact_rows", "1e300"), ("partitions", "1000000000"), ("compression", "0.5"),
      ("query_rate", "1e9/s"), ("query_rate", "-1/s"), ("concurrency", "0"), ("row_bytes", "104"),
      ("store", "warehous"), ("format", "orc"), ("json_expansion", "nan"), ("scan_cost", "-1"),
      ("replication", "100"), ("queue_limit", "-1"),
    ] {
      #expect(throws: ConfigError.self, "\(key): \(value)") { _ = try decodeAnalytics([(key, value)]) }
      do { _ = try decodeAnalytics([(key, value)]) } catch {
        #expect((error as? ConfigError)?.keyPath == "analytics.\(key)", "\(key): \(value)")
      }
    }
    // An unknown query in the list names the list.
    let list = ConfigNode.mapping([("queries", ConfigNode(.sequence([.scalar("q1_1"), .scalar("q9_9")])))])
    var reader = try ConfigReader(list, path: "analytics")
    #expect { _ = try AnalyticsParameters.decode(&reader, baseDirectory: nil) } throws: { error in
      (error as? ConfigError)?.keyPath == "analytics.queries"
        && (error as? ConfigError)?.message.contains("q9_9") == true
    }
    // Through the model: params.analytics.*.
    let model = AnyModel(ETLModel.self)
    #expect {
      _ = try model.decode(.mapping([("analytics", .mapping([("partitions", .scalar("-3"))]))]))
    } throws: { error in
      (error as? ConfigError)?.keyPath == "params.analytics.partitions"
    }
    // And good values read as given.
    let p = try decodeAnalytics([
      ("store", "lake"), ("format", "json"), ("query_rate", "2/min"), ("partitioned_by_path", "true"),
    ])
    #expect(p.store == .lake && p.format == .json && p.partitionedByPath && p.replication == 3)
    #expect(abs(p.queryRate - 1.0 / 30) < 1e-15)
  }
}
