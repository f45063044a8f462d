import SimKernel
import SimPlatform

/// AP mode: Dynamo-style quorums. The coordinator sends a write to the key's N replicas (with a
/// sloppy quorum, a replica it cannot reach is stood in for by the next reachable node on the
/// ring, which keeps a hint) and answers after W acks; it sends a read to the replicas (all N,
/// or R of them) and answers with the newest of the first R replies, then writes that version
/// back to replicas that answered older ones (read repair). Versions are timestamps from
/// synchronised clocks (a global counter), merged last-write-wins. Stand-ins hand hints over
/// when the replica is reachable again; every node syncs all its keys with a peer every
/// `anti_entropy_interval` (Merkle-tree repair, as one exchange).
extension QuorumStore {
  func startAP() {
    store = Array(repeating: Array(repeating: -1, count: p.keys), count: p.nodes)
    hints = Array(repeating: [], count: p.nodes)
    antiEntropyRound = Array(repeating: 0, count: p.nodes)
    guard p.propagate else { return }
    if p.hintedHandoff { simulator.schedule(after: p.handoffInterval, to: me, kind: Kind.handoff.rawValue) }
    if let interval = p.antiEntropyInterval {
      for node in 0..<p.nodes {
        // Staggered, so that the nodes do not all sync at once.
        // interval x (node + 1) / nodes, without overflowing for intervals near the end of time.
        let first = SimTime(nanoseconds: (interval * Int64(node + 1)).nanoseconds / Int64(p.nodes))
        simulator.schedule(after: first, to: me, kind: Kind.antiEntropy.rawValue, payload: Int64(node))
      }
    }
  }

  /// The coordinator got a client's request.
  func coordinate(_ m: Message) {
    if p.mode == .cp { return raftCoordinate(m) }
    let id = m.request
    let key = Int(m.key)
    let coordinator = m.to
    if requests[Int(id)].isWrite {
      nextVersion += 1
      requests[Int(id)].version = nextVersion
      let probed = probes(write: id)
      for (target, intended) in targets(key: key, from: coordinator, count: p.propagate ? p.replication : 0) {
        let arrival = send(
          Message(
            kind: .write, from: coordinator, to: target, request: id, key: m.key, version: nextVersion, node: intended),
          leg: p.legs.write)
        if probed, intended < 0, let slot = replicas(of: key).firstIndex(of: target) {
          requests[Int(id)].probeArrivals[slot - replicas(of: key).startIndex] = arrival
        }
      }
    } else {
      let count = p.readAll ? p.replication : p.readQuorum
      for (target, _) in targets(key: key, from: coordinator, count: count, reads: true) {
        send(Message(kind: .read, from: coordinator, to: target, request: id, key: m.key), leg: p.legs.read)
      }
    }
  }

  /// Where a request goes: (node, the replica it stands in for or -1). Writes with propagation
  /// off go to W random replicas; reads to R random replicas unless they go to all. With a
  /// sloppy quorum, a replica the coordinator cannot reach is replaced by the next reachable
  /// node on the preference list.
  func targets(key: Int, from coordinator: Int32, count: Int, reads: Bool = false) -> [(Int32, Int32)] {
    var chosen = Array(replicas(of: key))
    if !p.propagate && !reads {
      chosen = Array(chosen.shuffled(with: choices).prefix(p.writeQuorum))
    } else if count < chosen.count {
      chosen = Array(chosen.shuffled(with: choices).prefix(count))
    }
    guard p.sloppyQuorum, p.propagate else { return chosen.map { ($0, -1) } }
    var out: [(Int32, Int32)] = []
    var used = Set(chosen)
    var next = p.replication
    for node in chosen {
      if reachable(coordinator, node) {
        out.append((node, -1))
        continue
      }
      while next < p.nodes, !reachable(coordinator, preference[key][next]) || used.contains(preference[key][next]) {
        next += 1
      }
      guard next < p.nodes else { continue }
      let standIn = preference[key][next]
      used.insert(standIn)
      out.append((standIn, reads ? -1 : node))
    }
    return out
  }

  func apWrite(_ m: Message) {
    let key = Int(m.key)
    var prior = store[Int(m.to)][key]
    if m.node >= 0 {
      // A stand-in keeps the write as a hint for the replica it could not reach.
      prior = hints[Int(m.to)].last { $0.key == m.key }?.version ?? -1
      hints[Int(m.to)].append((m.node, m.key, m.version))
      hintsPending += 1
      trackBacklog()
    } else {
      apply(node: m.to, key: m.key, version: m.version)
    }
    send(
      Message(kind: .writeAck, from: m.to, to: m.from, request: m.request, key: m.key, version: prior), leg: p.legs.ack)
  }

  func apWriteAck(_ m: Message) {
    let id = m.request
    requests[Int(id)].acks += 1
    requests[Int(id)].priorMax = max(requests[Int(id)].priorMax, m.version)
    if Int(requests[Int(id)].acks) == p.writeQuorum {
      committed(id)
      respond(id, ok: true)
    }
  }

  func apRead(_ m: Message) {
    let version = store[Int(m.to)][Int(m.key)]
    send(
      Message(kind: .readReply, from: m.to, to: m.from, request: m.request, key: m.key, version: version),
      leg: p.legs.response)
  }

  func apReadReply(_ m: Message) {
    let id = m.request
    requests[Int(id)].replies += 1
    requests[Int(id)].seen.append((m.from, m.version))
    if !requests[Int(id)].answered {
      requests[Int(id)].version = max(requests[Int(id)].version, m.version)
      if Int(requests[Int(id)].replies) == p.readQuorum {
        requests[Int(id)].answered = true
        respond(id, ok: true, version: requests[Int(id)].version)
        repairStale(id)
      }
    } else {
      repairStale(id)
    }
  }

  /// Read repair: replicas that answered older than what the read returned get the newer version.
  func repairStale(_ id: Int32) {
    guard p.readRepair, p.propagate else { return }
    let r = requests[Int(id)]
    for (node, version) in r.seen where version < r.version {
      send(
        Message(kind: .repair, from: r.coordinator, to: node, key: r.key, version: r.version), leg: p.legs.write)
    }
    requests[Int(id)].seen.removeAll { $0.version < r.version }
  }

  func apply(node: Int32, key: Int32, version: Int64) {
    if version > store[Int(node)][Int(key)] { store[Int(node)][Int(key)] = version }
  }

  func trackBacklog() {
    backlog.update(Double(hintsPending), at: simulator.now)
    backlogMax = max(backlogMax, hintsPending)
  }

  /// Every node hands the hints it holds to the replicas it can reach now.
  func handoff() {
    for holder in 0..<p.nodes where !hints[holder].isEmpty && platform.isUp(HostID(Int32(holder))) {
      var kept: [(intended: Int32, key: Int32, version: Int64)] = []
      for hint in hints[holder] {
        if send(
          Message(kind: .hint, from: Int32(holder), to: hint.intended, key: hint.key, version: hint.version),
          leg: p.legs.write) == nil
        {
          kept.append(hint)
        }
      }
      hintsPending -= hints[holder].count - kept.count
      hints[holder] = kept
    }
    trackBacklog()
    if healedAt != nil { checkConvergence() }
    simulator.schedule(after: p.handoffInterval, to: me, kind: Kind.handoff.rawValue)
  }

  /// Anti-entropy: the node syncs with its next peer in turn (a request and a reply, then both
  /// keep the newer version of every key they share).
  func antiEntropy(node: Int32) {
    if let interval = p.antiEntropyInterval {
      simulator.schedule(after: interval, to: me, kind: Kind.antiEntropy.rawValue, payload: Int64(node))
    }
    guard p.nodes > 1 else { return }
    antiEntropyRound[Int(node)] += 1
    let peer = (Int(node) + 1 + antiEntropyRound[Int(node)] % (p.nodes - 1)) % p.nodes
    send(Message(kind: .syncRequest, from: node, to: Int32(peer)))
  }

  func reconcile(_ a: Int32, _ b: Int32) {
    for key in 0..<p.keys {
      let replicas = replicas(of: key)
      guard replicas.contains(a), replicas.contains(b) else { continue }
      let newest = max(store[Int(a)][key], store[Int(b)][key])
      store[Int(a)][key] = newest
      store[Int(b)][key] = newest
    }
    if healedAt != nil { checkConvergence() }
  }

  /// Every replica of every key holds the same version and no hint is pending.
  func converged() -> Bool {
    guard p.mode == .ap, hintsPending == 0 else { return hintsPending == 0 }
    for key in 0..<p.keys {
      let replicas = replicas(of: key)
      let first = store[Int(replicas.first!)][key]
      if replicas.contains(where: { store[Int($0)][key] != first }) { return false }
    }
    return true
  }

  func checkConvergence() {
    guard let healed = healedAt, converged() else { return }
    convergence.append((simulator.now - healed).seconds)
    healedAt = nil
  }

  /// Acknowledged writes that no replica or hint holds at the end, nor anything newer.
  func neverPropagated() -> Int {
    guard p.mode == .ap else { return 0 }
    var lost = 0
    for key in 0..<p.keys where committedMax[key] >= 0 {
      let v = committedMax[key]
      let held =
        replicas(of: key).contains { store[Int($0)][key] >= v }
        || hints.contains { $0.contains { $0.key == Int32(key) && $0.version >= v } }
      let id = committedWriter[key]
      if !held, id >= 0, requests[Int(id)].version == v, requests[Int(id)].outcome == .succeeded { lost += 1 }
    }
    return lost
  }
}

extension Array {
  /// A deterministic shuffle from a simulation stream (Fisher-Yates).
  func shuffled(with stream: RandomStream) -> [Element] {
    var a = self
    var i = a.count - 1
    while i > 0 {
      a.swapAt(i, stream.uniformInt(i + 1))
      i -= 1
    }
    return a
  }
}
