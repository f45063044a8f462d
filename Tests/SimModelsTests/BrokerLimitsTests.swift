import SimKernel
import SimPlatform
import Testing

@testable import SimBroker

/// What limits a broker cluster without failures, batching's effect on latency, keys, the page
/// cache and the producer's own limits.
@Suite struct BrokerLimitsTests {
  func expectConservation(_ m: Metrics, _ label: String) {
    let produced = m["broker.records_produced"]!
    let accounted = m["broker.records_acked"]! + m["broker.records_failed"]! + m["broker.records_in_flight"]!
    #expect(produced > 0 && produced == accounted, "\(label): produced \(produced), accounted \(accounted)")
  }

  /// Below saturation a batch waits for linger.ms (it does not fill), so p50 grows with linger;
  /// with a long linger a batch waits until full, so p50 grows with batch.size.
  @Test func latencyGrowsWithLingerAndBatchSize() throws {
    func p50(linger: SimTime, batch: Double) throws -> Double {
      var p = brokerParameters(acks: .leader)
      p.linger = linger
      p.batchSize = batch
      p.deliveryTimeout = .seconds(20)
      return try runBroker(p, seconds: 10)["broker.produce_latency_p50"]!
    }
    let short = try p50(linger: .milliseconds(5), batch: 16_384)
    let long = try p50(linger: .milliseconds(50), batch: 1_048_576)
    // 1,000 records/s: 16 records take ~16 ms, 64 take ~64 ms.
    let fills16 = try p50(linger: .milliseconds(500), batch: 16_384)
    let fills64 = try p50(linger: .milliseconds(500), batch: 65_536)
    #expect(short < 0.01 && long > 0.045, "linger 5 ms: \(short), 50 ms: \(long)")
    #expect(fills16 > 0.012 && fills16 < 0.025, "16-record batches: \(fills16)")
    #expect(fills64 > 0.055 && fills64 < 0.08, "64-record batches: \(fills64)")
  }

  /// 1 Gbps host links, replication 3 on 3 brokers: every broker's inbound link carries all the
  /// data (a third from producers, two thirds fetched from the other leaders), so throughput
  /// stops near 125 MB/s however much is offered, and the model names the network.
  @Test func theNetworkLimitsThroughputAndTheModelSaysSo() throws {
    var p = brokerParameters(acks: .all)
    p.platform.hostLink = 125e6
    p.recordRate = 100_000  // 2 x 102 MB/s offered
    p.deliveryTimeout = .seconds(60)
    p.requestTimeout = .seconds(30)
    let m = try runBroker(p, seconds: 6)
    expectConservation(m, "network-bound")
    let mb = m["broker.produce_throughput_mb"]!
    // Below the link: each producer-broker connection has one acks=all request at a time on the
    // broker (a round trip through the followers' fetches), and the inbound link is shared
    // max-min with the replication traffic; about 80% of it.
    #expect(mb > 90 && mb <= 125, "throughput \(mb) MB/s against a 125 MB/s link")
    #expect(m["broker.bottleneck"] == 1, "bottleneck \(m["broker.bottleneck"]!) (1: network)")
    #expect(m["broker.producers_blocked_mean"]! > 0.5, "producers wait on buffer.memory")
  }

  /// A 20 MB/s disk under 40 MB/s of appends: dirty pages pile up to dirty_max, then appends
  /// stall, and throughput falls to what the disk writes back.
  @Test func aSlowDiskLimitsThroughputThroughThePageCache() throws {
    var p = brokerParameters(acks: .leader)
    p.platform.diskWrite = 20e6
    p.dirtyBackground = 4 * 1_048_576
    p.dirtyMax = 16 * 1_048_576
    p.recordRate = 20_000  // 2 x 20 MB/s offered, every broker holds every partition
    p.deliveryTimeout = .seconds(60)
    let m = try runBroker(p, seconds: 20)
    expectConservation(m, "disk-bound")
    let mb = m["broker.produce_throughput_mb"]!
    #expect(mb > 15 && mb < 22, "throughput \(mb) MB/s against a 20 MB/s disk")
    #expect(m["broker.bottleneck"] == 2, "bottleneck \(m["broker.bottleneck"]!) (2: disk)")
    // Only the brokers' disks work (the producers' hosts have nothing on disk): the platform's
    // mean over all 6 hosts is the brokers' mean diluted by the 3 idle hosts, exactly.
    #expect(m["role.broker.bottleneck"] == 1, "the brokers' busiest resource is a disk")
    #expect(m["role.broker.bottleneck_utilisation"]! > 0.8)
    #expect(m["role.producer.disk"] == 0)
    #expect(abs(m["role.broker.disk"]! * 3 - m["platform.utilisation.disk"]! * 6) < 1e-9)
    #expect(m["role.broker.disk"] == m["broker.utilisation.disk"])
  }

  /// Without replication each broker writes only the partitions it leads: 2 x 20,000 records/s
  /// of 1 KiB (41 MB/s of values) over 3 brokers is 13.7 MB/s each, more than one 10 MB/s disk
  /// takes (about 30 MB/s get through) but not two: with two log directories (`log.dirs`) each
  /// broker's two partitions sit on different disks, write-backs go to both at once, and
  /// everything offered gets through.
  @Test func twoLogDirectoriesWriteBackOnTwoDisks() throws {
    func run(dirs: Int) throws -> Metrics {
      var p = brokerParameters(acks: .leader, partitions: 6, replication: 1, minISR: 1)
      p.platform.diskWrite = 10e6
      p.platform.disks = 2
      p.logDirs = dirs
      p.dirtyBackground = 4 * 1_048_576
      p.dirtyMax = 16 * 1_048_576
      p.recordRate = 20_000
      p.deliveryTimeout = .seconds(60)
      return try runBroker(p, seconds: 20)
    }
    let one = try run(dirs: 1)
    let two = try run(dirs: 2)
    let mbOne = one["broker.produce_throughput_mb"]!
    let mbTwo = two["broker.produce_throughput_mb"]!
    #expect(mbOne > 27 && mbOne < 34, "one log dir: \(mbOne) MB/s")
    #expect(one["broker.bottleneck"] == 2, "one log dir: the disk limits")
    #expect(abs(mbTwo / 40.96 - 1) < 0.03, "two log dirs: \(mbTwo) MB/s")
    #expect(two["broker.bottleneck"] != 2, "two log dirs: the disks no longer limit")
  }

  /// 100 us of producer CPU per record: a producer thread manages 10,000 records/s of the
  /// 20,000 asked, and the model names the producers' CPU.
  @Test func theProducersCPULimitsThroughput() throws {
    var p = brokerParameters(acks: .leader)
    p.recordRate = 20_000
    p.producerRecordCPU = .microseconds(100)
    let m = try runBroker(p, seconds: 5)
    let rate = m["broker.produce_throughput_records"]!
    #expect(abs(rate / 20_000 - 1) < 0.05, "\(rate) records/s from two producers capped at 10,000 each")
    #expect(m["broker.bottleneck"] == 4, "bottleneck \(m["broker.bottleneck"]!) (4: producer CPU)")
  }

  @Test func withRoomToSpareNothingLimits() throws {
    let m = try runBroker(brokerParameters(acks: .all))
    #expect(m["broker.bottleneck"] == 0)
    #expect(m["broker.bottleneck_utilisation"]! < 0.1)
    #expect(m["broker.producers_blocked_mean"] == 0)
  }

  /// One request in flight per connection and a 20 ms round trip (a slow follower fetch is the
  /// round trip here: 10 ms one-way links): a producer gets at most one request per round trip.
  @Test func maxInFlightLimitsAProducerOnASlowNetwork() throws {
    func throughput(inFlight: Int) throws -> Double {
      var p = brokerParameters(acks: .leader, partitions: 1, replication: 1, minISR: 1)
      p.platform.hostLinkLatency = .milliseconds(5)  // 20 ms round trip producer <-> broker
      p.producers = 1
      p.recordRate = 20_000
      p.linger = .zero
      p.batchSize = 1024  // one record per batch: one batch per request
      p.maxInFlight = inFlight
      p.deliveryTimeout = .seconds(60)
      return try runBroker(p, seconds: 5)["broker.produce_throughput_records"]!
    }
    let one = try throughput(inFlight: 1)
    let five = try throughput(inFlight: 5)
    // One partition: a request carries one batch, so 1 / 20 ms = 50 requests (records) a second.
    #expect(one > 40 && one < 55, "max.in.flight 1: \(one) records/s")
    #expect(five > 4.5 * one && five < 5.5 * one, "max.in.flight 5: \(five) records/s")
  }

  @Test func keysSpreadByHashAndZipfKeysSkewPartitions() throws {
    var uniform = brokerParameters(acks: .leader, partitions: 6)
    uniform.keys = .uniform
    uniform.keyCount = 10_000
    var zipf = uniform
    zipf.keys = .zipf
    zipf.keySkew = 1.2
    let even = try runBroker(uniform, seconds: 10)
    let skewed = try runBroker(zipf, seconds: 10)
    expectConservation(even, "uniform keys")
    expectConservation(skewed, "zipf keys")
    #expect(even["broker.partition_skew"]! < 1.1, "uniform keys: \(even["broker.partition_skew"]!)")
    // Zipf 1.2 over 10,000 keys: the hottest key alone carries ~19% of the records.
    #expect(skewed["broker.partition_skew"]! > 1.5, "zipf keys: \(skewed["broker.partition_skew"]!)")
    // The same key always lands on the same partition.
    #expect(BrokerCluster.partition(ofKey: 42, partitions: 6) == BrokerCluster.partition(ofKey: 42, partitions: 6))
  }

  /// Two of three brokers down for 10 s with acks=all and min.insync.replicas=2: batches wait in
  /// the accumulator rather than being resent every back-off, so the outage costs fewer events,
  /// not more.
  @Test func anOutageDoesNotCauseARetryStorm() throws {
    let calm = try runBroker(brokerParameters(acks: .all))
    let outage = try runBroker(
      brokerParameters(
        acks: .all,
        faults: [
          .hostCrash(at: .seconds(5), host: 1, duration: .seconds(10)),
          .hostCrash(at: .seconds(5), host: 2, duration: .seconds(10)),
        ]))
    expectConservation(outage, "outage")
    #expect(outage["simulator.events"]! < calm["simulator.events"]!)
    #expect(outage["broker.records_acked_lost"] == 0)
  }

  /// All three brokers share rack1: a rack power loss takes every replica down at once. If a
  /// crash loses what was not yet written back (a power loss), acknowledged records are lost
  /// despite acks=all; if the log survives (a process crash), nothing is.
  @Test func aRackPowerLossLosesUnflushedRecordsOnlyWithoutTheirPageCache() throws {
    func run(losesPageCache: Bool) throws -> Metrics {
      var p = brokerParameters(acks: .all, faults: [.rackPowerLoss(at: .seconds(8), rack: 0, duration: .seconds(3))])
      p.crashLosesPageCache = losesPageCache
      return try runBroker(p)
    }
    let kept = try run(losesPageCache: false)
    let lost = try run(losesPageCache: true)
    expectConservation(kept, "log kept")
    expectConservation(lost, "page cache lost")
    #expect(kept["broker.records_acked_lost"] == 0)
    // Up to the 5 s write-back interval of acknowledged records.
    #expect(lost["broker.records_acked_lost"]! > 1000, "lost \(lost["broker.records_acked_lost"]!)")
  }
}

@Suite struct ConsumerRetentionTests {
  func consumers(faults: [FaultSpec]) -> BrokerParameters {
    var p = brokerParameters(acks: .all, faults: faults)
    p.consumerGroups = 1
    p.consumersPerGroup = 1
    p.autoCommitInterval = .seconds(1)
    p.consumerSessionTimeout = .seconds(2)
    return p
  }

  /// The consumer (rack2-host3, host 5) is down for 6 s while retention keeps 2 s: what it had
  /// not read is deleted. auto.offset.reset=latest skips to the end, earliest to the oldest kept.
  @Test func retentionDeletesWhatALaggingConsumerHadNotRead() throws {
    var p = consumers(faults: [.hostCrash(at: .seconds(6), host: 5, duration: .seconds(6))])
    p.retention = .seconds(2)
    p.retentionCheckInterval = .seconds(1)
    let latest = try runBroker(p)
    p.autoOffsetResetEarliest = true
    let earliest = try runBroker(p)
    #expect(latest["consumer.records_skipped"]! > 0)
    #expect(earliest["consumer.records_skipped"]! > 0)
    #expect(latest["consumer.records_skipped"]! > earliest["consumer.records_skipped"]!)
    // Nothing else goes missing: read + skipped covers what was acknowledged.
    let acked = latest["broker.records_acked"]!
    let covered = latest["consumer.records_consumed"]! + latest["consumer.records_skipped"]!
    #expect(covered > 0.97 * acked && covered <= acked, "consumed + skipped \(covered) of \(acked)")
    // Lag is in records: 6 s at 2,000 records/s piles up thousands.
    #expect(latest["consumer.lag_max"]! > 5_000)
  }

  /// The group's coordinator is broker 0 (rack1-host1). Its crash stops commits until the
  /// controller moves the group; the members rejoin and resume from the last commit, reading
  /// again what they had read since. Another broker's crash moves leaders only: no re-reads.
  @Test func theCoordinatorsCrashMakesTheGroupRereadFromItsCommits() throws {
    let coordinator = try runBroker(consumers(faults: [.hostCrash(at: .milliseconds(8_500), host: 0, duration: nil)]))
    let other = try runBroker(consumers(faults: [.hostCrash(at: .milliseconds(8_500), host: 2, duration: nil)]))
    #expect(coordinator["consumer.records_duplicated"]! > 0)
    #expect(other["consumer.records_duplicated"] == 0)
    #expect(coordinator["consumer.records_consumed"]! > 0.95 * coordinator["broker.records_acked"]!)
  }

  @Test func oldDataIsReadFromDiskNewDataFromThePageCache() throws {
    var p = consumers(faults: [.hostCrash(at: .seconds(4), host: 5, duration: .seconds(8))])
    let warm = try runBroker(p)
    p.pageCache = 1_048_576  // 1 MiB: a second of appends
    let cold = try runBroker(p)
    #expect(warm["consumer.disk_read_bytes"] == 0)
    #expect(cold["consumer.disk_read_bytes"]! > 1e6)
  }
}
