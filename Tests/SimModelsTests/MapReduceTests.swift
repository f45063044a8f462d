import SimKernel
import SimPlatform
import Testing

@testable import SimMapReduce

/// 2 racks of 8 hosts (the NameNode on the first, 15 workers), 10 Gbps, a sort of 16 GiB.
func mapReduceParameters(faults: [FaultSpec] = []) -> MapReduceParameters {
  var p = MapReduceParameters(hdfs: batchInput(gib: 16, faults: faults))
  p.inputSize = 16 * 1_073_741_824
  p.reduces = 15
  return p
}

func runMapReduce(_ p: MapReduceParameters, seed: UInt64 = 1) throws -> Metrics {
  try MapReduceModel.run(p, context: RunContext(duration: .seconds(7200), streams: RandomStreams(experimentSeed: seed)))
    .metrics
}

@Suite struct MapReduceTests {
  /// No faster than reading the input with every worker's disk, nor than its CPU work on every
  /// core; and every byte a map wrote for the shuffle is fetched once.
  @Test func theJobRespectsItsBoundsAndConservesShuffleBytes() throws {
    var p = mapReduceParameters()
    p.job = "custom"
    p.costs.mapCost = 100e-9  // CPU-heavy maps: 10 MB/s per core
    let m = try runMapReduce(p)
    let job = m["mapreduce.job_seconds"]!
    let readBound = p.inputSize / (15 * p.hdfs.platform.diskRead)
    let cpuBound = p.inputSize * (p.costs.mapCost + p.costs.reduceCost) / Double(15 * p.hdfs.platform.cores)
    #expect(job >= readBound && job >= cpuBound, "job \(job) s; bounds: read \(readBound) s, CPU \(cpuBound) s")
    // Equal up to rounding (a reduce's share of a map output is a fraction of it).
    func same(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * b }
    #expect(same(m["mapreduce.bytes_shuffle_written"]!, m["mapreduce.bytes_shuffle_read"]!))
    #expect(m["mapreduce.bytes_read_hdfs"] == p.inputSize)
    #expect(same(m["mapreduce.bytes_written_hdfs"]!, p.inputSize))
  }

  /// A replica of every block on every worker and slots to spare: every map runs node-local.
  @Test func withReplicasEverywhereEveryMapIsNodeLocal() throws {
    var p = mapReduceParameters()
    p.hdfs.replication = 15
    let m = try runMapReduce(p)
    #expect(m["mapreduce.maps_node_local"] == 1)
  }

  /// Three slow hosts (5x) hold the job back; backup maps win some of it back (reduces on slow
  /// hosts have no backups).
  @Test func stragglersLengthenAJobAndBackupTasksShortenItAgain() throws {
    var p = mapReduceParameters()
    p.speculative = false
    let calm = try runMapReduce(p)["mapreduce.job_seconds"]!
    p.slowHosts = 0.2
    let slow = try runMapReduce(p)["mapreduce.job_seconds"]!
    p.speculative = true
    let m = try runMapReduce(p)
    let backed = m["mapreduce.job_seconds"]!
    #expect(slow > 1.3 * calm, "stragglers: \(slow) s against \(calm) s")
    #expect(backed < 0.95 * slow, "with backup tasks: \(backed) s against \(slow) s")
    #expect(m["mapreduce.backups_won"]! > 0)
  }

  /// A worker dies mid-job for good: its running tasks and its unfetched map outputs are run
  /// again elsewhere and the job still finishes, later.
  @Test func aHostLostMidJobIsRecoveredFrom() throws {
    // Without backup tasks, whose own timing would blur the comparison.
    var p = mapReduceParameters()
    p.speculative = false
    let calm = try runMapReduce(p)
    p.hdfs.faults = [.hostCrash(at: .seconds(40), host: 4, duration: nil)]
    let m = try runMapReduce(p)
    #expect(m["mapreduce.job_failed"] == 0)
    #expect(m["mapreduce.tasks_rerun_failed"]! + m["mapreduce.tasks_rerun_lost_output"]! > 0)
    #expect(m["mapreduce.job_seconds"]! > calm["mapreduce.job_seconds"]!)
    let written = m["mapreduce.bytes_written_hdfs"]!
    #expect(abs(written - calm["mapreduce.bytes_written_hdfs"]!) <= 1e-9 * written, "every byte output once")
  }

  /// Paired runs: a worker's disk degraded to 30 MB/s, then 5 MB/s, from the start (a gray
  /// failure: it keeps its data and keeps serving) never shortens the job, with or without
  /// backup tasks, and the slowest lengthens it; no byte is lost or made.
  @Test(arguments: [false, true])
  func aDegradedDiskNeverShortensAJob(speculative: Bool) throws {
    var p = mapReduceParameters()
    p.speculative = speculative
    var times: [Double] = []
    var written: [Double] = []
    for rate in [nil, 30e6, 5e6] as [Double?] {
      p.hdfs.faults =
        rate.map { [.diskDegraded(at: .zero, host: 4, disk: 0, read: $0, write: $0, duration: nil)] } ?? []
      let m = try runMapReduce(p)
      times.append(m["mapreduce.job_seconds"]!)
      written.append(m["mapreduce.bytes_written_hdfs"]!)
    }
    #expect(times[1] >= times[0] && times[2] >= times[1], "calm, 30 MB/s, 5 MB/s: \(times) s")
    #expect(times[2] > 1.05 * times[0], "calm, 30 MB/s, 5 MB/s: \(times) s")
    #expect(written.allSatisfy { abs($0 - p.inputSize) <= 1e-9 * p.inputSize }, "output bytes \(written)")
  }

  @Test func theSameSeedGivesTheSameRun() throws {
    var p = mapReduceParameters(faults: [.hostCrash(at: .seconds(40), host: 4, duration: .seconds(30))])
    p.slowHosts = 0.2
    #expect(try runMapReduce(p, seed: 3) == runMapReduce(p, seed: 3))
  }
}
