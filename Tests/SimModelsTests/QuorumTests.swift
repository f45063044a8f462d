import Foundation
import SimKernel
import SimPlatform
import Testing

@testable import SimQuorum

/// 5 store nodes (rack1-host1..4, rack2-host1) and clients on rack2-host2..4.
func quorumParameters(
  mode: QuorumParameters.Mode = .ap, n: Int = 3, r: Int = 2, w: Int = 2, faults: [FaultSpec] = []
) -> QuorumParameters {
  var spec = PlatformSpec()
  spec.racks = 2
  spec.hostsPerRack = 4
  var p = QuorumParameters(platform: spec, faults: faults)
  p.mode = mode
  p.nodes = 5
  p.replication = n
  p.readQuorum = r
  p.writeQuorum = w
  p.keys = 500
  p.antiEntropyInterval = .seconds(2)
  p.clients = [.init(name: "clients", hosts: [5, 6, 7], rate: 2000, readFraction: 0.8)]
  return p
}

func runQuorum(_ p: QuorumParameters, seed: UInt64 = 1, seconds: Int64 = 10) throws -> Metrics {
  try QuorumModel.run(
    p, context: RunContext(duration: .seconds(seconds), streams: RandomStreams(experimentSeed: seed))
  ).metrics
}

@Suite struct QuorumTests {
  @Test func closedForms() {
    #expect(QuorumTheory.binomial(5, 2) == 10)
    #expect(QuorumTheory.staleProbability(n: 3, r: 2, w: 2) == 0)
    #expect(abs(QuorumTheory.staleProbability(n: 3, r: 1, w: 1) - 2.0 / 3) < 1e-12)
    #expect(abs(QuorumTheory.staleProbability(n: 5, r: 2, w: 2) - 0.3) < 1e-12)
    // The 2nd of 3 exponentials of mean 1: 1/3 + 1/2.
    #expect(abs(QuorumTheory.expectedOrderStatistic(k: 2, n: 3, mean: 1) - 5.0 / 6) < 1e-12)
  }

  /// Strict quorums that overlap (R + W > N), no failures: every read sees the newest commit.
  @Test(arguments: [(3, 2, 2), (3, 1, 3), (3, 3, 1), (5, 3, 3)])
  func overlappingQuorumsNeverReadStale(nrw: (Int, Int, Int)) throws {
    var p = quorumParameters(n: nrw.0, r: nrw.1, w: nrw.2)
    p.sloppyQuorum = false
    p.keys = 20  // many writes per key, so reads race writes
    let m = try runQuorum(p, seconds: 5)
    #expect(m["quorum.reads_checked"]! > 1000)
    #expect(m["quorum.stale_read_fraction"] == 0, "N=\(nrw.0) R=\(nrw.1) W=\(nrw.2)")
    #expect(m["quorum.availability"] == 1)
  }

  /// Writes reach W random replicas only and reads ask R random ones: a read is stale exactly
  /// when its R miss the W, with probability C(N-W, R) / C(N, R).
  @Test(arguments: [(3, 1, 1), (5, 2, 2), (5, 1, 3)])
  func staleReadsMatchTheClosedForm(nrw: (Int, Int, Int)) throws {
    var p = quorumParameters(n: nrw.0, r: nrw.1, w: nrw.2)
    p.propagate = false
    p.readAll = false
    p.keys = 200
    p.clients = [.init(name: "clients", hosts: [5, 6, 7], rate: 4000, readFraction: 0.5)]
    let m = try runQuorum(p, seconds: 5)
    let reads = m["quorum.reads_checked"]!
    let stale = m["quorum.stale_read_fraction"]!
    let theory = QuorumTheory.staleProbability(n: nrw.0, r: nrw.1, w: nrw.2)
    #expect(m["theory.stale_probability"] == theory)
    let halfWidth = 1.96 * (theory * (1 - theory) / reads).squareRoot() + 0.005
    #expect(
      abs(stale - theory) < halfWidth, "N=\(nrw.0) R=\(nrw.1) W=\(nrw.2): \(stale) vs \(theory) from \(reads) reads")
  }

  /// No network latency, write leg exponential with mean 10 ms, acks instantaneous: a write
  /// waits for the W-th fastest of N, whose mean is 10 ms x (1/N + ... + 1/(N-W+1)).
  @Test(arguments: [(3, 1), (3, 2), (5, 3)])
  func quorumWaitIsTheOrderStatistic(nw: (Int, Int)) throws {
    var p = quorumParameters(n: nw.0, r: 1, w: nw.1)
    p.platform.hostLinkLatency = .zero
    p.platform.uplinkLatency = .zero
    p.legs.write = .exponential(mean: 0.010)
    p.legs.ack = .constant(0)
    p.clients = [.init(name: "clients", hosts: [5, 6, 7], rate: 2000, readFraction: 0)]
    let m = try runQuorum(p, seconds: 5)
    let theory = QuorumTheory.expectedOrderStatistic(k: nw.1, n: nw.0, mean: 0.010)
    let mean = m["quorum.write_latency_mean"]!
    // ~10,000 writes; the order statistic's standard deviation is below 10 ms.
    #expect(abs(mean - theory) < 0.0005, "N=\(nw.0) W=\(nw.1): mean \(mean) vs \(theory)")
  }

  /// The partition: nodes 0 and 1 (rack1-host1, rack1-host2) with the client on rack2-host2
  /// against the other three nodes with the clients on rack2-host3 and rack2-host4, for 6 s.
  /// CP keeps every key on all 5 nodes (so 2 nodes are a minority for every range); AP keeps 3
  /// replicas with R = W = 2, which a sloppy quorum finds on either side.
  func partitioned(_ mode: QuorumParameters.Mode) -> QuorumParameters {
    let groups: [[Int32]] = [[0, 1, 5], [2, 3, 4, 6, 7]]
    let n = mode == .cp ? 5 : 3
    var p = quorumParameters(
      mode: mode, n: n, r: n / 2 + 1, w: n / 2 + 1,
      faults: [.partition(at: .seconds(4), groups: groups, duration: .seconds(6))])
    p.clients = [
      .init(name: "minority", hosts: [5], rate: 1000, readFraction: 0.8),
      .init(name: "majority", hosts: [6, 7], rate: 1000, readFraction: 0.8),
    ]
    return p
  }

  /// CP: the minority side's requests fail (for the 6 s of 14), none is stale, nothing
  /// acknowledged is lost; the majority side elects leaders and carries on.
  @Test func cpRefusesTheMinoritySideAndIsNeverStale() throws {
    let m = try runQuorum(partitioned(.cp), seconds: 14)
    #expect(m["quorum.stale_read_fraction"] == 0)
    #expect(m["quorum.writes_lost"] == 0)
    #expect(m["quorum.conflicts"] == 0)
    let minority = m["quorum.availability.minority"]!
    #expect(minority < 0.65 && minority > 0.45, "minority availability \(minority)")
    #expect(m["quorum.availability.majority"]! > 0.95)
  }

  /// AP: both sides keep answering (sloppy quorums, hints), at the price of stale reads and
  /// conflicting writes; after the heal, hints and anti-entropy make every replica agree.
  @Test func apAnswersBothSidesThenConverges() throws {
    let m = try runQuorum(partitioned(.ap), seconds: 14)
    #expect(m["quorum.availability.minority"]! > 0.99)
    #expect(m["quorum.availability.majority"]! > 0.99)
    #expect(m["quorum.stale_read_fraction"]! > 0.01)
    #expect(m["quorum.conflicts"]! > 0)
    #expect(m["quorum.hint_backlog_max"]! > 0)
    let convergence = m["quorum.convergence_seconds"]!
    #expect(convergence >= 0 && convergence < 4, "converged \(convergence) s after the heal")
  }

  @Test func theSameSeedGivesTheSameRun() throws {
    let p = partitioned(.cp)
    #expect(try runQuorum(p, seed: 4, seconds: 6) == runQuorum(p, seed: 4, seconds: 6))
    #expect(try runQuorum(p, seed: 4, seconds: 6) != runQuorum(p, seed: 5, seconds: 6))
  }
}
