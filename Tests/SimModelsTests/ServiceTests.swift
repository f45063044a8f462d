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

/// Failures, sticky sessions, health checks and autoscaling.
@Suite struct ServiceFailureTests {
  /// 4 instances, random routing at 200/s, checks every 10 s; instance 0's host dies for good at
  /// 20.5 s. Checks at 30 s and 40 s fail: out of rotation at 40 s. Until then a quarter of the
  /// requests go to it and fail: 50/s x 19.5 s = 975. Afterwards 3 instances at 66.7/s each are
  /// M/M/1 with mean 1/(100 - 66.7) = 30 ms, before 20 ms: weighted by the answers over the
  /// measured 5...100 s, (3100 x 20 + 2925 x 20 + 12000 x 30) / 18025 = 26.7 ms.
  @Test func aFailedInstanceFailsRequestsUntilTheChecksNotice() throws {
    var p = serviceParameters(instances: 4, policy: .random, rate: 200)
    p.healthCheckInterval = .seconds(10)
    let healthy = try runService(p, seconds: 100)
    p.faults = [.hostCrash(at: .milliseconds(20_500), host: 0, duration: nil)]
    let m = try runService(p, seconds: 100)
    #expect(abs(m["service.failed"]! - 975) / 975 < 0.1)
    #expect(abs(m["service.latency_mean"]! - 0.02667) / 0.02667 < 0.1)
    // A failure never makes the service faster.
    #expect(m["service.latency_mean"]! > healthy["service.latency_mean"]!)
    #expect(m["service.latency_p99"]! > healthy["service.latency_p99"]!)
    #expect(healthy["service.failed"] == 0)
    #expect(
      m["service.requests"]! == m["service.served"]! + m["service.rejected"]! + m["service.failed"]!
        + m["service.in_flight"]!)
  }

  /// Sticky sessions: the ~400/4 = 100 live sessions bound to the instance that dies are lost
  /// (Binomial(400, 1/4): sd 8.7); with the state in a store, none is.
  @Test func stickySessionsAreLostWithTheirInstance() throws {
    var p = serviceParameters(instances: 4, policy: .random, rate: 200)
    p.sessions = 400
    p.healthCheckInterval = .seconds(10)
    p.faults = [.hostCrash(at: .milliseconds(20_500), host: 0, duration: nil)]
    let stateless = try runService(p, seconds: 60)
    p.sessionMode = .sticky
    let sticky = try runService(p, seconds: 60)
    #expect(stateless["service.sessions_lost"] == 0)
    #expect((70...130).contains(sticky["service.sessions_lost"]!))
  }

  /// Without replacement (a static target group) the instance taken out returns with its host,
  /// after `healthy_threshold` passed checks: host down 20.5...45 s; out of rotation at 40 s;
  /// back up at 45 s, its service ready at 45 + 2 = 47 s, checks pass at 50, 60, 70: back in
  /// rotation at 70 s. Requests failed: those sent to it from 20.5 to 40 s (975, as above), none
  /// after; with healthy_threshold 1 it is back at 50 s, so fewer requests see 3 instances.
  @Test func anInstanceTakenOutReturnsAfterTheHealthyThreshold() throws {
    var p = serviceParameters(instances: 4, policy: .random, rate: 300)
    p.healthCheckInterval = .seconds(10)
    p.replaceUnhealthy = false
    p.startupTime = .constant(2)
    p.healthyThreshold = 3
    p.faults = [.hostCrash(at: .milliseconds(20_500), host: 0, duration: .milliseconds(24_500))]
    let three = try runService(p, seconds: 100)
    p.healthyThreshold = 1
    let one = try runService(p, seconds: 100)
    // 75/s x 19.5 s = 1462 failed either way.
    for m in [three, one] { #expect(abs(m["service.failed"]! - 1462) / 1462 < 0.1) }
    // At 300/s, 3 instances run at rho = 1: 30 s of it (40...70 s) against 10 s (40...50 s).
    #expect(three["service.latency_mean"]! > 1.5 * one["service.latency_mean"]!)
    // Billed from its launch when the host returns (booting and checked, too), not while the
    // host was down: 4 instances over the measured 95 s but one for 20.5...45 s.
    #expect(abs(three["service.instances_mean"]! - (4 - 24.5 / 95)) < 1e-9)
    #expect(abs(three["service.ready_instances_mean"]! - (4 - 49.5 / 95)) < 1e-9)
  }

  /// An HPA-style autoscaler under a spike: 2 single-thread instances at 80/s (utilisation 0.4,
  /// target 0.5); from 60 s to 180 s the rate is 300/s, which needs 300 / 100 / 0.5 = 6. The
  /// autoscaler scales out to 6-8 (it sees the saturated utilisation, up to 1.0, so its first
  /// step may overshoot), then back in to 2 once the stabilisation window has passed; draining
  /// instances finish what they hold: no request fails or is rejected. Cost: the pool's hosts
  /// are billed only while an instance is on them, so host-hours = (instance-seconds + the
  /// balancer's and the client's whole run) / 3600.
  @Test func autoscalingFollowsASpikeAndDrainsWithoutLoss() throws {
    var p = serviceParameters(instances: 8, policy: .leastConnections, rate: 80)
    p.instances = 2
    p.minInstances = 2
    p.spikeAt = .seconds(60)
    p.spikeFor = .seconds(120)
    p.spikeRate = 300
    p.startupTime = .constant(10)
    p.healthCheckInterval = .seconds(5)
    var a = ServiceParameters.Autoscaling()
    a.targetUtilization = 0.5
    a.scaleDownStabilization = .seconds(60)
    p.autoscaling = a
    var cost = CostSpec()
    cost.hostHour = 1
    p.platform.cost = cost
    let m = try ServiceModel.run(
      p, context: RunContext(duration: .seconds(400), warmup: .zero, streams: RandomStreams(experimentSeed: 1))
    ).metrics
    #expect((6...8).contains(m["service.instances_max"]!))
    #expect(m["service.scale_outs"]! >= 1 && m["service.scale_ins"]! >= 1)
    #expect(m["service.failed"] == 0 && m["service.rejected"] == 0)
    // Back to the minimum by the end: the mean is well below the spike's count.
    #expect(m["service.instances_mean"]! < 5)
    let hostHours = (m["service.instance_seconds"]! + 2 * 400) / 3600
    #expect(abs(m["cost.host_hours"]! - hostHours) < 1e-9)
    #expect(abs(m["cost.hosts"]! - hostHours) < 1e-9)
  }
}
