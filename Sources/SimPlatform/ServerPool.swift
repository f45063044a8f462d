import SimKernel

/// Told when a request to a ``ServerPool`` is served or dropped.
public protocol ServerPoolObserver: AnyObject {
  /// The request's service ended now; `waited` is the time it spent queued before a server took it
  /// (its time in the pool less its service time). Called from the pool's completion event.
  func requestServed(tag: Int64, waited: SimTime, in simulator: Simulator)
  /// The request was lost (`host_down`): called from inside ``ServerPool/submit(service:tag:observer:)``
  /// when the host is already down, or from inside the host's going down for requests queued or in service.
  func requestDropped(tag: Int64, reason: FailureReason, in simulator: Simulator)
}

/// `c` identical servers with one FIFO queue: an RPC handler pool (`dfs.namenode.handler.count`),
/// a broker's request threads. Requests bring their own service time (drawn by the model).
///
/// Optionally it lives on a host: when the host goes down, the requests waiting and in service
/// are dropped (`host_down`), and requests submitted while it is down are dropped at once.
/// Statistics reuse the kernel's: waiting times in a ``LatencyHistogram``, queue length and busy
/// servers as ``TimeWeightedAverage``s.
///
/// Service times are simulated time, drawn by the model from its own ``RandomStream``. The pool
/// holds its observers weakly, per request: an observer freed before its request ends is simply
/// not told. Nothing is kept per finished request (slots are reused), so memory follows the
/// longest queue, not the run.
///
/// ```swift
/// let handlers = ServerPool(servers: 10, simulator: simulator, on: namenode, platform: platform)
/// handlers.submit(service: serviceTime.sampleTime(stream), tag: Int64(call), observer: self)
/// // later, in self: requestServed(tag:waited:in:) or requestDropped(tag:reason:in:)
/// ```
public final class ServerPool: EventHandler, PlatformObserver {
  struct Request {
    var tag: Int64
    var service: SimTime
    var arrived: SimTime
    weak var observer: (any ServerPoolObserver)?
  }

  /// The number of servers (at least 1).
  public let servers: Int
  let host: HostID?
  unowned let simulator: Simulator
  var me = EntityID(0)
  var queue = RingBuffer<Int32>()
  var requests: [Request] = []
  var freeSlots: [Int32] = []
  /// Completion events of requests in service, by slot (to cancel them when the host dies).
  var inService: [Int32: EventHandle] = [:]
  /// Servers busy now.
  public private(set) var busy = 0
  var hostUp = true

  /// Each served request's time in the queue before service, recorded when service starts (dropped
  /// requests that never started are not in it).
  public private(set) var waiting = LatencyHistogram()
  /// The number of requests waiting (not in service), as a time average.
  public private(set) var queueLength = TimeWeightedAverage()
  /// The number of busy servers, as a time average (divide by ``servers`` for utilisation).
  public private(set) var busyServers = TimeWeightedAverage()
  /// Requests served since the start or the last ``resetStatistics()``.
  public private(set) var served = 0
  /// Requests dropped since the start or the last ``resetStatistics()``.
  public private(set) var dropped = 0

  /// A pool of `servers` servers, registered with `simulator`. With `host` and `platform` it lives on
  /// that host and observes the platform (which keeps it alive); without them it never drops requests.
  ///
  /// - Precondition: `servers >= 1` (check a user's value with ``ConfigReader``'s `range:`).
  public init(servers: Int, simulator: Simulator, on host: HostID? = nil, platform: Platform? = nil) {
    precondition(servers >= 1, "a server pool needs at least one server")
    self.servers = servers
    self.host = host
    self.simulator = simulator
    me = simulator.register(self)
    if let host, let platform {
      hostUp = platform.isUp(host)
      platform.addObserver(self)
    }
  }

  /// Queues a request needing `service` of a server's time.
  ///
  /// A free server starts it at once (in this call); otherwise it waits in FIFO order. If the
  /// pool's host is down, the observer's ``ServerPoolObserver/requestDropped(tag:reason:in:)`` is
  /// called before this returns.
  public func submit(service: SimTime, tag: Int64 = 0, observer: any ServerPoolObserver) {
    let now = simulator.now
    guard hostUp else {
      dropped += 1
      observer.requestDropped(tag: tag, reason: .hostDown, in: simulator)
      return
    }
    let request = Request(tag: tag, service: service, arrived: now, observer: observer)
    let slot: Int32
    if let reused = freeSlots.popLast() {
      slot = reused
      requests[Int(slot)] = request
    } else {
      requests.append(request)
      slot = Int32(requests.count - 1)
    }
    if busy < servers {
      start(slot)
    } else {
      queue.append(slot)
      queueLength.update(Double(queue.count), at: now)
    }
  }

  func start(_ slot: Int32) {
    let now = simulator.now
    busy += 1
    busyServers.update(Double(busy), at: now)
    waiting.record(now - requests[Int(slot)].arrived)
    inService[slot] = simulator.schedule(after: requests[Int(slot)].service, to: me, payload: Int64(slot))
  }

  /// A service completion: frees the server, starts the next queued request (FIFO), then tells the
  /// finished request's observer.
  public func handle(_ event: Event, in simulator: Simulator) {
    let slot = Int32(truncatingIfNeeded: event.payload)
    guard inService.removeValue(forKey: slot) != nil else { return }
    let request = requests[Int(slot)]
    busy -= 1
    served += 1
    freeSlots.append(slot)
    if let next = queue.popFirst() {
      queueLength.update(Double(queue.count), at: simulator.now)
      start(next)
    } else {
      busyServers.update(Double(busy), at: simulator.now)
    }
    request.observer?.requestServed(
      tag: request.tag, waited: simulator.now - request.arrived - request.service, in: simulator)
  }

  /// When the pool's host goes down, drops every request: those in service first (in slot order),
  /// then the queue in order, so the order of the callbacks is deterministic.
  public func hostChanged(_ changed: HostID, up: Bool, in simulator: Simulator) {
    guard changed == host else { return }
    hostUp = up
    guard !up else { return }
    // Everything in the pool is lost: in service first (in slot order), then the queue in order.
    var victims = inService.keys.sorted()
    for slot in victims { simulator.cancel(inService[slot]!) }
    inService.removeAll()
    while let slot = queue.popFirst() { victims.append(slot) }
    busy = 0
    busyServers.update(0, at: simulator.now)
    queueLength.update(0, at: simulator.now)
    for slot in victims {
      let request = requests[Int(slot)]
      freeSlots.append(slot)
      dropped += 1
      request.observer?.requestDropped(tag: request.tag, reason: .hostDown, in: simulator)
    }
  }

  /// Forgets statistics (the end of a warm-up period).
  public func resetStatistics() {
    let now = simulator.now
    waiting.reset()
    queueLength.reset(at: now)
    busyServers.reset(at: now)
    served = 0
    dropped = 0
  }
}
