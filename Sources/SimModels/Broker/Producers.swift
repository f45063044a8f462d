import Foundation
import SimKernel
import SimPlatform

/// A source of batches: one producer's records for one partition (keyed records), or all its
/// records (the sticky partitioner, which fills one batch at a time and picks a partition per batch).
struct ProducerStream {
  var producer: Int
  var partition: Int  // -1: sticky
  var rate: Double
  /// When the next batch's first record arrives.
  var next: SimTime
  var open: Int32 = -1
  var paused = false
}

/// A produce request: at most one batch per partition, to one broker.
struct ProduceRequest {
  var producer: Int
  var broker: Int
  var batches: [Int32]
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
    bufferUsed = Array(repeating: 0, count: p.producers)
    blockedSince = Array(repeating: nil, count: p.producers)
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
    Int(StableHash.splitMix64(UInt64(key)) % UInt64(partitions))
  }

  /// Buffer memory a batch holds from its creation to its end (Kafka allocates `batch.size`).
  func allocation(_ batch: Int32) -> Double { max(p.batchSize, bytes(batch)) }

  /// The next batch of a stream: it opens with the next record and closes when full or
  /// `linger` after it opened. Arrivals are Poisson, so the number of records in a linger
  /// window is Poisson, and the time a full batch fills is an order statistic of them. With
  /// `buffer.memory` used up the producer blocks (its application thread waits: no records).
  func openBatch(_ s: Int) {
    let producer = streams[s].producer
    guard bufferUsed[producer] + p.batchSize <= p.bufferMemory else { return block(stream: s) }
    let rate = streams[s].rate
    let opened = max(streams[s].next, simulator.now)
    let n = p.recordsPerBatch
    let window = p.linger.seconds
    var records = 1
    var closed = opened
    if n > 1 {
      let more = arrivals.poisson(mean: rate * window)
      if more >= n - 1 {
        // Full before linger: the (n-1)th of `more` uniform arrivals in the window.
        let x = arrivals.gamma(shape: Double(n - 1), scale: 1)
        let y = arrivals.gamma(shape: Double(more - n + 2), scale: 1)
        closed = opened + SimTime(seconds: window * x / (x + y))
        records = n
      } else {
        closed = opened + p.linger
        records = 1 + more
      }
    }
    streams[s].next = closed + SimTime(seconds: arrivals.exponential(mean: 1 / rate))
    let partition = streams[s].partition >= 0 ? streams[s].partition : partitioner.uniformInt(p.partitions)
    let batch = newBatch(
      Batch(created: opened, partition: Int32(partition), records: Int32(records), counted: opened >= warmup))
    bufferUsed[producer] += allocation(batch)
    streams[s].open = batch
    simulator.schedule(at: max(closed, simulator.now), to: me, kind: Kind.batchReady.rawValue, payload: Int64(s))
  }

  func batchReady(stream s: Int) {
    let batch = streams[s].open
    let producer = streams[s].producer
    let i = Int(batches[Int(batch)].partition)
    pending[producer * p.partitions + i].append(batch)
    if let broker = leaderBroker(i) { drain(producer: producer, broker: broker) }
    openBatch(s)
  }

  // MARK: Blocking on buffer.memory

  func block(stream s: Int) {
    streams[s].paused = true
    let producer = streams[s].producer
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

  func release(_ batch: Int32, producer: Int) {
    bufferUsed[producer] -= allocation(batch)
    guard blockedSince[producer] != nil, bufferUsed[producer] + p.batchSize <= p.bufferMemory else { return }
    blockedSince[producer] = nil
    blockedCount -= 1
    blocked.update(Double(blockedCount), at: simulator.now)
    for s in streams.indices where streams[s].producer == producer && streams[s].paused {
      streams[s].paused = false
      openBatch(s)
    }
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
    let request = ProduceRequest(producer: producer, broker: broker, batches: take, sent: simulator.now)
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

  func produceArrived(_ id: Int64) {
    guard let request = requests[id] else { return }  // timed out meanwhile
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
