import SimKernel
import SimPlatform

/// t-visibility as Probabilistically Bounded Staleness defines it (Bailis et al., VLDB 2012):
/// the probability that a read starting exactly t after a write commits returns that write or a
/// newer one, whatever the load.
///
/// A probed write (`probe_fraction` of the AP writes after the warmup) records when its message
/// reaches each replica. When it commits (the coordinator has W acks), one probe read is drawn
/// at the coordinator as a client read would be: to all N replicas or R random ones
/// (`read_fanout`), with the read and response legs' delays (or the network's), from the probe
/// stream. A read starting at commit + t reaches replica i at commit + t + R_i and returns the
/// write iff one of its first R responders (by R_i + S_i, which does not depend on t) holds the
/// write by then, i.e. iff t >= arrival_i - commit - R_i for one of them. So the probe's time to
/// consistency, t* = min over the first R responders of (arrival_i - commit - R_i), is exact,
/// P(consistent at t) is the share of probes with t* <= t, and the t-visibility at a target is
/// the target's quantile of t*. Probes send no message and schedule no event: they load no
/// replica, change no client metric and do not depend on the load. What they credit is the
/// write's own messages to its replicas, not read repair, anti-entropy, hints or newer writes
/// that might bring a version as new sooner: PBS's WARS model.
extension QuorumStore {
  /// Decides whether a new write is probed (and makes room for its arrival times).
  func probes(write id: Int32) -> Bool {
    guard p.probeFraction > 0, simulator.now >= warmup else { return false }
    guard p.probeFraction >= 1 || probeStream.uniform() < p.probeFraction else { return false }
    requests[Int(id)].probeArrivals = Array(repeating: nil, count: p.replication)
    return true
  }

  /// The probe read of a write committing now.
  func probe(_ id: Int32) {
    let r = requests[Int(id)]
    let key = Int(r.key)
    let commit = simulator.now
    let coordinator = r.coordinator
    var slots = Array(0..<p.replication)
    if !p.readAll { slots = Array(slots.shuffled(with: probeStream).prefix(p.readQuorum)) }
    // (time from commit + t at which the replica holds the write, minus R_i; R_i + S_i)
    var answers: [(consistentFrom: SimTime, responds: SimTime)] = []
    for slot in slots {
      let node = replicas(of: key)[replicas(of: key).startIndex + slot]
      guard reachable(coordinator, node) else { continue }
      let read = p.legs.read.map { $0.sampleTime(probeStream) } ?? latency[Int(coordinator)][Int(node)]
      let response = p.legs.response.map { $0.sampleTime(probeStream) } ?? latency[Int(node)][Int(coordinator)]
      // Never sent this write (a stand-in took it, or propagation is off): never from it.
      let from = r.probeArrivals[slot].map { $0 - commit - read } ?? .max
      answers.append((from, read + response))
    }
    // A read that cannot reach R replicas does not answer: no probe.
    guard answers.count >= p.readQuorum else { return }
    answers.sort { $0.responds < $1.responds }
    let tStar = answers.prefix(p.readQuorum).map(\.consistentFrom).min()!
    probes += 1
    guard tStar < .max else {
      probesNever += 1
      return
    }
    for (j, t) in p.visibilityTimes.enumerated() where tStar <= t { probeConsistent[j] += 1 }
    timeToConsistency.record(tStar)  // at 0 when consistent at once
  }

  /// The least t at which P(consistent) reaches `target`: the target's quantile of the probes'
  /// time to consistency (0 if that many were consistent at once; NaN if no t reaches it).
  func pbsVisibility(_ target: Double) -> Double {
    guard probes > 0 else { return .nan }
    let finite = probes - probesNever
    let share = target * Double(probes) / Double(finite)
    guard finite > 0, share <= 1 else { return .nan }
    return timeToConsistency.percentile(share * 100)
  }
}
