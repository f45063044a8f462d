import SimKernel
import SimModel
import SimPlatform
import Testing

@testable import SimBroker

/// The brokers' request path (RequestHandling.swift), the accumulator at linger 0 and the
/// follower fetch semantics, against hand-computed times and rates.
@Suite struct BrokerRequestTests {
  /// One rack (a route is two host links), `brokers` brokers, one producer, one partition per
  /// broker, records of exactly 1,000 bytes on the wire (1,061 with the batch header).
  func parameters(brokers: Int = 2, acks: BrokerParameters.Acks, replication: Int) -> BrokerParameters {
    var spec = PlatformSpec()
    spec.racks = 1
    spec.hostsPerRack = brokers + 1
    spec.hostLink = 1e6  // 1 MB/s: a 1,061-byte batch takes 1.061 ms on a link
    spec.hostLinkLatency = .microseconds(500)  // 1 ms a route
    var p = BrokerParameters(platform: spec, faults: [])
    p.brokers = brokers
    p.partitions = 1
    p.replicationFactor = replication
    p.minInsyncReplicas = 1
    p.acks = acks
    p.producers = 1
    p.recordSize = 1000
    p.recordOverhead = 0
    p.linger = .zero
    p.requestCPU = .milliseconds(2)
    p.appendRate = 1e6  // 1.061 ms for a one-record batch
    p.networkRate = 0
    return p
  }

  /// One record a second, so requests never meet. acks=1: the transfer (1 ms + 1.061 ms), the
  /// handler (2 ms + 1.061 ms), the response (1 ms): 6.122 ms. acks=all waits in the purgatory
  /// for the follower: the parked fetch is answered (1 ms + 1.061 ms), the follower appends
  /// (1.061 ms), its next fetch arrives (1 ms) and is handled (2 ms): 6.122 ms more.
  @Test func anAcksAllRequestWaitsInThePurgatoryForTheFollowersNextFetch() throws {
    func p50(_ acks: BrokerParameters.Acks) throws -> Double {
      var p = parameters(acks: acks, replication: 2)
      p.recordRate = 1
      return try runBroker(p, seconds: 200)["broker.produce_latency_p50"]!
    }
    let leader = try p50(.leader)
    let all = try p50(.all)
    #expect(abs(leader - 0.006122) < 0.00005, "acks=1 p50 \(leader)")
    #expect(abs(all - 0.012244) < 0.0001, "acks=all p50 \(all)")
  }

  /// A connection's requests are handled one at a time (its channel is muted until the
  /// response): with five requests in flight and a 10 ms handler, one producer gets one request
  /// every 10 ms through, whatever it offers. A batch of 100-byte records holds 163, so the
  /// producer, offering 50,000 records/s, gets 16,300/s; a second broker's connection (two
  /// partitions, one each) doubles it.
  @Test func aConnectionsRequestsAreHandledOneAtATime() throws {
    let one = try cappedThroughput(brokers: 1, producers: 1, ioThreads: 8)
    let two = try cappedThroughput(brokers: 2, producers: 1, ioThreads: 8)
    #expect(one > 15_500 && one < 16_300, "one broker: \(one) records/s")
    #expect(two > 31_000 && two < 32_600, "two brokers: \(two) records/s")
  }

  /// Two producers on one broker with one I/O thread share it: 163 records per 10 ms between
  /// them; with two threads each connection has its own.
  @Test func ioThreadsBoundTheRequestsHandledAtOnce() throws {
    let one = try cappedThroughput(brokers: 1, producers: 2, ioThreads: 1)
    let two = try cappedThroughput(brokers: 1, producers: 2, ioThreads: 2)
    #expect(one > 15_500 && one < 16_300, "one I/O thread: \(one) records/s")
    #expect(two > 31_000 && two < 32_600, "two I/O threads: \(two) records/s")
  }

  /// Producers offering 50,000 records/s of 100 B (no CPU of their own) to brokers whose
  /// handlers take 10 ms a request and nothing per byte, one partition per broker.
  func cappedThroughput(brokers: Int, producers: Int, ioThreads: Int) throws -> Double {
    var p = parameters(brokers: brokers, acks: .leader, replication: 1)
    p.platform.hostsPerRack = brokers + producers
    p.platform.hostLink = 1e9
    p.partitions = brokers
    p.producers = producers
    p.recordSize = 100
    p.recordRate = 50_000
    p.producerRecordCPU = .zero
    p.requestCPU = .milliseconds(10)
    p.appendRate = 0
    p.ioThreads = ioThreads
    p.roundRobin = true
    return try runBroker(p, seconds: 40)["broker.produce_throughput_records"]!
  }

  /// linger 0 sends a one-record batch when the sender is idle, but records keep joining the
  /// open batch while every request slot is taken: one request in flight and a 10 ms handler,
  /// 10,000 records/s offered, so about 100 records join each batch and the producer keeps up.
  /// One-record batches would get 100 records/s through.
  @Test func atLingerZeroBatchesFillWhileTheSenderIsBusy() throws {
    var p = parameters(brokers: 1, acks: .leader, replication: 1)
    p.platform.hostLink = 1e9
    p.recordSize = 100
    p.recordRate = 10_000
    p.maxInFlight = 1
    p.requestCPU = .milliseconds(10)
    p.appendRate = 0
    let m = try runBroker(p, seconds: 40)
    let throughput = m["broker.produce_throughput_records"]!
    #expect(throughput > 9_800 && throughput < 10_200, "throughput \(throughput) records/s")
    // A batch waits for the request ahead of it (10 ms), then its own (10 ms) and the round trip.
    let p50 = m["broker.produce_latency_p50"]!
    #expect(p50 > 0.015 && p50 < 0.03, "p50 \(p50)")
  }

  /// replica.fetch.min.bytes above what one record brings: the leader holds the follower's fetch
  /// for replica.fetch.wait.max.ms, so an acks=all write waits that long.
  @Test func fetchMinBytesHoldsTheFollowersFetchForTheWait() throws {
    var p = parameters(acks: .all, replication: 2)
    p.recordRate = 1
    p.replicaFetchMinBytes = 1_048_576
    p.replicaFetchWaitMax = .milliseconds(100)
    let p50 = try runBroker(p, seconds: 200)["broker.produce_latency_p50"]!
    // Parked until its deadline: 0 to 100 ms after the append (uniform: the fetch was parked at
    // an arbitrary earlier time), then the response, the follower's append and next fetch.
    #expect(p50 > 0.05 && p50 < 0.075, "p50 \(p50)")
  }

  /// Bad values of the new parameters are errors at their keys.
  @Test(arguments: [
    ("num_io_threads", "0"), ("num_network_threads", "-1"), ("request_cpu", "-1ms"), ("request_cpu", "2s"),
    ("append_rate", "-5MB/s"), ("network_thread_rate", "fast"), ("queued_max_requests", "0"),
    ("num_replica_fetchers", "0"), ("replica_fetch_min_bytes", "0B"), ("log_dirs", "2"),
    ("partitioner", "roundrobin"),
  ])
  func badRequestHandlingValuesAreErrorsAtTheirKeys(key: String, value: String) throws {
    var error: ConfigError?
    do {
      var reader = try ConfigReader(.mapping([(key, .scalar(value))]), path: "params")
      _ = try BrokerModel.decode(&reader, input: ModelInput(platform: .mapping([])))
    } catch let e { error = e }
    #expect(error?.keyPath == "params.\(key)", "\(key): \(value): \(String(describing: error))")
  }
}
