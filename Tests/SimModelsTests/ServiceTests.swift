import Foundation
import SimKernel
import SimPlatform
import Testing

@testable import SimService

/// `instances` instances on the first hosts, the balancer and one client host after them.
func serviceParameters(instances: Int, policy: ServiceParameters.Policy, rate: Double) -> ServiceParameters {
  var spec = PlatformSpec()
  spec.racks = 1
  spec.hostsPerRack = instances + 2
  var p = ServiceParameters(platform: spec, faults: [])
  p.maxInstances = instances
  p.instances = instances
  p.policy = policy
  p.rate = rate
  p.service = .exponential(mean: 0.01)
  p.storeLatency = .constant(0)
  return p
}

func runService(_ p: ServiceParameters, seconds: Int64, seed: UInt64 = 1) throws -> Metrics {
  try ServiceModel.run(
    p,
    context: RunContext(
      duration: .seconds(seconds), warmup: .seconds(5), streams: RandomStreams(experimentSeed: seed))
  ).metrics
}

@Suite struct ServiceTests {
  /// Random routing splits Poisson arrivals into n Poisson streams: each instance is M/M/1 at
  /// lambda / n = 50/s with mu = 100/s, mean response 1 / (mu - lambda/n) = 20 ms (plus the
  /// network's four legs, microseconds), utilisation 0.5 and P(at least k in it) = 0.5^k.
  @Test func randomRoutingIsMM1PerInstance() throws {
    let m = try runService(serviceParameters(instances: 4, policy: .random, rate: 200), seconds: 200)
    let theory = ServiceTheory.mm1Response(arrivalRate: 50, serviceRate: 100)
    #expect(abs(m["service.latency_mean"]! - theory) / theory < 0.05)
    #expect(abs(m["service.utilization_mean"]! - 0.5) < 0.02)
    for k in 1...4 {
      #expect(abs(m["service.queue_at_least_\(k)"]! - pow(0.5, Double(k))) < 0.02, "k = \(k)")
    }
    // Conservation: every request made is answered, rejected, failed or still on its way.
    #expect(
      m["service.requests"]! == m["service.served"]! + m["service.rejected"]! + m["service.failed"]!
        + m["service.in_flight"]!)
    #expect(m["service.rejected"] == 0 && m["service.failed"] == 0)
    // A fixed count of 4 instances over the 195 measured seconds.
    #expect(abs(m["service.instance_seconds"]! - 4 * 195) < 1e-6)
  }

  /// Power of two choices at rho = 0.9 over 100 instances: the share of instances with at least
  /// k requests follows the supermarket model's mean-field limit rho^(2^k - 1) (0.9, 0.729,
  /// 0.478, 0.206) within 0.05: n = 100 is finite (the limit is for n -> infinity) and the run short.
  @Test func powerOfTwoMatchesTheSupermarketModel() throws {
    let m = try runService(serviceParameters(instances: 100, policy: .powerOfD, rate: 9000), seconds: 25)
    for k in 1...4 {
      let theory = ServiceTheory.supermarketTail(rho: 0.9, d: 2, k: k)
      let simulated = m["service.queue_at_least_\(k)"]!
      #expect(abs(simulated - theory) < 0.05, "k = \(k): simulated \(simulated), theory \(theory)")
    }
  }

  /// At load 0.9, joining the least-loaded instance beats random routing on mean and p99.
  @Test func leastConnectionsBeatsRandomAtHighLoad() throws {
    let random = try runService(serviceParameters(instances: 10, policy: .random, rate: 900), seconds: 40)
    let least = try runService(serviceParameters(instances: 10, policy: .leastConnections, rate: 900), seconds: 40)
    #expect(least["service.latency_mean"]! < 0.5 * random["service.latency_mean"]!)
    #expect(least["service.latency_p99"]! < random["service.latency_p99"]!)
    #expect(least["service.utilization_spread"]! < random["service.utilization_spread"]!)
  }

  /// A consistent-hash ring moves only the keys of a member that leaves.
  @Test func hashRingMovesOnlyTheLeavingMembersKeys() {
    let full = HashRing(members: [0, 1, 2, 3], vnodes: 100)
    let without = HashRing(members: [0, 1, 3], vnodes: 100)
    var moved = 0
    for key in 0..<10_000 {
      let a = full.member(forKey: key)!
      let b = without.member(forKey: key)!
      if a != 2 { #expect(a == b) } else { moved += 1 }
    }
    #expect(moved > 1500 && moved < 3500)  // about a quarter
  }
}
