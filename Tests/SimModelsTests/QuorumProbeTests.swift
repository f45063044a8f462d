import Foundation
import SimKernel
import SimModel
import SimPlatform
import Testing

@testable import SimQuorum

/// PBS t-visibility from probe reads (QuorumStore+Probes.swift), and request slots that are
/// reused so that the store's memory does not grow with the run.
@Suite struct QuorumProbeTests {
  /// N = 3, R = W = 1. Each write leg takes 1 ms or 9 ms (equally likely, independently), acks
  /// and responses (next to) nothing, reads 1 ms. The write commits at the fastest replica's
  /// 1 ms (or 9 ms if all three took 9); the probe's first responder is a random replica. It
  /// holds the write when a read starting t after commit reaches it unless it took 9 ms while
  /// another took 1 ms (probability 1/2 x 3/4 = 3/8): then from t = 9 - 1 - 1 = 7 ms. So
  /// P(consistent at t) is 5/8 below 7 ms and 1 from 7 ms on, and the t-visibility at any
  /// target above 5/8 is exactly 7 ms (at 0.5, 0).
  func twoPointLegs() -> QuorumParameters {
    var p = quorumParameters(n: 3, r: 1, w: 1)
    p.legs.write = .empirical([0.001, 0.009])
    p.legs.ack = .constant(0)
    p.legs.read = .constant(0.001)
    p.legs.response = .uniform(low: 0, high: 1e-6)  // a random first responder
    p.readRepair = false
    p.antiEntropyInterval = nil
    p.visibilityTimes = [.zero, .nanoseconds(6_999_999), .milliseconds(7), .milliseconds(8)]
    p.pbsTargets = [0.5, 0.99, 0.999]
    return p
  }

  @Test func probeReadsStepWhereTheHandComputationPutsIt() throws {
    let m = try runQuorum(twoPointLegs(), seconds: 10)
    let probes = m["quorum.pbs_probes"]!
    #expect(probes > 3000)
    // Binomial standard deviation of 5/8 over > 3,000 probes: < 0.009.
    for t in ["0s", "6.999999ms"] {
      let share = m["quorum.pbs_consistency.\(t)"]!
      #expect(abs(share - 0.625) < 0.03, "P(consistent at \(t)) = \(share) from \(probes) probes")
    }
    #expect(m["quorum.pbs_consistency.7ms"] == 1)
    #expect(m["quorum.pbs_consistency.8ms"] == 1)
    #expect(m["quorum.pbs_t_visibility_5"] == 0)
    // The histogram's buckets are 0.1% wide at most.
    for target in ["99", "999"] {
      let t = m["quorum.pbs_t_visibility_\(target)"]!
      #expect(abs(t - 0.007) <= 0.007 * 0.001, "t-visibility at 0.\(target): \(t)")
    }
  }

  /// R + W > N: the read's R replies and the write's W acks share a replica, which had the
  /// write before it acknowledged it, so every probe is consistent at t = 0.
  @Test(arguments: [(3, 2, 2), (3, 1, 3), (3, 3, 1)])
  func overlappingQuorumsAreConsistentAtOnce(nrw: (Int, Int, Int)) throws {
    var p = quorumParameters(n: nrw.0, r: nrw.1, w: nrw.2)
    p.legs = .init(
      write: .exponential(mean: 0.005), ack: .exponential(mean: 0.001), read: .exponential(mean: 0.001),
      response: .exponential(mean: 0.001))
    p.readRepair = false
    let m = try runQuorum(p, seconds: 3)
    #expect(m["quorum.pbs_probes"]! > 1000)
    #expect(m["quorum.pbs_consistency.0s"] == 1, "N=\(nrw.0) R=\(nrw.1) W=\(nrw.2)")
    #expect(m["quorum.pbs_t_visibility_9999"] == 0)
  }

  /// Probes draw from their own stream and send nothing: every client metric is the same with
  /// and without them; and the probes' P(consistent) does not depend on the load.
  @Test func probesChangeNoClientMetricAndDoNotDependOnTheLoad() throws {
    var p = twoPointLegs()
    p.legs.write = .exponential(mean: 0.003)
    let with = try runQuorum(p, seconds: 4)
    p.probeFraction = 0
    let without = try runQuorum(p, seconds: 4)
    #expect(with["quorum.pbs_probes"]! > 1000)
    #expect(without["quorum.pbs_probes"] == 0)
    #expect(without["quorum.pbs_consistency.0s"]!.isNaN)
    for (name, value) in with.entries where !name.hasPrefix("quorum.pbs_") {
      let other = without[name]!
      #expect(value.bitPattern == other.bitPattern || (value.isNaN && other.isNaN), "\(name): \(value) vs \(other)")
    }
    // Eight times the load: the same P(consistent at 0) within the binomial error.
    p.probeFraction = 1
    p.clients = [.init(name: "clients", hosts: [5, 6, 7], rate: 16000, readFraction: 0.8)]
    let loaded = try runQuorum(p, seconds: 2)
    let (a, b) = (with["quorum.pbs_consistency.0s"]!, loaded["quorum.pbs_consistency.0s"]!)
    let sd = (a * (1 - a) / with["quorum.pbs_probes"]!).squareRoot()
    #expect(abs(a - b) < 4 * sd + 0.005, "\(a) at 2k/s vs \(b) at 16k/s")
  }

  @Test func theNewMetricsAreTheSameForTheSameSeed() throws {
    let p = twoPointLegs()
    let (a, b) = (try runQuorum(p, seed: 9, seconds: 3), try runQuorum(p, seed: 9, seconds: 3))
    let names = a.names.filter { $0.hasPrefix("quorum.pbs_") || $0.hasPrefix("quorum.load_visibility") }
    #expect(names.count == 2 * 4 + 1 + 3 + 1)
    for name in names { #expect(a[name]!.bitPattern == b[name]!.bitPattern, "\(name)") }
    let c = try runQuorum(p, seed: 10, seconds: 3)
    #expect(a["quorum.pbs_consistency.0s"] != c["quorum.pbs_consistency.0s"])
  }

  /// The store after a run of `seconds`: its request slots are reused once a request is
  /// finished and nothing refers to it, so they number about rate x request_timeout.
  func store(after seconds: Int64, mode: QuorumParameters.Mode = .ap) throws -> QuorumStore {
    let p = quorumParameters(mode: mode)
    var kept: QuorumStore?
    _ = try runOnPlatform(
      p.platform, faults: [],
      context: RunContext(duration: .seconds(seconds), streams: RandomStreams(experimentSeed: 3))
    ) { simulator, platform in
      let store = QuorumStore(
        parameters: p, platform: platform, simulator: simulator,
        context: RunContext(duration: .seconds(seconds), streams: RandomStreams(experimentSeed: 3)))
      kept = store
      return store
    }
    return kept!
  }

  @Test func requestSlotsDoNotGrowWithTheRun() throws {
    let short = try store(after: 4)
    let long = try store(after: 16)
    // 2,000 requests/s held for their 1 s timeout: about 2,000 slots, whatever the length.
    #expect(short.requests.count < 3000, "\(short.requests.count) slots after 8,000 requests")
    #expect(
      Double(long.requests.count) < 1.1 * Double(short.requests.count),
      "\(long.requests.count) slots after 16 s against \(short.requests.count) after 4 s")
    // Every slot not free is still referred to.
    #expect(long.requests.indices.allSatisfy { long.requests[$0].refs > 0 || long.freeRequests.contains(Int32($0)) })
  }
}
