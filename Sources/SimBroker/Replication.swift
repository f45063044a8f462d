import SimKernel
import SimPlatform

/// A follower broker's fetcher from one leader broker (Kafka's replica fetcher thread): one
/// fetch covers every partition the leader leads and the follower replicates.
struct ReplicaFetcher {
  var follower: Int
  var leader: Int
  /// Which of the `num.replica.fetchers` threads for this leader: it fetches the partitions
  /// whose number is `slot` modulo their count.
  var slot: Int
  /// When the parked request is answered even without `replica.fetch.min.bytes` of data.
  var deadline: SimTime?
  /// A request is out (on its way, parked at the leader, or its response on its way).
  var fetching = false
  /// The request parked at the leader for want of data (`replica.fetch.wait.max.ms`), answered
  /// early by new data.
  var poll: EventHandle?
  /// Bumped when either broker crashes: messages of an older generation are stale.
  var generation: Int64 = 0
}

/// What one fetch carries for one partition: `count` batches of the leader's log from `from`,
/// whose end was `leaderEnd` when the leader answered.
struct FetchEntry {
  var partition: Int
  var replica: Int
  var epoch: Int
  var from: Int
  var count: Int
  var leaderEnd: Int
  var bytes: Double
}

struct FetchRound {
  var fetcher: Int
  var generation: Int64
  var started: SimTime
  var entries: [FetchEntry]
}

extension BrokerCluster {
  func startReplication() {
    for follower in 0..<p.brokers {
      for leader in 0..<p.brokers {
        for slot in 0..<p.replicaFetchers {
          fetchers.append(ReplicaFetcher(follower: follower, leader: leader, slot: slot))
        }
      }
    }
    for f in fetchers.indices { scheduleFetch(f, after: .zero) }
  }

  func scheduleFetch(_ f: Int, after delay: SimTime) {
    simulator.schedule(after: delay, to: me, kind: Kind.replicaFetch.rawValue, payload: Int64(f))
  }

  func fetcherTag(_ purpose: Purpose, _ f: Int) -> Int64 { tag(purpose, fetchers[f].generation << 24 | Int64(f)) }

  /// The follower sends a fetch request (its log ends are the offsets it asks from).
  func replicaFetch(_ f: Int) {
    let follower = fetchers[f].follower
    let leaderBroker = fetchers[f].leader
    guard follower != leaderBroker, alive[follower], alive[leaderBroker], !fetchers[f].fetching else { return }
    if appendsStall(follower) {
      if !storage[follower].stalledFetchers.contains(f) { storage[follower].stalledFetchers.append(f) }
      return
    }
    fetchers[f].fetching = true
    platform.message(
      from: host(of: follower), to: host(of: leaderBroker), observer: self, tag: fetcherTag(.fetchRequest, f))
  }

  func fetchRequestArrived(_ id: Int64) {
    let f = Int(id & 0xFF_FFFF)
    guard id >> 24 == fetchers[f].generation else { return }
    guard alive[fetchers[f].leader], alive[fetchers[f].follower] else { return fetchFailed(f) }
    requestArrived(.fetch(fetcher: f, generation: fetchers[f].generation), broker: fetchers[f].leader)
  }

  /// The leader learns how far the follower has got (which may move it into the ISR and the
  /// high watermark on) and answers with up to `replica.fetch.max.bytes` per partition and
  /// `replica.fetch.response.max.bytes` in all (at least one batch), or parks the request until
  /// it has data.
  func serveFetch(_ f: Int) {
    let follower = fetchers[f].follower
    let leaderBroker = fetchers[f].leader
    guard fetchers[f].fetching, alive[follower], alive[leaderBroker] else { return }
    let now = simulator.now
    var entries: [FetchEntry] = []
    var total = 0.0
    for i in ledBy[leaderBroker] where i % p.replicaFetchers == fetchers[f].slot {
      let r = replicaOn[i][follower]
      guard r >= 0, let leader = partitions[i].leader else { continue }
      let from = partitions[i].replicas[r].log.count
      let end = partitions[i].replicas[leader].log.count
      if from >= end { partitions[i].replicas[r].lastCaughtUp = now }
      expandISR(i, r)
      updateHighWatermark(i)
      guard from < end, total < p.replicaFetchResponseMaxBytes else { continue }
      var count = 0
      var size = 0.0
      while from + count < end {
        let b = bytes(partitions[i].replicas[leader].log[from + count])
        if count > 0, size + b > p.replicaFetchMaxBytes || total + size + b > p.replicaFetchResponseMaxBytes { break }
        size += b
        count += 1
      }
      entries.append(
        FetchEntry(
          partition: i, replica: r, epoch: partitions[i].epoch, from: from, count: count, leaderEnd: end, bytes: size))
      total += size
    }
    // Parked until `replica.fetch.min.bytes` are there or the wait ends; an empty answer at the
    // end of the wait is followed at once by the next request, so the request stays parked.
    var deadline = fetchers[f].deadline ?? now + p.replicaFetchWaitMax
    if entries.isEmpty || total < p.replicaFetchMinBytes && now < deadline {
      if now >= deadline { deadline = now + p.replicaFetchWaitMax }
      fetchers[f].deadline = deadline
      fetchers[f].poll = simulator.schedule(at: deadline, to: me, kind: Kind.fetchWait.rawValue, payload: Int64(f))
      return
    }
    fetchers[f].deadline = nil
    nextFetchRound += 1
    fetchRounds[nextFetchRound] = FetchRound(
      fetcher: f, generation: fetchers[f].generation, started: now, entries: entries)
    platform.transfer(
      bytes: total, from: host(of: leaderBroker), to: host(of: follower), observer: self,
      tag: tag(.replicaFetch, nextFetchRound))
  }

  /// The parked request's wait ended (time out, or new data): the leader answers it again.
  func fetchWaitEnded(_ f: Int) {
    fetchers[f].poll = nil
    serveFetch(f)
  }

  /// The fetched data reached the follower: its fetcher thread checks and appends it (its bytes
  /// at `append_rate` on the follower's cores), then fetches again.
  func fetchArrived(_ id: Int64) {
    guard let round = fetchRounds[id], round.generation == fetchers[round.fetcher].generation else {
      fetchRounds.removeValue(forKey: id)
      return
    }
    let fetched = round.entries.reduce(0.0) { $0 + $1.bytes }
    let cost = seconds(bytes: fetched, at: p.appendRate)
    guard cost > 0, alive[fetchers[round.fetcher].follower] else { return followerAppended(id) }
    platform.compute(
      work: work(cost), host: host(of: fetchers[round.fetcher].follower), observer: self,
      tag: tag(.followerAppend, id))
  }

  /// The follower appends what it fetched (if nothing changed meanwhile), then fetches again.
  func followerAppended(_ id: Int64) {
    guard let round = fetchRounds.removeValue(forKey: id) else { return }
    let f = round.fetcher
    guard round.generation == fetchers[f].generation else { return }
    fetchers[f].fetching = false
    let follower = fetchers[f].follower
    guard alive[follower] else { return }
    var written = 0.0
    for e in round.entries {
      let i = e.partition
      guard partitions[i].epoch == e.epoch, partitions[i].replicas[e.replica].log.count == e.from,
        let leader = partitions[i].leader
      else { continue }
      let fetched = Array(partitions[i].replicas[leader].log[e.from..<(e.from + e.count)])
      partitions[i].replicas[e.replica].log.append(contentsOf: fetched)
      var entryBytes = 0.0
      for batch in fetched {
        written += bytes(batch)
        entryBytes += bytes(batch)
      }
      dirtied(entryBytes, broker: follower, partition: i)
      if e.from + e.count >= e.leaderEnd { partitions[i].replicas[e.replica].lastCaughtUp = round.started }
    }
    appended(written, broker: follower)
    replicaFetch(f)
  }

  func fetchRoundFailed(_ id: Int64) {
    guard let round = fetchRounds.removeValue(forKey: id), round.generation == fetchers[round.fetcher].generation
    else { return }
    fetchFailed(round.fetcher)
  }

  /// A fetch request or response was lost: the follower tries again after the back-off.
  func fetchFailed(_ f: Int) {
    fetchers[f].fetching = false
    scheduleFetch(f, after: p.retryBackoff)
  }

  /// A broker crashed: its fetchers, and those fetching from it, start afresh.
  func resetFetchers(of broker: Int) {
    for f in fetchers.indices where fetchers[f].follower == broker || fetchers[f].leader == broker {
      if let poll = fetchers[f].poll { simulator.cancel(poll) }
      fetchers[f].poll = nil
      fetchers[f].deadline = nil
      fetchers[f].fetching = false
      fetchers[f].generation += 1
    }
  }

  /// The leader appended to partition `i`: parked fetch requests of its followers are answered.
  func wakeFetchers(of i: Int) {
    guard let leader = partitions[i].leader else { return }
    let leaderBroker = partitions[i].replicas[leader].broker
    for r in partitions[i].replicas.indices where r != leader {
      let f = (partitions[i].replicas[r].broker * p.brokers + leaderBroker) * p.replicaFetchers + i % p.replicaFetchers
      if let poll = fetchers[f].poll {
        simulator.cancel(poll)
        fetchers[f].poll = nil
        simulator.schedule(after: .zero, to: me, kind: Kind.fetchWait.rawValue, payload: Int64(f))
      }
    }
  }

  /// Leadership moved: parked requests are answered afresh, idle fetchers start.
  func restartFetchers() {
    for f in fetchers.indices {
      if let poll = fetchers[f].poll {
        simulator.cancel(poll)
        fetchers[f].poll = nil
        simulator.schedule(after: .zero, to: me, kind: Kind.fetchWait.rawValue, payload: Int64(f))
      } else {
        scheduleFetch(f, after: .zero)
      }
    }
  }

  /// The high watermark: the shortest log among the in-sync replicas. Requests whose batches
  /// it passes are answered (acks=all).
  func updateHighWatermark(_ i: Int) {
    guard let leader = partitions[i].leader else { return }
    var hw = partitions[i].replicas[leader].log.count
    for r in partitions[i].isr { hw = min(hw, partitions[i].replicas[r].log.count) }
    guard hw > partitions[i].highWatermark else { return }
    partitions[i].highWatermark = hw
    consumerGroups?.highWatermarkMoved(i)
    while partitions[i].waitingHead < partitions[i].waiting.count,
      partitions[i].waiting[partitions[i].waitingHead].needed <= hw
    {
      let id = partitions[i].waiting[partitions[i].waitingHead].request
      partitions[i].waitingHead += 1
      requestDurable(id)
    }
    if partitions[i].waitingHead == partitions[i].waiting.count {
      partitions[i].waiting.removeAll(keepingCapacity: true)
      partitions[i].waitingHead = 0
    }
  }

  func expandISR(_ i: Int, _ r: Int) {
    // ISR changes go through the controller: a leader cut off from it cannot make them.
    guard let leader = partitions[i].leader, !partitions[i].isr.contains(r), eligible(partitions[i].replicas[r].broker),
      eligible(partitions[i].replicas[leader].broker), controllerAlive
    else { return }
    if partitions[i].replicas[r].log.count >= partitions[i].replicas[leader].log.count
      || partitions[i].replicas[r].log.count >= partitions[i].highWatermark
        && partitions[i].replicas[r].lastCaughtUp == simulator.now
    {
      partitions[i].isr.append(r)
      partitions[i].isr.sort()
      trackReplication()
    }
  }

  /// Followers that have not caught up within replica.lag.time.max leave the ISR.
  func checkISR() {
    for i in partitions.indices {
      // ISR changes go through the controller: a leader cut off from it cannot make them.
      guard let leader = partitions[i].leader, eligible(partitions[i].replicas[leader].broker), controllerAlive
      else { continue }
      let before = partitions[i].isr.count
      // Decide first, then modify: the closure must not read `partitions` while it is changed.
      let replicas = partitions[i].replicas
      let now = simulator.now
      let lagMax = p.replicaLagTimeMax
      partitions[i].isr.removeAll { r in r != leader && now - replicas[r].lastCaughtUp > lagMax }
      if partitions[i].isr.count != before {
        updateHighWatermark(i)
        trackReplication()
      }
    }
  }
}
