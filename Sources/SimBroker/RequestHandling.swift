import SimKernel
import SimPlatform

/// A request on a broker's request path: a producer's produce request (with the connection it
/// came on) or a follower fetcher's fetch request (with the fetcher's generation when sent).
enum BrokerJob: Sendable {
  case produce(request: Int64, connection: Int)
  case fetch(fetcher: Int, generation: Int64)
}

/// One broker's request path, as Kafka's SocketServer and request handler pool run it:
///
/// - A connection's requests are read one at a time: a processor (network thread) that reads a
///   request mutes its channel until the response is sent, so the requests a producer pipelines
///   (`max.in.flight.requests.per.connection`) wait in the socket, not on the broker. Each
///   connection belongs to one of `num.network.threads` processors.
/// - A processor copies a request out of the socket (its bytes at `network_thread_rate`) and
///   puts it on the request queue; when `queued.max.requests` are waiting it blocks.
/// - `num.io.threads` handler threads take requests in order: `request_cpu` each, plus a
///   produce request's bytes at `append_rate` (checking the batches and appending them).
/// - Responses go out without a processor's CPU: a produce response is a few bytes, a fetch
///   response goes by sendfile.
///
/// Threads run on the broker host's cores (platform.compute: processor sharing when more threads
/// are busy than there are cores), so request handling is CPU the platform reports.
struct RequestPath {
  /// What each processor is doing: nil idle; a job read and (`blocked`) waiting for room.
  var processing: [BrokerJob?]
  var blocked: [Bool]
  var processorQueue: [RingBuffer<BrokerJob>]
  var requestQueue = RingBuffer<BrokerJob>()
  var handling: [BrokerJob?]
  var idleHandlers: Int

  init(networkThreads: Int, ioThreads: Int) {
    processing = Array(repeating: nil, count: networkThreads)
    blocked = Array(repeating: false, count: networkThreads)
    processorQueue = Array(repeating: RingBuffer(), count: networkThreads)
    handling = Array(repeating: nil, count: ioThreads)
    idleHandlers = ioThreads
  }
}

extension BrokerCluster {
  func startRequestPaths() {
    requestPaths = Array(
      repeating: RequestPath(networkThreads: p.networkThreads, ioThreads: p.ioThreads), count: p.brokers)
    muted = Array(repeating: false, count: p.producers * p.brokers)
    socketQueue = Array(repeating: RingBuffer(), count: p.producers * p.brokers)
  }

  /// CPU seconds as platform work on one core.
  func work(_ seconds: Double) -> Double { seconds * p.platform.coreSpeed }

  func seconds(bytes: Double, at rate: Double) -> Double { rate > 0 ? bytes / rate : 0 }

  func threadTag(_ purpose: Purpose, broker: Int, thread: Int) -> Int64 {
    tag(purpose, Int64(broker) << 16 | Int64(thread))
  }

  /// A request reached `broker`: read at once, or after the connection's earlier request.
  func requestArrived(_ job: BrokerJob, broker: Int) {
    guard alive[broker] else { return }
    if case .produce(_, let connection) = job {
      if muted[connection] {
        socketQueue[connection].append(job)
        return
      }
      muted[connection] = true
    }
    let processor = processorIndex(job)
    requestPaths[broker].processorQueue[processor].append(job)
    runProcessor(processor, broker: broker)
  }

  func processorIndex(_ job: BrokerJob) -> Int {
    switch job {
    case .produce(_, let connection): connection % p.networkThreads
    case .fetch(let f, _): f % p.networkThreads
    }
  }

  /// The response to a connection's request is on its way (or none is due): its next request is read.
  func unmute(_ connection: Int, broker: Int) {
    guard muted[connection] else { return }
    muted[connection] = false
    if let next = socketQueue[connection].popFirst() { requestArrived(next, broker: broker) }
  }

  func requestBytes(_ job: BrokerJob) -> Double {
    guard case .produce(let id, _) = job, let request = requests[id] else { return 0 }
    return request.bytes
  }

  func runProcessor(_ k: Int, broker: Int) {
    while requestPaths[broker].processing[k] == nil, let job = requestPaths[broker].processorQueue[k].popFirst() {
      requestPaths[broker].processing[k] = job
      let cost = seconds(bytes: requestBytes(job), at: p.networkRate)
      if cost > 0 {
        platform.compute(
          work: work(cost), host: host(of: broker), observer: self,
          tag: threadTag(.processor, broker: broker, thread: k))
        return
      }
      processorDone(k, broker: broker)
    }
  }

  /// A processor has read its request: onto the request queue, or it waits for room.
  func processorDone(_ k: Int, broker: Int) {
    guard let job = requestPaths[broker].processing[k] else { return }
    if requestPaths[broker].requestQueue.count >= p.queuedMaxRequests {
      requestPaths[broker].blocked[k] = true
      return
    }
    requestPaths[broker].processing[k] = nil
    requestPaths[broker].requestQueue.append(job)
    runHandlers(broker)
    runProcessor(k, broker: broker)
  }

  func runHandlers(_ broker: Int) {
    while requestPaths[broker].idleHandlers > 0, let job = requestPaths[broker].requestQueue.popFirst() {
      // Room in the queue: the first blocked processor goes on.
      if let k = requestPaths[broker].blocked.firstIndex(of: true) {
        requestPaths[broker].blocked[k] = false
        processorDone(k, broker: broker)
      }
      let thread = requestPaths[broker].handling.firstIndex(where: { $0 == nil })!
      requestPaths[broker].handling[thread] = job
      requestPaths[broker].idleHandlers -= 1
      let cost = p.requestCPU.seconds + seconds(bytes: requestBytes(job), at: p.appendRate)
      if cost > 0 {
        platform.compute(
          work: work(cost), host: host(of: broker), observer: self,
          tag: threadTag(.handler, broker: broker, thread: thread))
      } else {
        handlerDone(thread, broker: broker)
      }
    }
  }

  /// A handler thread has done its request: a produce request is appended (or waits for the
  /// page cache to drain), a fetch answered (or parked until there is data).
  func handlerDone(_ thread: Int, broker: Int) {
    guard let job = requestPaths[broker].handling[thread] else { return }
    requestPaths[broker].handling[thread] = nil
    requestPaths[broker].idleHandlers += 1
    switch job {
    case .produce(let id, let connection):
      if requests[id] == nil {
        unmute(connection, broker: broker)  // abandoned by the producer meanwhile: nothing to answer
      } else {
        produceHandled(id)
      }
    case .fetch(let f, let generation):
      if generation == fetchers[f].generation { serveFetch(f) }
    }
    runHandlers(broker)
  }

  func threadActivityFinished(_ purpose: Purpose, id: Int64) {
    let broker = Int(id >> 16)
    let thread = Int(id & 0xFFFF)
    if purpose == .processor { processorDone(thread, broker: broker) } else { handlerDone(thread, broker: broker) }
  }

  /// The broker went down: everything on its request path is gone (producers time out and
  /// resend; fetchers start afresh).
  func requestPathCrashed(_ broker: Int) {
    requestPaths[broker] = RequestPath(networkThreads: p.networkThreads, ioThreads: p.ioThreads)
    for producer in 0..<p.producers {
      let connection = producer * p.brokers + broker
      muted[connection] = false
      socketQueue[connection] = RingBuffer()
    }
  }
}
