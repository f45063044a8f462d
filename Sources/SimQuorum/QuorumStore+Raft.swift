import SimKernel
import SimPlatform

/// A replica's Raft log, its committed prefix compacted away as a snapshot would hold it:
/// indices count from the log's first entry ever; the `base` entries below the first stored one
/// are gone, and `baseTerm` is the term of the last of them (Raft's lastIncludedTerm).
struct RaftLog {
  var base = 0
  var baseTerm: Int32 = 0
  var entries: [(term: Int32, request: Int32)] = []

  var count: Int { base + entries.count }
  var lastTerm: Int32 { entries.last?.term ?? baseTerm }

  subscript(index: Int) -> (term: Int32, request: Int32) {
    precondition(index >= base, "a compacted Raft entry is read")
    return entries[index - base]
  }

  mutating func append(_ entry: (term: Int32, request: Int32)) { entries.append(entry) }

  /// The entries `range` of `other` (a log with the same compacted prefix or a shorter one).
  mutating func append(from other: RaftLog, _ range: Range<Int>) {
    precondition(range.lowerBound >= other.base, "a compacted Raft entry is copied")
    entries.append(contentsOf: other.entries[(range.lowerBound - other.base)..<(range.upperBound - other.base)])
  }

  mutating func removeLast(_ n: Int) {
    precondition(n <= entries.count, "a compacted Raft entry is truncated")
    entries.removeLast(n)
  }

  /// Drops the entries below `index`; returns them.
  mutating func compact(below index: Int) -> ArraySlice<(term: Int32, request: Int32)> {
    let n = index - base
    guard n > 0 else { return [] }
    let dropped = entries[0..<n]
    baseTerm = entries[n - 1].term
    entries.removeFirst(n)
    base = index
    return dropped
  }
}

/// One replica of a Raft group.
struct RaftReplica {
  enum Role { case follower, candidate, leader }
  var node: Int32
  var term: Int32 = 1
  var votedFor = -1
  /// Entries: (term, request; -1 for a new leader's no-op).
  var log = RaftLog()
  var commitIndex = 0
  var role = Role.follower
  var votes = 0
  var electionDeadline = SimTime.zero
  var timerArmed = false
}

/// A key range's Raft group.
struct RaftGroup {
  var replicas: [RaftReplica]
  /// The last leader elected (where coordinators send requests), -1 before any.
  var leader = 0
  /// The leader's view: each replica's matching log length and last heartbeat round acknowledged.
  var match: [Int]
  var ackedRound: [Int]
  var round = 0
  var lastRound = SimTime(nanoseconds: -1)
  var replicateScheduled = false
  /// The leader has committed an entry of its own term (so it knows the commit index).
  var ready = true
  var readsWaiting: [(request: Int32, round: Int)] = []
}

/// CP mode: a Raft group per key range (`ranges`), on the range's N replicas. The leader appends
/// writes to its log and replicates them (AppendEntries, also its heartbeat every
/// `heartbeat_interval`); an entry is committed once a majority has it (and it is of the
/// leader's term). Reads are linearizable (ReadIndex): the leader confirms it still leads with a
/// heartbeat round acknowledged by a majority, then answers from the committed state. A follower
/// that hears no leader for a random 1-2 `election_timeout` stands for election; a majority of
/// votes (for a candidate whose log is at least as up to date) makes it leader. A coordinator
/// forwards a request to the range's last elected leader and refuses it at once if it cannot
/// reach it; a leader on the minority side of a partition cannot commit, so requests sent to it
/// time out. Nothing is stale and nothing acknowledged is lost; the price is availability.
extension QuorumStore {
  /// Raft logs compact once every replica has committed this many entries past the last step.
  static let raftCompactionStep = 256

  func range(of key: Int) -> Int { Int(StableHash.splitMix64(UInt64(key) &+ 0x2545_f491) % UInt64(p.ranges)) }

  func startRaft() {
    for g in 0..<p.ranges {
      let nodes = preferenceList(at: StableHash.splitMix64(UInt64(g) | 0x7000_0000_0000_0000)).prefix(p.replication)
      var group = RaftGroup(
        replicas: nodes.map { RaftReplica(node: $0) }, match: Array(repeating: 0, count: nodes.count),
        ackedRound: Array(repeating: 0, count: nodes.count))
      group.replicas[0].role = .leader
      group.replicas[0].votedFor = 0
      raft.append(group)
      for s in 1..<max(1, nodes.count) { armTimer(range: g, slot: s) }
      simulator.schedule(after: p.heartbeatInterval, to: me, kind: Kind.heartbeat.rawValue, payload: Int64(g))
    }
  }

  func slot(of node: Int32, in g: Int) -> Int { raft[g].replicas.firstIndex { $0.node == node }! }

  func randomTimeout() -> SimTime {
    SimTime(
      nanoseconds: p.electionTimeout.nanoseconds + Int64(choices.uniform() * Double(p.electionTimeout.nanoseconds)))
  }

  /// (Re)starts a replica's election timer: one event per replica, moved on lazily.
  func armTimer(range g: Int, slot s: Int) {
    raft[g].replicas[s].electionDeadline = simulator.now + randomTimeout()
    guard !raft[g].replicas[s].timerArmed else { return }
    raft[g].replicas[s].timerArmed = true
    simulator.schedule(
      at: raft[g].replicas[s].electionDeadline, to: me, kind: Kind.electionTimer.rawValue,
      payload: Int64(g) << 8 | Int64(s))
  }

  func electionTimer(range g: Int, slot s: Int) {
    raft[g].replicas[s].timerArmed = false
    let r = raft[g].replicas[s]
    guard r.role != .leader else { return }
    guard simulator.now >= r.electionDeadline, platform.isUp(HostID(r.node)) else {
      if simulator.now >= r.electionDeadline { raft[g].replicas[s].electionDeadline = simulator.now + randomTimeout() }
      raft[g].replicas[s].timerArmed = true
      simulator.schedule(
        at: raft[g].replicas[s].electionDeadline, to: me, kind: Kind.electionTimer.rawValue,
        payload: Int64(g) << 8 | Int64(s))
      return
    }
    // Stand for election.
    raft[g].replicas[s].term += 1
    raft[g].replicas[s].role = .candidate
    raft[g].replicas[s].votedFor = s
    raft[g].replicas[s].votes = 1
    armTimer(range: g, slot: s)
    if raft[g].replicas.count == 1 { return becomeLeader(range: g, slot: s) }
    let c = raft[g].replicas[s]
    for other in raft[g].replicas.indices where other != s {
      send(
        Message(
          kind: .requestVote, from: c.node, to: raft[g].replicas[other].node, node: Int32(s), range: Int32(g),
          term: c.term, index: Int32(c.log.count), extra: c.log.lastTerm))
    }
  }

  func stepDown(range g: Int, slot s: Int, term: Int32) {
    if raft[g].replicas[s].role == .leader { dropWaitingReads(range: g) }
    raft[g].replicas[s].term = term
    raft[g].replicas[s].role = .follower
    raft[g].replicas[s].votedFor = -1
    armTimer(range: g, slot: s)
  }

  func raftRequestVote(_ m: Message) {
    let g = Int(m.range)
    let v = slot(of: m.to, in: g)
    if m.term > raft[g].replicas[v].term { stepDown(range: g, slot: v, term: m.term) }
    let r = raft[g].replicas[v]
    let lastTerm = r.log.lastTerm
    let upToDate = m.extra > lastTerm || (m.extra == lastTerm && Int(m.index) >= r.log.count)
    let grant = m.term == r.term && (r.votedFor == -1 || r.votedFor == Int(m.node)) && upToDate
    if grant {
      raft[g].replicas[v].votedFor = Int(m.node)
      armTimer(range: g, slot: v)
    }
    send(Message(kind: .vote, from: m.to, to: m.from, node: m.node, range: m.range, term: r.term, flag: grant))
  }

  func raftVote(_ m: Message) {
    let g = Int(m.range)
    let c = Int(m.node)
    if m.term > raft[g].replicas[c].term { return stepDown(range: g, slot: c, term: m.term) }
    guard m.flag, raft[g].replicas[c].role == .candidate, m.term == raft[g].replicas[c].term else { return }
    raft[g].replicas[c].votes += 1
    if raft[g].replicas[c].votes > raft[g].replicas.count / 2 { becomeLeader(range: g, slot: c) }
  }

  func becomeLeader(range g: Int, slot s: Int) {
    raft[g].replicas[s].role = .leader
    raft[g].leader = s
    raft[g].match = Array(repeating: 0, count: raft[g].replicas.count)
    raft[g].ackedRound = Array(repeating: 0, count: raft[g].replicas.count)
    dropWaitingReads(range: g)
    raft[g].ready = false
    // A no-op of its own term: once committed, the leader knows what is committed.
    raft[g].replicas[s].log.append((raft[g].replicas[s].term, -1))
    replicate(range: g, round: true)
  }

  func heartbeat(range g: Int) {
    simulator.schedule(after: p.heartbeatInterval, to: me, kind: Kind.heartbeat.rawValue, payload: Int64(g))
    let l = raft[g].leader
    guard raft[g].replicas[l].role == .leader, platform.isUp(HostID(raft[g].replicas[l].node)) else { return }
    replicate(range: g, round: true)
  }

  /// The leader sends AppendEntries (its log up to now, its commit index) to every follower;
  /// `round` numbers a heartbeat round that reads wait on.
  func replicate(range g: Int, round: Bool) {
    raft[g].replicateScheduled = false
    let l = raft[g].leader
    let leader = raft[g].replicas[l]
    guard leader.role == .leader else { return }
    if round {
      raft[g].round += 1
      raft[g].lastRound = simulator.now
    }
    raft[g].match[l] = leader.log.count
    raft[g].ackedRound[l] = raft[g].round
    if raft[g].replicas.count == 1 {
      advanceCommit(range: g)
      return serveReads(range: g)
    }
    for f in raft[g].replicas.indices where f != l {
      send(
        Message(
          kind: .appendEntries, from: leader.node, to: raft[g].replicas[f].node, version: Int64(raft[g].round),
          node: Int32(l), range: Int32(g), term: leader.term, index: Int32(leader.log.count),
          extra: Int32(leader.commitIndex)), leg: p.legs.write)
    }
  }

  func raftAppend(_ m: Message) {
    let g = Int(m.range)
    let f = slot(of: m.to, in: g)
    if m.term < raft[g].replicas[f].term {
      send(
        Message(
          kind: .appendAck, from: m.to, to: m.from, node: Int32(f), range: m.range, term: raft[g].replicas[f].term,
          flag: false))
      return
    }
    if m.term > raft[g].replicas[f].term || raft[g].replicas[f].role != .follower {
      stepDown(range: g, slot: f, term: m.term)
    }
    armTimer(range: g, slot: f)
    let l = Int(m.node)
    // The leader's log is only appended to while it leads in this term.
    guard raft[g].replicas[l].term == m.term, raft[g].replicas[l].role == .leader else { return }
    let leaderLog = raft[g].replicas[l].log
    var log = raft[g].replicas[f].log
    var common = min(raft[g].replicas[f].commitIndex, log.count)
    while common < log.count, common < leaderLog.count, log[common] == leaderLog[common] { common += 1 }
    if common < log.count { log.removeLast(log.count - common) }
    if log.count < Int(m.index) { log.append(from: leaderLog, log.count..<Int(m.index)) }
    raft[g].replicas[f].log = log
    raft[g].replicas[f].commitIndex = max(raft[g].replicas[f].commitIndex, min(Int(m.extra), log.count))
    compactLogs(range: g)
    send(
      Message(
        kind: .appendAck, from: m.to, to: m.from, version: m.version, node: Int32(f), range: m.range, term: m.term,
        index: Int32(log.count), flag: true), leg: p.legs.ack)
  }

  func raftAppendAck(_ m: Message) {
    let g = Int(m.range)
    let l = slot(of: m.to, in: g)
    if m.term > raft[g].replicas[l].term { return stepDown(range: g, slot: l, term: m.term) }
    guard m.flag, raft[g].replicas[l].role == .leader, m.term == raft[g].replicas[l].term else { return }
    let f = Int(m.node)
    raft[g].match[f] = max(raft[g].match[f], Int(m.index))
    raft[g].ackedRound[f] = max(raft[g].ackedRound[f], Int(m.version))
    advanceCommit(range: g)
    serveReads(range: g)
  }

  /// The largest log length a majority has, if its last entry is of the leader's term.
  func advanceCommit(range g: Int) {
    let l = raft[g].leader
    let majority = raft[g].match.sorted(by: >)[raft[g].replicas.count / 2]
    let leader = raft[g].replicas[l]
    guard majority > leader.commitIndex, leader.log[majority - 1].term == leader.term else { return }
    for index in leader.commitIndex..<majority {
      let id = leader.log[index].request
      guard id >= 0, requests[Int(id)].version == Int64(index + 1) else { continue }
      committed(id)
      respond(id, ok: true)
    }
    raft[g].replicas[l].commitIndex = majority
    raft[g].ready = true
    compactLogs(range: g)
  }

  /// Snapshots: the entries every replica of the group has committed (so all hold them, alike)
  /// are dropped from every log, and the write requests they named are let go. A replica that is
  /// down or cut off holds the group's logs at its commit index until it is back (Raft would send
  /// it a snapshot instead; the answers do not depend on which). Done in steps of
  /// `raftCompactionStep` entries, so each entry is moved a bounded number of times.
  func compactLogs(range g: Int) {
    guard compactsLogs else { return }
    var applied = Int.max
    for r in raft[g].replicas { applied = min(applied, r.commitIndex) }
    guard applied - raft[g].replicas[0].log.base >= QuorumStore.raftCompactionStep else { return }
    for s in raft[g].replicas.indices {
      let dropped = raft[g].replicas[s].log.compact(below: applied)
      if s == 0 {
        for entry in dropped where entry.request >= 0 { release(entry.request) }
      }
    }
  }

  /// Reads whose heartbeat round a majority has acknowledged are answered from the committed state.
  func serveReads(range g: Int) {
    guard raft[g].ready, !raft[g].readsWaiting.isEmpty else { return }
    let confirmed = raft[g].ackedRound.sorted(by: >)[raft[g].replicas.count / 2]
    var waiting: [(request: Int32, round: Int)] = []
    for read in raft[g].readsWaiting {
      if read.round <= confirmed {
        respond(read.request, ok: true, version: committedMax[Int(requests[Int(read.request)].key)])
        release(read.request)
      } else {
        waiting.append(read)
      }
    }
    raft[g].readsWaiting = waiting
  }

  /// A leader that steps down forgets the reads waiting on it (they time out).
  func dropWaitingReads(range g: Int) {
    let dropped = raft[g].readsWaiting
    raft[g].readsWaiting.removeAll()
    for read in dropped { release(read.request) }
  }

  /// A coordinator forwards to the range's leader, or refuses at once if it cannot reach it.
  func raftCoordinate(_ m: Message) {
    let g = range(of: Int(m.key))
    let leaderNode = raft[g].replicas[raft[g].leader].node
    guard reachable(m.to, leaderNode) else { return respond(m.request, ok: false) }
    requests[Int(m.request)].coordinator = leaderNode  // the leader answers the client itself
    send(Message(kind: .forward, from: m.to, to: leaderNode, request: m.request, key: m.key))
  }

  func raftRequest(_ m: Message) {
    let id = m.request
    let g = range(of: Int(m.key))
    let l = slot(of: m.to, in: g)
    guard raft[g].replicas[l].role == .leader else { return respond(id, ok: false) }
    if requests[Int(id)].isWrite {
      raft[g].replicas[l].log.append((raft[g].replicas[l].term, id))
      // Log entries name the request until every replica has committed it (`compactLogs`).
      retain(id)
      requests[Int(id)].version = Int64(raft[g].replicas[l].log.count)
      if !raft[g].replicateScheduled {
        raft[g].replicateScheduled = true
        simulator.schedule(after: .zero, to: me, kind: Kind.replicate.rawValue, payload: Int64(g))
      }
    } else {
      // ReadIndex: a heartbeat round started after the read arrived must come back from a majority.
      if raft[g].lastRound < simulator.now { replicate(range: g, round: true) }
      raft[g].readsWaiting.append((id, raft[g].round))
      retain(id)
      serveReads(range: g)
    }
  }

  /// A crashed node forgets it led (its term, vote and log are on disk); a returning one waits
  /// for a heartbeat or its election timer.
  func raftTopologyChanged() {
    for g in raft.indices {
      for s in raft[g].replicas.indices where !platform.isUp(HostID(raft[g].replicas[s].node)) {
        if raft[g].replicas[s].role != .follower { stepDown(range: g, slot: s, term: raft[g].replicas[s].term) }
      }
    }
  }
}
