import Foundation
import SimKernel
import SimPlatform
import Testing

@testable import SimETL

/// The default layout (NameNode, 3 DataNodes, the primary, `replicas`, 2 warehouse nodes) on one
/// rack, no ETL run within `seconds` unless the test schedules one, and a static table.
func etlParameters(replicas: Int = 0, faults: [FaultSpec] = []) -> ETLParameters {
  var spec = PlatformSpec()
  spec.racks = 1
  spec.hostsPerRack = 7 + replicas
  var p = ETLParameters(platform: spec, faults: faults)
  p.replicas = replicas
  p.schedule = .periodic
  p.period = .seconds(1_000_000)
  p.window = p.period
  p.oltp.writeFraction = 0
  // A light OLTP load where the pipeline is what a test checks.
  p.oltp.rate = 10
  p.analytics.queryRate = 0
  return p
}

func runETL(_ p: ETLParameters, seconds: Int64, warmup: Int64 = 0, seed: UInt64 = 1) throws -> Metrics {
  try ETLModel.run(
    p,
    context: RunContext(
      duration: .seconds(seconds), warmup: .seconds(warmup), streams: RandomStreams(experimentSeed: seed))
  ).metrics
}

/// Erlang C: the mean response time of M/M/c at arrival rate lambda and service rate mu.
func erlangCResponse(servers c: Int, lambda: Double, mu: Double) -> Double {
  let a = lambda / mu
  let rho = a / Double(c)
  var term = 1.0
  var sum = 1.0
  for k in 1..<c {
    term *= a / Double(k)
    sum += term
  }
  let last = term * a / Double(c) / (1 - rho)
  let waitProbability = last / (sum + last)
  return waitProbability / (Double(c) * mu - lambda) + 1 / mu
}

@Suite struct ETLTests {
  /// Transactions that only compute share the primary's 8 cores, each at most one: the number in
  /// the system is M/M/8's birth-death chain, so the mean response is Erlang C's. At 3000/s and
  /// 2 ms a transaction (rho = 0.75) that is 2.357 ms (a queue wait of 0.357 ms).
  @Test func cpuBoundTransactionsAreErlangC() throws {
    var p = etlParameters()
    p.oltp.rate = 3000
    p.oltp.pages = 0
    let m = try runETL(p, seconds: 80, warmup: 5)
    let theory = erlangCResponse(servers: 8, lambda: 3000, mu: 500)
    #expect(abs(theory - 0.002357) < 1e-6)
    #expect(abs(m["oltp.latency_mean"]! - theory) / theory < 0.03)
    #expect(m["oltp.rejected"] == 0 && m["oltp.failed"] == 0)
    #expect(m["oltp.transactions"]! == m["oltp.committed"]! + m["oltp.in_flight"]!)
  }

  /// A miss on every transaction and no CPU: the disk head is M/D/1 with service S = 5 ms of
  /// positioning + 16 KiB at 200 MB/s = 5.08192 ms; at 100/s (rho = 0.508) the mean response is
  /// S (1 + rho / (2 (1 - rho))) = 7.706 ms (Pollaczek-Khinchine).
  @Test func pageMissesQueueAtTheDiskHead() throws {
    var p = etlParameters()
    p.oltp.rate = 100
    p.oltp.cpu = .constant(0)
    p.oltp.pages = 1
    p.oltp.hitRatio = 0
    let m = try runETL(p, seconds: 2000, warmup: 10)
    let s = 0.005 + 16_384 / 200e6
    let rho = 100 * s
    let theory = s * (1 + rho / (2 * (1 - rho)))
    #expect(abs(m["oltp.latency_mean"]! - theory) / theory < 0.03)
    #expect(abs(m["oltp.page_reads"]! / m["oltp.transactions"]! - 1) < 0.001)
  }

  /// Writes only, 1000/s, no CPU or misses: flushes run back to back (a flush takes S = 5 ms +
  /// its redo at 150 MB/s, and at 1000/s a commit almost always waits when one ends), so there
  /// are 1/S of them a second and a commit waits the rest of the flush in progress (S/2 on
  /// average) and then its own: 1.5 S.
  @Test func groupCommitFlushesEveryWaitingCommitAtOnce() throws {
    var p = etlParameters()
    p.oltp.rate = 1000
    p.oltp.cpu = .constant(0)
    p.oltp.pages = 0
    p.oltp.writeFraction = 1
    let seconds = 200.0
    let m = try runETL(p, seconds: Int64(seconds))
    // About 5 commits a flush, 10 rows of 104 B each.
    let s = 0.005 + 5 * 10 * 104 / 150e6
    #expect(abs(m["oltp.redo_flushes"]! / seconds - 1 / s) / (1 / s) < 0.02)
    #expect(abs(m["oltp.latency_mean"]! - 1.5 * s) / (1.5 * s) < 0.05)
  }

  /// A static table extracted in full three times (runs at 30, 60 and 90 min of a 100 min run):
  /// every run reads the whole table, stages it once and loads it; no row is new.
  @Test func aFullExtractionMovesTheWholeTableEveryRun() throws {
    var p = etlParameters()
    p.oltp.tableRows = 2_000_000
    p.period = .seconds(1800)
    p.window = p.period
    p.outputRatio = 0.5
    let m = try runETL(p, seconds: 6000)
    let table = 2_000_000 * p.analytics.rowBytes
    #expect(m["etl.runs"] == 3)
    #expect(m["etl.extracted_bytes"] == 3 * table)
    #expect(m["etl.staged_bytes"] == 3 * table)
    #expect(m["etl.loaded_bytes"] == 3 * table * 0.5)
    #expect(m["etl.loaded_rows"] == 0)
    // Staging is emptied after each load: it never held more than one run.
    #expect(m["etl.staged_max"] == table)
  }

  /// Incremental extraction reads exactly the rows inserted since the last snapshot, and each is
  /// loaded once: extracted bytes = loaded rows x row bytes, and the rows loaded are the writes'
  /// rows committed before the last run's snapshot (10 a write).
  @Test func incrementalExtractionReadsEachNewRowOnce() throws {
    var p = etlParameters()
    p.oltp.rate = 50
    p.oltp.writeFraction = 0.3
    p.extraction.method = .incremental
    p.period = .seconds(600)
    p.window = p.period
    let m = try runETL(p, seconds: 2500)
    let rows = m["etl.loaded_rows"]!
    #expect(m["etl.runs"] == 4)
    #expect(m["etl.extracted_bytes"] == rows * p.analytics.rowBytes)
    // 50/s x 0.3 x 10 rows for the 2400 s up to the last snapshot: 360k within Poisson noise.
    #expect(abs(rows - 360_000) / 360_000 < 0.02)
    #expect(rows.truncatingRemainder(dividingBy: 10) == 0)
  }

  /// A full extraction from the primary contends for its disk head and cores: the p99 of
  /// transactions during it is several times that outside it. From a replica, the primary's
  /// transactions are as fast during the extraction as outside it; the replica falls behind.
  @Test func extractionFromAReplicaSparesThePrimary() throws {
    var p = etlParameters(replicas: 1)
    p.oltp.rate = 500
    p.oltp.writeFraction = 0.3
    p.oltp.tableRows = 20_000_000
    p.period = .seconds(300)
    p.window = p.period
    let primary = try runETL(p, seconds: 700, warmup: 10)
    #expect(primary["oltp.latency_p99_extracting"]! > 3 * primary["oltp.latency_p99_quiet"]!)
    p.extraction.source = .replica
    let replica = try runETL(p, seconds: 700, warmup: 10)
    let ratio = replica["oltp.latency_p99_extracting"]! / replica["oltp.latency_p99_quiet"]!
    #expect(abs(ratio - 1) < 0.15)
    #expect(replica["replica.lag_p99"]! > 10 * primary["replica.lag_p99"]!)
    #expect(replica["replica.apply_failed"] == 0)
  }

  /// A nightly run of a 50M-row table (5.2 GB) from 00:10: it takes minutes, so a 1 h window is
  /// met and a 1 min window is missed, by the same run.
  @Test func theNightlyWindowIsMetOrMissed() throws {
    var p = etlParameters()
    p.schedule = .nightly
    p.windowStart = .seconds(600)
    p.oltp.tableRows = 50_000_000
    p.window = .seconds(3600)
    let met = try runETL(p, seconds: 3600)
    #expect(met["etl.runs"] == 1 && met["etl.window_missed"] == 0)
    #expect(met["etl.duration_max"]! > 60)
    p.window = .seconds(60)
    let missed = try runETL(p, seconds: 3600)
    #expect(missed["etl.runs"] == 1 && missed["etl.window_missed"] == 1)
    #expect(missed["etl.duration_max"] == met["etl.duration_max"])
  }

  /// A DataNode lost during the transform costs its tasks and a staged replica: the run still
  /// loads every byte, later than without the failure, never sooner.
  @Test func aDataNodeLostMidRunNeverMakesItFaster() throws {
    var p = etlParameters()
    p.oltp.tableRows = 20_000_000
    p.period = .seconds(600)
    p.window = p.period
    let clean = try runETL(p, seconds: 1150)
    let extract = clean["etl.extract_seconds_mean"]!
    p.faults = [.hostCrash(at: .seconds(600 + Int64(extract) + 5), host: 2, duration: nil)]
    p.hdfs.faults = p.faults
    let failed = try runETL(p, seconds: 1150)
    #expect(clean["etl.runs"] == 1 && failed["etl.runs"] == 1)
    #expect(failed["etl.loaded_bytes"] == clean["etl.loaded_bytes"])
    #expect(failed["etl.duration_max"]! > clean["etl.duration_max"]!)
  }

  /// The store's age is a sawtooth: it holds the snapshot of the run before, so between loads
  /// it climbs from D (a run's duration) to P + D. Over 4 periods with runs at P, 2P and 3P and
  /// the store as of 0 at the start, its integral is (P + D)^2 / 2 + 2 ((P + D)^2 - D^2) / 2 +
  /// (P^2 - D^2) / 2.
  @Test func freshnessIsTheSawtoothOfTheSchedule() throws {
    var p = etlParameters()
    p.oltp.tableRows = 5_000_000
    p.period = .seconds(1800)
    p.window = p.period
    let m = try runETL(p, seconds: 7200)
    let d = m["etl.duration_mean"]!
    let period = 1800.0
    let area = (period + d) * (period + d) / 2 + ((period + d) * (period + d) - d * d) + (period * period - d * d) / 2
    #expect(abs(m["etl.freshness_mean"]! - area / 7200) / (area / 7200) < 0.01)
    #expect(abs(m["etl.freshness_max"]! - (period + d)) < d * 0.1)
  }

  /// CDC ships the binlog every minute: the store is on average half an interval (plus a
  /// batch's few tenths of a second) behind, and reads of the primary are never marked as an
  /// extraction's.
  @Test func cdcKeepsTheStoreAnIntervalFresh() throws {
    var p = etlParameters()
    p.oltp.rate = 50
    p.oltp.writeFraction = 0.3
    p.extraction.method = .cdc
    p.extraction.cdcInterval = .seconds(60)
    let m = try runETL(p, seconds: 1800)
    #expect(m["etl.freshness_mean"]! > 30 && m["etl.freshness_mean"]! < 32)
    #expect(m["etl.freshness_max"]! < 62)
    #expect(m["etl.runs"] == 29)
    #expect(m["etl.extracted_bytes"] == m["etl.loaded_rows"]! * p.analytics.rowBytes)
  }

  /// What is billed is what the configuration runs on: 8 hosts, of which the layout takes 7; a
  /// lake needs no warehouse nodes (5 billed), ELT no staging HDFS (3 billed), at 1 an hour for
  /// the 2 h run (no warm-up).
  @Test func onlyTheHostsTheConfigurationUsesAreBilled() throws {
    var p = etlParameters()
    p.platform.hostsPerRack = 8
    var cost = CostSpec()
    cost.hostHour = 1
    p.platform.cost = cost
    p.hdfs.platform = p.platform
    let warehouse = try runETL(p, seconds: 7200)
    #expect(warehouse["cost.host_hours"] == 14)
    p.analytics.store = .lake
    let lake = try runETL(p, seconds: 7200)
    #expect(lake["cost.host_hours"] == 10)
    p.analytics.store = .warehouse
    p.extraction.staging = false
    let elt = try runETL(p, seconds: 7200)
    #expect(elt["cost.host_hours"] == 6)
    #expect(elt["cost.hosts"] == 6)
  }

  /// The staging HDFS holds its DataNodes' disks over the replication: 3 x 1 GB / 3 = 1 GB. A
  /// 2.08 GB table does not fit: the run is refused at once, nothing is read or loaded. Into a
  /// lake, a full extraction replaces the last snapshot's files, so three runs of a 208 MB table
  /// never hold more than one.
  @Test func stagingIsFiniteAndALakeSnapshotIsReplaced() throws {
    var p = etlParameters()
    p.platform.diskCapacity = 1e9
    p.hdfs.platform = p.platform
    p.oltp.tableRows = 20_000_000
    p.period = .seconds(1800)
    p.window = p.period
    let refused = try runETL(p, seconds: 2000)
    #expect(refused["etl.runs"] == 1 && refused["etl.runs_refused"] == 1 && refused["etl.runs_failed"] == 1)
    #expect(refused["etl.extracted_bytes"] == 0 && refused["etl.staged_bytes"] == 0)
    p.oltp.tableRows = 2_000_000
    p.analytics.store = .lake
    let lake = try runETL(p, seconds: 6000)
    #expect(lake["etl.runs"] == 3 && lake["etl.runs_refused"] == 0)
    #expect(lake["etl.staged_bytes"] == 3 * 2_000_000 * p.analytics.rowBytes)
    #expect(lake["etl.staged_max"] == 2_000_000 * p.analytics.rowBytes)
  }
}
