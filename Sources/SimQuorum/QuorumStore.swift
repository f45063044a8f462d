import Foundation
import SimKernel
import SimPlatform

/// The store, its clients and the bookkeeping of what every read saw.
///
/// Store nodes are the first `nodes` hosts; keys sit on a consistent-hash ring with `vnodes`
/// tokens per node; a key's replicas are the first N distinct nodes clockwise from its hash. A
/// client sends each request to a random store node it can reach (the coordinator). Every
/// message is a kernel event after its delay (a leg's distribution, or the network's latency),
/// sent only if the two hosts can reach each other and dropped on arrival if they no longer
/// can. The replication protocols are in QuorumStore+AP.swift (quorums, sloppy quorums, hinted
/// handoff, read repair, anti-entropy) and QuorumStore+Raft.swift (a Raft group per key range).
final class QuorumStore: EventHandler, PlatformObserver {
  enum Kind: Int32 {
    case arrival = 0  // payload: client group
    case deliver = 1  // payload: message slot
    case timeout = 2  // payload: request
    case handoff = 3
    case antiEntropy = 4  // payload: node
    case sample = 5
    case endOfWarmup = 6
    case electionTimer = 7  // payload: range << 8 | slot
    case heartbeat = 8  // payload: range
    case replicate = 9  // payload: range
  }

  enum MessageKind: UInt8 {
    case request, response, forward, write, writeAck, read, readReply, repair, hint, syncRequest, syncReply
    case appendEntries, appendAck, requestVote, vote
  }

  /// One message in flight. Fields are used as each kind needs them.
  struct Message {
    var kind: MessageKind
    var from: Int32  // host
    var to: Int32  // host
    var request: Int32 = -1
    var key: Int32 = 0
    var version: Int64 = -1
    var node: Int32 = -1  // a hint's intended replica; a Raft slot
    var range: Int32 = 0
    var term: Int32 = 0
    var index: Int32 = 0
    var extra: Int32 = 0
    var flag = false
  }

  enum Outcome: UInt8 { case pending, succeeded, failed }

  struct Request {
    var group: Int32
    var client: Int32  // host
    var key: Int32
    var isWrite: Bool
    var start: SimTime
    var counted: Bool
    var coordinator: Int32 = -1
    var outcome = Outcome.pending
    /// Write: its version. Read: the newest version among the replies so far.
    var version: Int64 = -1
    /// The newest version committed when the request started, and when it was committed.
    var expected: Int64 = -1
    var expectedAt = SimTime.zero
    var acks: Int8 = 0
    var replies: Int8 = 0
    var answered = false
    /// Write: the newest version its acknowledging replicas held before it (divergence).
    var priorMax: Int64 = -1
    /// Read: who answered what (for read repair).
    var seen: [(node: Int32, version: Int64)] = []
    /// What still refers to this slot: messages in flight, its timeout, a request that started
    /// while it was its key's newest committed write, being that write now, a Raft log or a
    /// waiting read. A finished request nothing refers to is freed and its slot reused. (A
    /// request's refs name no older request once it is committed or freed: no chains.)
    var refs: Int32 = 0
    /// A write's `expected` write (a slot it holds a reference to until it commits), or -1.
    var expectedWriter: Int32 = -1
    /// A write that last-write-wins dropped (counted as lost if it was acknowledged).
    var shadowed = false
    /// A write probed for t-visibility (PBS): when its message reaches each replica (nil: never sent).
    var probeArrivals: [SimTime?] = []
  }

  let p: QuorumParameters
  unowned let platform: Platform
  unowned let simulator: Simulator
  var me = EntityID(0)
  let warmup: SimTime
  let sampleInterval: SimTime?
  // Placement.
  /// Ring tokens (hash, node), sorted by hash.
  var ring: [(token: UInt64, node: Int32)] = []
  /// Each key's preference list: every node, in ring order from the key (the first N are its replicas).
  var preference: [[Int32]] = []
  var latency: [[SimTime]] = []
  // Randomness.
  let arrivals: RandomStream
  let choices: RandomStream
  let legStream: RandomStream
  /// PBS probe reads' choices and legs: their own stream, so probing does not change client traffic.
  let probeStream: RandomStream
  /// Zipf key popularity, drawn with the kernel's alias table (nil: uniform keys).
  var keyTable: DiscreteTable?
  // Messages and requests.
  var messages: [Message] = []
  var freeMessages: [Int32] = []
  var requests: [Request] = []
  var freeRequests: [Int32] = []
  var nextVersion: Int64 = 0
  // AP state.
  var store: [[Int64]] = []  // store[node][key]
  var hints: [[(intended: Int32, key: Int32, version: Int64)]] = []
  var antiEntropyRound: [Int] = []
  // Raft state (QuorumStore+Raft.swift).
  var raft: [RaftGroup] = []
  /// Raft logs drop what every replica has committed (`compactLogs`); off only in a test that
  /// checks the answers do not depend on it.
  var compactsLogs = true
  // Ground truth: what was committed, when.
  var committedMax: [Int64] = []
  var committedAt: [SimTime] = []
  /// Per key, the write of `committedMax` (a slot this holds a reference to), or -1.
  var committedWriter: [Int32] = []
  /// Per key, committed (version, time), in version order (the last 32).
  var history: [[(version: Int64, time: SimTime)]] = []
  /// Acknowledged writes that last-write-wins dropped.
  var lostByLWW = 0
  // Statistics.
  var readLatency = LatencyHistogram()
  var writeLatency = LatencyHistogram()
  var succeeded: [Int] = []
  var failed: [Int] = []
  var reads = 0
  var staleReads = 0
  var behind: [Int] = [0, 0, 0, 0]  // reads 0, 1, 2, 3+ versions behind
  var conflicts = 0
  var hintsPending = 0
  /// Requests answered (either way) and answered successfully since the start of the run, and
  /// the successful ones' latencies summed: the steady-state signals.
  var answeredTotal = 0
  var succeededTotal = 0
  var latencySumTotal = 0.0
  var backlog = TimeWeightedAverage()
  var backlogMax = 0
  /// Load visibility: client reads by time since the newest commit before them (log bins, 10
  /// per decade from 10 us), with how many of them returned it.
  var visibilityCount = Array(repeating: 0, count: 80)
  var visibilityFresh = Array(repeating: 0, count: 80)
  var visibilityExact: [(count: Int, fresh: Int)] = []
  /// PBS t-visibility (QuorumStore+Probes.swift): probed writes, how many of their probe reads
  /// were consistent by each `visibility_t`, and each probe's exact time to consistency.
  var probes = 0
  var probesNever = 0
  var probeConsistent: [Int] = []
  var timeToConsistency = LatencyHistogram()
  // Convergence after healing.
  var healedAt: SimTime?
  var fullyConnected = true
  var convergence: [Double] = []
  // Time series over the last sample interval.
  var intervalDone = 0
  var intervalOK = 0
  var intervalReads = 0
  var intervalStale = 0
  var intervalGroupDone: [Int] = []
  var intervalGroupOK: [Int] = []
  var series = TimeSeries()

  init(parameters: QuorumParameters, platform: Platform, simulator: Simulator, context: RunContext) {
    p = parameters
    self.platform = platform
    self.simulator = simulator
    warmup = context.warmup
    sampleInterval = context.timeseriesInterval
    arrivals = context.streams.stream("quorum.arrivals")
    choices = context.streams.stream("quorum.choices")
    legStream = context.streams.stream("quorum.legs")
    probeStream = context.streams.stream("quorum.probes")
    me = simulator.register(self)
    platform.addObserver(self)
    platform.assignRole("replica", hosts: (0..<Int32(p.nodes)).map(HostID.init))
    platform.assignRole("client", hosts: p.clients.flatMap(\.hosts).map(HostID.init))
    buildRing()
    latency = (0..<platform.hostCount).map { a in
      (0..<platform.hostCount).map { b in platform.latency(from: HostID(Int32(a)), to: HostID(Int32(b))) }
    }
    if let skew = p.keySkew {
      // Positive, finite weights: the table cannot refuse them.
      keyTable = try! DiscreteTable(weights: (0..<p.keys).map { pow(Double($0 + 1), -skew) })
    }
    committedMax = Array(repeating: -1, count: p.keys)
    committedAt = Array(repeating: .zero, count: p.keys)
    committedWriter = Array(repeating: -1, count: p.keys)
    probeConsistent = Array(repeating: 0, count: p.visibilityTimes.count)
    history = Array(repeating: [], count: p.keys)
    succeeded = Array(repeating: 0, count: p.clients.count)
    intervalGroupDone = succeeded
    intervalGroupOK = succeeded
    failed = Array(repeating: 0, count: p.clients.count)
    visibilityExact = Array(repeating: (0, 0), count: p.visibilityTimes.count)
    switch p.mode {
    case .ap: startAP()
    case .cp: startRaft()
    }
    for g in p.clients.indices { scheduleArrival(g) }
    if warmup > .zero { simulator.schedule(at: warmup, to: me, kind: Kind.endOfWarmup.rawValue) }
    if let interval = sampleInterval { simulator.schedule(after: interval, to: me, kind: Kind.sample.rawValue) }
  }

  // MARK: Placement

  func buildRing() {
    for node in 0..<p.nodes {
      for v in 0..<p.vnodes {
        ring.append((StableHash.splitMix64(UInt64(node) << 32 | UInt64(v)), Int32(node)))
      }
    }
    ring.sort { $0.token < $1.token }
    preference = (0..<p.keys).map { preferenceList(at: StableHash.splitMix64(UInt64($0) ^ 0x5bd1_e995_0000_0000)) }
  }

  /// Every node once, in ring order clockwise from `position`.
  func preferenceList(at position: UInt64) -> [Int32] {
    var lo = 0
    var hi = ring.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if ring[mid].token < position { lo = mid + 1 } else { hi = mid }
    }
    var list: [Int32] = []
    var i = lo
    while list.count < p.nodes {
      let node = ring[i % ring.count].node
      if !list.contains(node) { list.append(node) }
      i += 1
    }
    return list
  }

  func replicas(of key: Int) -> ArraySlice<Int32> { preference[key].prefix(p.replication) }

  // MARK: Messages

  func host(_ node: Int32) -> HostID { HostID(node) }

  func reachable(_ a: Int32, _ b: Int32) -> Bool { platform.reachable(HostID(a), HostID(b)) }

  /// Sends a message after `leg`'s delay (or the network's latency): when it arrives, or nil
  /// if it cannot go.
  @discardableResult
  func send(_ message: Message, leg: Distribution? = nil) -> SimTime? {
    guard reachable(message.from, message.to) else { return nil }
    let delay = leg.map { $0.sampleTime(legStream) } ?? latency[Int(message.from)][Int(message.to)]
    let slot: Int32
    if let free = freeMessages.popLast() {
      slot = free
      messages[Int(slot)] = message
    } else {
      messages.append(message)
      slot = Int32(messages.count - 1)
    }
    if message.request >= 0 { retain(message.request) }
    simulator.schedule(after: delay, to: me, kind: Kind.deliver.rawValue, payload: Int64(slot))
    return simulator.now + delay
  }

  func deliver(_ slot: Int32) {
    let m = messages[Int(slot)]
    freeMessages.append(slot)
    defer { if m.request >= 0 { release(m.request) } }
    guard reachable(m.from, m.to) else { return }  // the way closed while it travelled
    switch m.kind {
    case .request: coordinate(m)
    case .response: answered(m)
    case .forward: raftRequest(m)
    case .write: apWrite(m)
    case .writeAck: apWriteAck(m)
    case .read: apRead(m)
    case .readReply: apReadReply(m)
    case .repair, .hint: apply(node: m.to, key: m.key, version: m.version)
    case .syncRequest: send(Message(kind: .syncReply, from: m.to, to: m.from))
    case .syncReply: reconcile(m.to, m.from)
    case .appendEntries: raftAppend(m)
    case .appendAck: raftAppendAck(m)
    case .requestVote: raftRequestVote(m)
    case .vote: raftVote(m)
    }
  }

  // MARK: Events

  func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .arrival: arrive(group: Int(event.payload))
    case .deliver: deliver(Int32(event.payload))
    case .timeout: timedOut(Int32(event.payload))
    case .handoff: handoff()
    case .antiEntropy: antiEntropy(node: Int32(event.payload))
    case .electionTimer: electionTimer(range: Int(event.payload >> 8), slot: Int(event.payload & 0xFF))
    case .heartbeat: heartbeat(range: Int(event.payload))
    case .replicate: replicate(range: Int(event.payload), round: false)
    case .endOfWarmup:
      readLatency.reset()
      writeLatency.reset()
      backlog.reset(at: simulator.now)
    case .sample:
      let now = simulator.now
      series.append(
        time: now, metric: "quorum.availability",
        value: intervalDone > 0 ? Double(intervalOK) / Double(intervalDone) : .nan)
      series.append(
        time: now, metric: "quorum.stale_read_fraction",
        value: intervalReads > 0 ? Double(intervalStale) / Double(intervalReads) : .nan)
      series.append(time: now, metric: "quorum.hint_backlog", value: Double(hintsPending))
      for (g, group) in p.clients.enumerated() {
        let done = intervalGroupDone[g]
        series.append(
          time: now, metric: "quorum.availability.\(group.name)",
          value: done > 0 ? Double(intervalGroupOK[g]) / Double(done) : .nan)
      }
      (intervalDone, intervalOK, intervalReads, intervalStale) = (0, 0, 0, 0)
      intervalGroupDone = Array(repeating: 0, count: p.clients.count)
      intervalGroupOK = intervalGroupDone
      if let interval = sampleInterval { simulator.schedule(after: interval, to: me, kind: Kind.sample.rawValue) }
    case nil: preconditionFailure("unknown quorum event")
    }
  }

  // MARK: Clients

  func scheduleArrival(_ g: Int) {
    simulator.schedule(
      after: SimTime(seconds: arrivals.exponential(mean: 1 / p.clients[g].rate)), to: me, kind: Kind.arrival.rawValue,
      payload: Int64(g))
  }

  func drawKey() -> Int {
    guard let table = keyTable else { return choices.uniformInt(p.keys) }
    return choices.discrete(table)
  }

  /// A client issues a request to a random store node it can reach.
  func arrive(group g: Int) {
    scheduleArrival(g)
    let group = p.clients[g]
    let client = group.hosts[choices.uniformInt(group.hosts.count)]
    let key = drawKey()
    let isWrite = choices.uniform() >= group.readFraction
    let now = simulator.now
    var request = Request(
      group: Int32(g), client: client, key: Int32(key), isWrite: isWrite, start: now, counted: now >= warmup)
    request.expected = committedMax[key]
    request.expectedAt = committedAt[key]
    if isWrite, committedWriter[key] >= 0 {
      request.expectedWriter = committedWriter[key]
      retain(request.expectedWriter)
    }
    let id = allocate(request)
    retain(id)  // its timeout
    simulator.schedule(after: p.requestTimeout, to: me, kind: Kind.timeout.rawValue, payload: Int64(id))
    guard platform.isUp(HostID(client)) else { return }  // it times out
    let candidates = (0..<Int32(p.nodes)).filter { reachable(client, $0) }
    guard !candidates.isEmpty else { return finish(id, ok: false) }
    let coordinator = candidates[choices.uniformInt(candidates.count)]
    requests[Int(id)].coordinator = coordinator
    send(Message(kind: .request, from: client, to: coordinator, request: id, key: Int32(key)))
  }

  /// The coordinator answers the client.
  func respond(_ id: Int32, ok: Bool, version: Int64 = -1) {
    let r = requests[Int(id)]
    send(Message(kind: .response, from: r.coordinator, to: r.client, request: id, version: version, flag: ok))
  }

  func answered(_ m: Message) {
    let id = m.request
    guard requests[Int(id)].outcome == .pending else { return }
    if m.flag, !requests[Int(id)].isWrite { requests[Int(id)].version = m.version }
    finish(id, ok: m.flag)
  }

  func timedOut(_ id: Int32) {
    if requests[Int(id)].outcome == .pending { finish(id, ok: false) }
    release(id)
  }

  // MARK: Request slots

  /// A slot for a new request: a freed one, or a new one.
  func allocate(_ request: Request) -> Int32 { requests.store(request, reusing: &freeRequests) }

  func retain(_ id: Int32) { requests[Int(id)].refs += 1 }

  /// Drops a reference; a finished request nothing refers to any more is freed (and so, in
  /// turn, may be the write it referred to).
  func release(_ id: Int32) {
    var id = id
    while id >= 0 {
      requests[Int(id)].refs -= 1
      let r = requests[Int(id)]
      precondition(r.refs >= 0, "a quorum request released more often than retained")
      guard r.refs == 0, r.outcome != .pending else { return }
      requests[Int(id)].seen = []
      requests[Int(id)].probeArrivals = []
      freeRequests.append(id)
      id = r.expectedWriter
    }
  }

  /// A write that last-write-wins drops: lost if it was (or will be) acknowledged.
  func shadow(_ id: Int32) {
    guard !requests[Int(id)].shadowed else { return }
    requests[Int(id)].shadowed = true
    if requests[Int(id)].outcome == .succeeded { lostByLWW += 1 }
  }

  /// The client's verdict: success (answered in time) or failure; a successful read is checked
  /// against what had been committed when it started.
  func finish(_ id: Int32, ok: Bool) {
    requests[Int(id)].outcome = ok ? .succeeded : .failed
    let r = requests[Int(id)]
    if ok, r.isWrite, r.shadowed { lostByLWW += 1 }
    // The steady-state signals count from the start of the run, warm-up included.
    answeredTotal += 1
    if ok {
      succeededTotal += 1
      latencySumTotal += (simulator.now - r.start).seconds
    }
    guard r.counted else { return }
    intervalDone += 1
    intervalGroupDone[Int(r.group)] += 1
    guard ok else {
      failed[Int(r.group)] += 1
      return
    }
    intervalOK += 1
    intervalGroupOK[Int(r.group)] += 1
    succeeded[Int(r.group)] += 1
    let elapsed = simulator.now - r.start
    if r.isWrite {
      writeLatency.record(elapsed)
      return
    }
    readLatency.record(elapsed)
    guard r.expected >= 0 else { return }  // nothing committed yet: nothing to be stale against
    reads += 1
    intervalReads += 1
    let fresh = r.version >= r.expected
    if !fresh {
      staleReads += 1
      intervalStale += 1
    }
    // How many committed versions newer than the one returned had been committed by the start.
    var newer = 0
    for entry in history[Int(r.key)].reversed() where entry.version > r.version {
      if entry.time <= r.start { newer += 1 }
    }
    behind[min(newer, 3)] += 1
    // t-visibility: by the time between the newest commit and the read's start.
    let since = (r.start - r.expectedAt).seconds
    let bin = since < 1e-5 ? 0 : min(79, Int((log10(since) + 5) * 10) + 1)
    visibilityCount[bin] += 1
    if fresh { visibilityFresh[bin] += 1 }
    for (j, t) in p.visibilityTimes.enumerated() {
      let upper = j + 1 < p.visibilityTimes.count ? p.visibilityTimes[j + 1] : SimTime.max
      if r.start - r.expectedAt >= t, r.start - r.expectedAt < upper {
        visibilityExact[j].count += 1
        if fresh { visibilityExact[j].fresh += 1 }
      }
    }
  }

  /// A write reached its quorum (W acks, or a Raft majority): it is committed now.
  func committed(_ id: Int32) {
    let r = requests[Int(id)]
    let key = Int(r.key)
    let now = simulator.now
    if r.version > committedMax[key] {
      committedMax[key] = r.version
      committedAt[key] = now
      let previous = committedWriter[key]
      committedWriter[key] = id
      retain(id)
      if previous >= 0 { release(previous) }
    }
    var h = history[key]
    let at = h.firstIndex { $0.version > r.version } ?? h.count
    h.insert((r.version, now), at: at)
    if h.count > 32 { h.removeFirst(h.count - 32) }
    history[key] = h
    // A write whose quorum had not seen the newest version committed before it started diverges
    // from it (last-write-wins then drops one of the two, the older): a conflict.
    if p.mode == .ap, r.expected >= 0, r.priorMax < r.expected {
      conflicts += 1
      if r.version < r.expected {
        shadow(id)
      } else if r.expectedWriter >= 0, requests[Int(r.expectedWriter)].version == r.expected {
        shadow(r.expectedWriter)
      }
    }
    if r.expectedWriter >= 0 {
      requests[Int(id)].expectedWriter = -1
      release(r.expectedWriter)
    }
    if p.mode == .ap, !r.probeArrivals.isEmpty, now >= warmup { probe(id) }
  }

  func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator) { topologyChanged() }
  func reachabilityChanged(in simulator: Simulator) { topologyChanged() }

  /// After a heal, convergence is timed from the moment every node reaches every other.
  func topologyChanged() {
    if p.mode == .cp { return raftTopologyChanged() }
    let all = (0..<Int32(p.nodes)).allSatisfy { a in (0..<Int32(p.nodes)).allSatisfy { reachable(a, $0) } }
    if all, !fullyConnected {
      if converged() { convergence.append(0) } else { healedAt = simulator.now }
    }
    if !all { healedAt = nil }
    fullyConnected = all
  }
}
