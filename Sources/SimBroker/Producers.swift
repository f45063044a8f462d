import Foundation
import SimKernel
import SimModel
import SimPlatform

/// A source of batches: one producer's records for one partition (keyed records), or all its
/// records (the sticky partitioner, which fills one batch at a time and picks a partition per batch).
struct ProducerStream {
  var producer: Int
  var partition: Int  // -1: sticky
  var rate: Double
  /// When the next batch's first record arrives.
  var next: SimTime
  /// The batch records go to (-1: none, the producer is blocked), when its first record came,
  /// and when it would be full.
  var open: Int32 = -1
  var opened = SimTime.zero
  var full = SimTime.zero
  /// Counts the batches opened (stale `batchFull` events carry an older count).
  var generation: Int64 = 0
  var paused = false
}

/// A produce request: at most one batch per partition, to one broker.
struct ProduceRequest {
  var producer: Int
  var broker: Int
  var batches: [Int32]
  /// Their bytes on the wire (what the broker's threads spend CPU on).
  var bytes: Double
  var sent: SimTime
  /// acks=all: batches the high watermark has still to pass.
  var awaiting = 0
  /// Batches the leader refused (not the leader, NOT_ENOUGH_REPLICAS): sent again after the back-off.
  var refused: [Int32] = []
}

extension BrokerCluster {
  var expiryCheckInterval: SimTime { min(.seconds(1), SimTime(nanoseconds: p.deliveryTimeout.nanoseconds / 10)) }

  func startProducers() {
    let clientHosts = platform.hostCount - p.brokers
    for producer in 0..<p.producers {
      producerHosts.append(HostID(Int32(p.brokers + producer % clientHosts)))
    }
    platform.assignRole("producer", hosts: producerHosts)
    bufferUsed = Array(repeating: 0, count: p.producers)
    blockedSince = Array(repeating: nil, count: p.producers)
    pausedStreams = Array(repeating: RingBuffer(), count: p.producers)
    pending = Array(repeating: [], count: p.producers * p.partitions)
    pendingHead = Array(repeating: 0, count: p.producers * p.partitions)
    retryAfter = Array(repeating: .zero, count: p.producers * p.partitions)
    inFlight = Array(repeating: 0, count: p.producers * p.brokers)
    outstanding = Array(repeating: [], count: p.producers * p.brokers)
    timerSet = Array(repeating: false, count: p.producers * p.brokers)
    let weights = partitionWeights()
    for producer in 0..<p.producers {
      if let weights {
        for (i, w) in weights.enumerated() where w > 0 {
          streams.append(ProducerStream(producer: producer, partition: i, rate: p.producerRate * w, next: .zero))
        }
      } else {
        streams.append(ProducerStream(producer: producer, partition: -1, rate: p.producerRate, next: .zero))
      }
    }
    for s in streams.indices {
      streams[s].next = SimTime(seconds: arrivals.exponential(mean: 1 / streams[s].rate))
      openBatch(s)
    }
    simulator.schedule(after: expiryCheckInterval, to: me, kind: Kind.expireBatches.rawValue)
  }

  /// Each partition's share of the records when records have keys: a key's partition is a hash
  /// of the key (a fixed 64-bit mix in place of murmur2), so even uniform keys load partitions
  /// unevenly, and Zipf keys put their hottest key's load on one partition. Nil: no keys.
  func partitionWeights() -> [Double]? {
    if p.roundRobin { return Array(repeating: 1 / Double(p.partitions), count: p.partitions) }
    guard p.keys != .none else { return nil }
    var weights = Array(repeating: 0.0, count: p.partitions)
    for key in 0..<p.keyCount {
      weights[Self.partition(ofKey: key, partitions: p.partitions)] +=
        p.keys == .zipf ? pow(Double(key + 1), -p.keySkew) : 1
    }
    let total = weights.reduce(0, +)
    return weights.map { $0 / total }
  }

  static func partition(ofKey key: Int, partitions: Int) -> Int {
    KeyPartitioning.partition(ofKey: key, partitions: partitions)
  }

  /// Buffer memory a batch holds from its creation to its end (Kafka allocates `batch.size`).
  func allocation(_ batch: Int32) -> Double { max(p.batchSize, bytes(batch)) }

  /// The next batch of a stream, as Kafka's record accumulator fills it: records are appended to
  /// a partition's last batch until it is full or the sender drains it. It is ready to send
  /// when full or `linger` after its first record, and is drained (closed) when the sender has
  /// room on the connection (`max.in.flight.requests.per.connection`), so under load a batch goes
  /// on filling past its linger, at linger 0 too. Arrivals are Poisson: the batch would be full
  /// at the (n-1)th arrival after its first, a gamma draw; drained before that, at a fraction f
  /// of the way, it holds 1 + Binomial(n-2, f) records (the earlier arrivals are uniform before
  /// the (n-1)th), and the next record comes an exponential time after the drain. With
  /// `buffer.memory` used up the producer blocks (its application thread waits: no records).
  func openBatch(_ s: Int) {
    let producer = streams[s].producer
    guard bufferUsed[producer] + p.batchSize <= p.bufferMemory else { return block(stream: s) }
    let rate = streams[s].rate
    let opened = max(streams[s].next, simulator.now)
    let n = p.recordsPerBatch
    let full = n > 1 ? opened + SimTime(seconds: arrivals.gamma(shape: Double(n - 1), scale: 1 / rate)) : opened
    let partition = streams[s].partition >= 0 ? streams[s].partition : partitioner.uniformInt(p.partitions)
    let batch = newBatch(Batch(created: opened, partition: Int32(partition), records: 1, counted: opened >= warmup))
    bufferUsed[producer] += allocation(batch)
    streams[s].open = batch
    streams[s].opened = opened
    streams[s].full = full
    streams[s].generation += 1
    simulator.schedule(
      at: max(min(full, opened + p.linger), simulator.now), to: me, kind: Kind.batchReady.rawValue, payload: Int64(s))
  }

  /// The open batch is ready: full (closed, and the next one opens), or its linger is over (it
  /// waits for the sender still open, and closes when drained or full).
  func batchReady(stream s: Int) {
    let batch = streams[s].open
    let producer = streams[s].producer
    let i = Int(batches[Int(batch)].partition)
    pending[producer * p.partitions + i].append(batch)
    if simulator.now >= streams[s].full {
      close(stream: s)
    } else {
      openStream[batch] = s
      simulator.schedule(
        at: streams[s].full, to: me, kind: Kind.batchFull.rawValue,
        payload: Int64(s) << 32 | (streams[s].generation & 0xFFFF_FFFF))
    }
    if let broker = leaderBroker(i) { drain(producer: producer, broker: broker) }
  }

  /// A lingering batch fills up before the sender took it (payload: stream << 32 | generation).
  func batchFull(_ payload: Int64) {
    let s = Int(payload >> 32)
    guard streams[s].generation & 0xFFFF_FFFF == payload & 0xFFFF_FFFF, openStream[streams[s].open] == s else {
      return
    }
    seal(streams[s].open)
  }

  /// A batch still taking records is closed now (drained, failed or full).
  func seal(_ batch: Int32) {
    guard let s = openStream.removeValue(forKey: batch) else { return }
    close(stream: s)
  }

  /// The records that have joined each open batch by now (for the accounting at the end of a
  /// run: an open batch's count is otherwise only drawn when it closes).
  func countOpenBatches() {
    let now = simulator.now
    let n = p.recordsPerBatch
    for s in streams.indices where streams[s].open >= 0 {
      let batch = Int(streams[s].open)
      guard batches[batch].state == .inFlight, now > streams[s].opened else { continue }
      if now >= streams[s].full {
        batches[batch].records = Int32(n)
      } else {
        let fraction = (now - streams[s].opened).seconds / (streams[s].full - streams[s].opened).seconds
        batches[batch].records = Int32(1 + arrivals.binomial(trials: n - 2, probability: fraction))
      }
    }
  }

  /// Closes a stream's open batch with the records that arrived by now, and opens the next.
  func close(stream s: Int) {
    let batch = streams[s].open
    let now = simulator.now
    let n = p.recordsPerBatch
    if now >= streams[s].full {
      batches[Int(batch)].records = Int32(n)
      streams[s].next = streams[s].full + SimTime(seconds: arrivals.exponential(mean: 1 / streams[s].rate))
    } else {
      let fraction = (now - streams[s].opened).seconds / (streams[s].full - streams[s].opened).seconds
      batches[Int(batch)].records = Int32(1 + arrivals.binomial(trials: n - 2, probability: fraction))
      streams[s].next = now + SimTime(seconds: arrivals.exponential(mean: 1 / streams[s].rate))
    }
    streams[s].open = -1
    openBatch(s)
  }

  // MARK: Blocking on buffer.memory

  /// A stream finds no room for a new batch: it waits, in line behind the producer's other
  /// waiting streams (Kafka's buffer pool serves waiters first come, first served).
  func block(stream s: Int) {
    streams[s].paused = true
    let producer = streams[s].producer
    pausedStreams[producer].append(s)
    guard blockedSince[producer] == nil else { return }
    blockedSince[producer] = simulator.now
    blockedCount += 1
    blocked.update(Double(blockedCount), at: simulator.now)
    simulator.schedule(after: p.maxBlock, to: me, kind: Kind.blockTimeout.rawValue, payload: Int64(producer))
  }

  /// Still blocked after `max.block.ms`: the record waiting fails (a TimeoutException to the
  /// application), which goes on to the next one.
  func blockTimedOut(producer: Int) {
    guard let since = blockedSince[producer], simulator.now - since >= p.maxBlock else { return }
    let now = simulator.now
    settleUnlogged(newBatch(Batch(created: now, partition: 0, records: 1, state: .failed, counted: now >= warmup)))
    blockedSince[producer] = now
    simulator.schedule(after: p.maxBlock, to: me, kind: Kind.blockTimeout.rawValue, payload: Int64(producer))
  }

  /// Buffer memory comes back: waiting streams get it in the order they blocked.
  func release(_ batch: Int32, producer: Int) {
    bufferUsed[producer] -= allocation(batch)
    var served = false
    while bufferUsed[producer] + p.batchSize <= p.bufferMemory, let s = pausedStreams[producer].popFirst() {
      streams[s].paused = false
      openBatch(s)
      served = true
    }
    guard blockedSince[producer] != nil else { return }
    guard pausedStreams[producer].isEmpty else {
      // A wait ended; `max.block.ms` counts from now for the next in line.
      if served { blockedSince[producer] = simulator.now }
      return
    }
    blockedSince[producer] = nil
    blockedCount -= 1
    blocked.update(Double(blockedCount), at: simulator.now)
  }

  // MARK: The sender

  /// Sends requests to `broker` while the connection has room: each takes the oldest ready
  /// batch of every partition the broker leads (not backing off), up to `max.request.size`.
  func drain(producer: Int, broker: Int) {
    let connection = producer * p.brokers + broker
    let now = simulator.now
    while inFlight[connection] < p.maxInFlight {
      var take: [Int32] = []
      var size = 0.0
      for i in ledBy[broker] {
        let q = producer * p.partitions + i
        guard pendingHead[q] < pending[q].count, retryAfter[q] <= now else { continue }
        let batch = pending[q][pendingHead[q]]
        seal(batch)
        let b = bytes(batch)
        if !take.isEmpty && size + b > p.maxRequestSize { break }
        take.append(batch)
        size += b
        popPending(q)
      }
      if take.isEmpty { return }
      send(take, bytes: size, producer: producer, broker: broker)
    }
  }

  func drainAll(producer: Int) {
    for broker in 0..<p.brokers { drain(producer: producer, broker: broker) }
  }

  func popPending(_ q: Int) {
    pendingHead[q] += 1
    if pendingHead[q] == pending[q].count {
      pending[q].removeAll(keepingCapacity: true)
      pendingHead[q] = 0
    } else if pendingHead[q] >= 1024, pendingHead[q] * 2 >= pending[q].count {
      pending[q].removeFirst(pendingHead[q])
      pendingHead[q] = 0
    }
  }

  /// Puts a batch back at the head of its queue, to be sent again after `retry.backoff.ms`.
  func requeue(_ batch: Int32, producer: Int) {
    guard batches[Int(batch)].state == .inFlight else { return }
    let q = producer * p.partitions + Int(batches[Int(batch)].partition)
    if pendingHead[q] > 0 {
      pendingHead[q] -= 1
      pending[q][pendingHead[q]] = batch
    } else {
      pending[q].insert(batch, at: 0)
    }
    retryAfter[q] = simulator.now + p.retryBackoff
    simulator.schedule(after: p.retryBackoff, to: me, kind: Kind.drain.rawValue, payload: Int64(producer))
  }

  func send(_ take: [Int32], bytes size: Double, producer: Int, broker: Int) {
    nextRequest += 1
    let id = nextRequest
    inFlight[producer * p.brokers + broker] += 1
    let request = ProduceRequest(producer: producer, broker: broker, batches: take, bytes: size, sent: simulator.now)
    if p.acks == .none {
      for batch in take { acknowledge(batch, producer: producer) }  // delivered once sent
    }
    requests[id] = request
    watch(id, connection: producer * p.brokers + broker)
    platform.transfer(
      bytes: size, from: producerHosts[producer], to: host(of: broker), observer: self, tag: tag(.produce, id))
  }

  func acknowledge(_ batch: Int32, producer: Int) {
    guard batches[Int(batch)].state == .inFlight else { return }
    batches[Int(batch)].state = .acked
    if batches[Int(batch)].counted { latency.record(simulator.now - batches[Int(batch)].created) }
    if simulator.now >= warmup { ackedInWindow += Int(batches[Int(batch)].records) }
    ackedSinceSample += Int(batches[Int(batch)].records)
    ackedTotal += Int(batches[Int(batch)].records)
    latencySum += (simulator.now - batches[Int(batch)].created).seconds
    latencyCount += 1
    release(batch, producer: producer)
  }

  func fail(_ batch: Int32, producer: Int) {
    guard batches[Int(batch)].state == .inFlight else { return }
    batches[Int(batch)].state = .failed
    release(batch, producer: producer)
    settleUnlogged(batch)
  }

  /// Batches waiting longer than `delivery.timeout.ms` fail (the oldest are at the queues' heads).
  func expireBatches() {
    let now = simulator.now
    for producer in 0..<p.producers {
      for i in 0..<p.partitions {
        let q = producer * p.partitions + i
        while pendingHead[q] < pending[q].count {
          let batch = pending[q][pendingHead[q]]
          guard now - batches[Int(batch)].created > p.deliveryTimeout else { break }
          seal(batch)
          fail(batch, producer: producer)
          popPending(q)
        }
      }
    }
  }

  /// Request timeouts: one timer per connection, set for its oldest outstanding request (as
  /// Kafka's network client checks its in-flight requests), so a request costs no timer of its own.
  func watch(_ id: Int64, connection: Int) {
    outstanding[connection].append(id)
    if !timerSet[connection] {
      timerSet[connection] = true
      simulator.schedule(
        after: p.requestTimeout, to: me, kind: Kind.requestTimeout.rawValue, payload: Int64(connection))
    }
  }

  func unwatch(_ id: Int64, connection: Int) {
    if let k = outstanding[connection].firstIndex(of: id) { outstanding[connection].remove(at: k) }
  }

  /// A connection's timer: requests older than `request.timeout.ms` are abandoned; the timer is
  /// set again for the oldest left.
  func connectionTimer(_ connection: Int) {
    timerSet[connection] = false
    let now = simulator.now
    while let id = outstanding[connection].first {
      guard let request = requests[id] else {
        outstanding[connection].removeFirst()
        continue
      }
      let deadline = request.sent + p.requestTimeout
      if deadline > now {
        timerSet[connection] = true
        simulator.schedule(at: deadline, to: me, kind: Kind.requestTimeout.rawValue, payload: Int64(connection))
        return
      }
      abandon(id)
    }
  }

  /// The request ends without an answer: its batches go back to their queues.
  func abandon(_ id: Int64) {
    guard let request = requests.removeValue(forKey: id) else { return }
    let connection = request.producer * p.brokers + request.broker
    unwatch(id, connection: connection)
    inFlight[connection] -= 1
    for batch in request.batches { requeue(batch, producer: request.producer) }
    drain(producer: request.producer, broker: request.broker)
  }

  func produceFailed(_ id: Int64) { abandon(id) }

  // MARK: The leader's side

  /// The request reached the leader's socket: it goes through the request path (RequestHandling.swift).
  func produceArrived(_ id: Int64) {
    guard let request = requests[id] else { return }  // timed out meanwhile
    requestArrived(
      .produce(request: id, connection: request.producer * p.brokers + request.broker), broker: request.broker)
  }

  /// A handler thread has checked the request: it is appended, or waits for the page cache.
  func produceHandled(_ id: Int64) {
    guard let request = requests[id] else { return }
    if storage[request.broker].stalled.isEmpty, !appendsStall(request.broker) {
      appendRequest(id)
    } else {
      storage[request.broker].stalled.append(id)
    }
  }

  /// The leader appends what it leads and has not already got (an idempotent resend), refuses
  /// the rest, and answers once every appended batch is as durable as `acks` asks.
  func appendRequest(_ id: Int64) {
    guard var request = requests[id] else { return }
    let broker = request.broker
    var accepted: [Int32] = []
    for batch in request.batches {
      let i = Int(batches[Int(batch)].partition)
      guard alive[broker], let leader = partitions[i].leader, partitions[i].replicas[leader].broker == broker else {
        request.refused.append(batch)  // NOT_LEADER_OR_FOLLOWER
        continue
      }
      if !leaderHas(batch, partition: i) {
        if p.acks == .all, partitions[i].isr.count < p.minInsyncReplicas {
          request.refused.append(batch)  // NOT_ENOUGH_REPLICAS: refused, not lost
          continue
        }
        append(batch, partition: i, leader: leader)
      }
      accepted.append(batch)
    }
    if p.acks == .none {
      requests.removeValue(forKey: id)
      unwatch(id, connection: request.producer * p.brokers + broker)
      inFlight[request.producer * p.brokers + broker] -= 1
      unmute(request.producer * p.brokers + broker, broker: broker)
      drain(producer: request.producer, broker: broker)
      return
    }
    if p.acks == .all {
      for batch in accepted {
        let i = Int(batches[Int(batch)].partition)
        let needed = Int(batches[Int(batch)].offset) + 1
        if partitions[i].highWatermark < needed {
          partitions[i].waiting.append((needed, id))
          request.awaiting += 1
        }
      }
    }
    requests[id] = request
    if request.awaiting == 0 { respond(id) }
  }

  func append(_ batch: Int32, partition i: Int, leader: Int) {
    partitions[i].replicas[leader].log.append(batch)
    batches[Int(batch)].offset = partitions[i].replicas[leader].log.count - 1
    dirtied(bytes(batch), broker: partitions[i].replicas[leader].broker, partition: i)
    appended(bytes(batch), broker: partitions[i].replicas[leader].broker)
    wakeFetchers(of: i)
    if partitions[i].isr.count == 1 { updateHighWatermark(i) }
  }

  /// One of the request's batches is below the high watermark now.
  func requestDurable(_ id: Int64) {
    guard requests[id] != nil else { return }
    requests[id]!.awaiting -= 1
    if requests[id]!.awaiting == 0 { respond(id) }
  }

  func respond(_ id: Int64) {
    let request = requests[id]!
    platform.message(
      from: host(of: request.broker), to: producerHosts[request.producer], observer: self, tag: tag(.response, id))
    unmute(request.producer * p.brokers + request.broker, broker: request.broker)
  }

  /// The partition's leader changed (or it has none): acks=all requests waiting for its high
  /// watermark are answered at once with NOT_LEADER_OR_FOLLOWER for its batches (Kafka completes
  /// its delayed produce requests when a broker stops leading), so the producer resends them.
  func abortWaiting(_ i: Int) {
    let waiting = partitions[i].waiting[partitions[i].waitingHead...]
    partitions[i].waiting.removeAll()
    partitions[i].waitingHead = 0
    for (_, id) in waiting where requests[id] != nil {
      for batch in requests[id]!.batches where Int(batches[Int(batch)].partition) == i {
        requests[id]!.refused.append(batch)
      }
      requestDurable(id)
    }
  }

  func responseArrived(_ id: Int64) {
    guard let request = requests.removeValue(forKey: id) else { return }
    unwatch(id, connection: request.producer * p.brokers + request.broker)
    inFlight[request.producer * p.brokers + request.broker] -= 1
    for batch in request.batches {
      if request.refused.contains(batch) {
        requeue(batch, producer: request.producer)
      } else {
        acknowledge(batch, producer: request.producer)
      }
    }
    drain(producer: request.producer, broker: request.broker)
  }
}
