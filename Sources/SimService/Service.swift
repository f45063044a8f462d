import Foundation
import SimKernel
import SimPlatform

/// The instances, the balancer, the clients, the autoscaler and their bookkeeping.
///
/// A request: a client host sends it to the balancer (network latency), the balancer picks a
/// routable instance by its policy and forwards it (latency), the instance's ``ServerPool`` serves
/// it (service time, plus the session store's round trip when stateless), the answer goes back
/// through the balancer. The balancer counts a request as outstanding on an instance from its
/// forwarding to the instance's answer (Envoy `LEAST_REQUEST`, NGINX `least_conn`). An instance
/// whose host died stays in rotation until `unhealthy_threshold` health checks failed; requests
/// sent there fail.
final class Service: EventHandler, PlatformObserver, ServerPoolObserver {
  enum Kind: Int32 {
    case arrival = 0
    case atBalancer = 1  // payload: request
    case atInstance = 2  // payload: request
    case answered = 3  // payload: request
    case ready = 4  // payload: instance
    case healthCheck = 5
    case autoscale = 6
    case sample = 7
    case endOfWarmup = 8
  }

  enum State: UInt8 { case off, starting, ready, draining }

  struct Instance {
    var state = State.off
    /// In the balancer's rotation (ready and not yet found unhealthy).
    var inRotation = false
    var alive = true
    var failedChecks = 0
    var outstanding = 0
    /// Requests in its pool (queued or in service).
    var inPool = 0
    var generation: Int64 = 0
  }

  struct Request {
    var start: SimTime
    var client: Int32
    var session: Int32
    var instance: Int32 = -1
    var reachedInstance = SimTime.zero
  }

  let p: ServiceParameters
  unowned let platform: Platform
  unowned let simulator: Simulator
  var me = EntityID(0)
  let warmup: SimTime
  let sampleInterval: SimTime?
  let arrivals: RandomStream
  let routing: RandomStream
  let serviceStream: RandomStream
  let sessionStream: RandomStream
  let startupStream: RandomStream
  var sessionTable: DiscreteTable?
  let balancerHost: HostID
  let clientHosts: [HostID]
  var instances: [Instance]
  var pools: [ServerPool] = []
  var rotation: [Int32] = []
  var ring = HashRing(members: [], vnodes: 1)
  var roundRobin = 0
  var requests: [Request] = []
  var freeRequests: [Int32] = []
  // Sticky sessions: the instance each is bound to (-1: none) and its last request.
  var binding: [Int32] = []
  var lastSeen: [SimTime] = []
  // Counters (since the end of the warm-up).
  var requestsTotal = 0
  var served = 0
  var rejected = 0
  var failed = 0
  var sessionsLost = 0
  var scaleOuts = 0
  var scaleIns = 0
  var latency = LatencyHistogram()
  var instanceResponse = LatencyHistogram()
  var intervalLatency = LatencyHistogram()
  var intervalRequests = 0
  // Since the start (steady-state signals, autoscaler integrals).
  var servedAll = 0
  var latencySumAll = 0.0
  var arrivedAll = 0
  // Time averages.
  var provisioned = TimeWeightedAverage()  // starting + ready + draining
  var readyCount = TimeWeightedAverage()
  var atLeast: [TimeWeightedAverage] = []  // instances with >= k requests in them, k = 1...tailDepth
  var atLeastCount: [Int] = []
  var busyPerInstance: [TimeWeightedAverage] = []
  var activePerInstance: [TimeWeightedAverage] = []
  // Autoscaler: cumulative busy threads x seconds and ready threads x seconds, sampled every sync.
  var busyThreads = 0
  var busyIntegral = 0.0
  var capacityIntegral = 0.0
  var integralAt = SimTime.zero
  var scaleSamples = RingBuffer<(time: SimTime, busy: Double, capacity: Double, arrived: Int)>()
  var recommendations = RingBuffer<(time: SimTime, desired: Int)>()
  var lastScaleOut: SimTime?
  var intervalBusy = 0.0
  var intervalCapacity = 0.0
  var series = TimeSeries()

  init(parameters: ServiceParameters, platform: Platform, simulator: Simulator, context: RunContext) {
    p = parameters
    self.platform = platform
    self.simulator = simulator
    warmup = context.warmup
    sampleInterval = context.timeseriesInterval
    arrivals = context.streams.stream("service.arrivals")
    routing = context.streams.stream("service.routing")
    serviceStream = context.streams.stream("service.service")
    sessionStream = context.streams.stream("service.sessions")
    startupStream = context.streams.stream("service.startup")
    balancerHost = HostID(Int32(p.maxInstances))
    let rest = (p.maxInstances + 1)..<platform.hostCount
    clientHosts = rest.isEmpty ? [HostID(Int32(p.maxInstances))] : rest.map { HostID(Int32($0)) }
    instances = Array(repeating: Instance(), count: p.maxInstances)
    me = simulator.register(self)
    platform.addObserver(self)
    platform.assignRole("instance", hosts: (0..<Int32(p.maxInstances)).map(HostID.init))
    platform.assignRole("balancer", hosts: [balancerHost])
    platform.assignRole("client", hosts: clientHosts)
    for i in 0..<p.maxInstances {
      pools.append(ServerPool(servers: p.threads, simulator: simulator, on: HostID(Int32(i)), platform: platform))
      instances[i].alive = platform.isUp(HostID(Int32(i)))
    }
    busyPerInstance = Array(repeating: TimeWeightedAverage(), count: p.maxInstances)
    activePerInstance = busyPerInstance
    atLeast = Array(repeating: TimeWeightedAverage(), count: ServiceParameters.tailDepth)
    atLeastCount = Array(repeating: 0, count: ServiceParameters.tailDepth)
    if let skew = p.sessionSkew {
      // Positive, finite weights: the table cannot refuse them.
      sessionTable = try! DiscreteTable(weights: (0..<p.sessions).map { pow(Double($0 + 1), -skew) })
    }
    if p.sessionMode == .sticky {
      binding = Array(repeating: -1, count: p.sessions)
      lastSeen = Array(repeating: .zero, count: p.sessions)
    }
    // The initial instances are ready at the start (on hosts that are up).
    var started = 0
    for i in 0..<p.maxInstances where started < p.instances && instances[i].alive {
      instances[i].state = .ready
      instances[i].inRotation = true
      activePerInstance[i].update(1, at: .zero)
      started += 1
    }
    provisioned.update(Double(started), at: .zero)
    readyCount.update(Double(started), at: .zero)
    rebuildRotation()
    scheduleArrival()
    simulator.schedule(after: p.healthCheckInterval, to: me, kind: Kind.healthCheck.rawValue)
    if let a = p.autoscaling { simulator.schedule(after: a.syncPeriod, to: me, kind: Kind.autoscale.rawValue) }
    if warmup > .zero { simulator.schedule(at: warmup, to: me, kind: Kind.endOfWarmup.rawValue) }
    if let interval = sampleInterval { simulator.schedule(after: interval, to: me, kind: Kind.sample.rawValue) }
  }

  func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .arrival: arrive()
    case .atBalancer: route(Int32(event.payload))
    case .atInstance: reachInstance(Int32(event.payload))
    case .answered: answered(Int32(event.payload))
    case .ready: becomeReady(Int(event.payload & 0xFFFF_FFFF), generation: event.payload >> 32)
    case .healthCheck: healthCheck()
    case .autoscale: autoscale()
    case .sample: sample()
    case .endOfWarmup: resetStatistics()
    case nil: preconditionFailure("unknown service event")
    }
  }

  // MARK: Clients and the balancer

  func scheduleArrival() {
    let now = simulator.now
    let rate = p.rate(at: now)
    var next = now + SimTime(seconds: arrivals.exponential(mean: 1 / rate))
    // A rate change (the spike's start or end) before the next arrival: draw again from there
    // (memoryless, so this is exact).
    if let at = p.spikeAt {
      for edge in [at, at + p.spikeFor] where edge > now && next > edge && p.rate(at: edge) != rate {
        next = edge
        simulator.schedule(at: next, to: me, kind: Kind.arrival.rawValue, payload: 1)
        return
      }
    }
    simulator.schedule(at: next, to: me, kind: Kind.arrival.rawValue)
  }

  func arrive() {
    let now = simulator.now
    // payload 1 marks a redraw at a rate change, not an arrival.
    if let at = p.spikeAt, now == at || now == at + p.spikeFor, pendingRedraw(now) {
      scheduleArrival()
      return
    }
    scheduleArrival()
    let session = Int32(sessionTable.map { sessionStream.discrete($0) } ?? sessionStream.uniformInt(p.sessions))
    let client = clientHosts[arrivedAll % clientHosts.count]
    arrivedAll += 1
    requestsTotal += 1
    intervalRequests += 1
    let slot: Int32
    let request = Request(start: now, client: client.index, session: session)
    if let reused = freeRequests.popLast() {
      slot = reused
      requests[Int(slot)] = request
    } else {
      requests.append(request)
      slot = Int32(requests.count - 1)
    }
    simulator.schedule(
      after: platform.latency(from: client, to: balancerHost), to: me, kind: Kind.atBalancer.rawValue,
      payload: Int64(slot))
  }

  var redrawPending = false
  func pendingRedraw(_ now: SimTime) -> Bool {
    defer { redrawPending = false }
    return redrawPending
  }

  func rebuildRotation() {
    rotation = instances.indices.filter { instances[$0].inRotation }.map { Int32($0) }
    if p.policy == .consistentHash { ring = HashRing(members: rotation, vnodes: p.vnodes) }
  }

  /// The balancer's choice for a request of `session`, or nil when no instance is in rotation.
  func choose(session: Int32) -> Int32? {
    guard !rotation.isEmpty else { return nil }
    if p.sessionMode == .sticky, binding[Int(session)] >= 0, instances[Int(binding[Int(session)])].inRotation {
      return binding[Int(session)]
    }
    switch p.policy {
    case .roundRobin:
      roundRobin = (roundRobin + 1) % rotation.count
      return rotation[roundRobin]
    case .random:
      return rotation[routing.uniformInt(rotation.count)]
    case .leastConnections:
      // The least outstanding requests; ties at random (reservoir sampling over the ties).
      var best: Int32 = -1
      var ties = 0
      for i in rotation {
        let o = instances[Int(i)].outstanding
        if best < 0 || o < instances[Int(best)].outstanding {
          best = i
          ties = 1
        } else if o == instances[Int(best)].outstanding {
          ties += 1
          if routing.uniformInt(ties) == 0 { best = i }
        }
      }
      return best
    case .powerOfD:
      // d distinct instances at random (a partial Fisher-Yates over the rotation), the least loaded.
      let d = min(p.choices, rotation.count)
      var best: Int32 = -1
      for k in 0..<d {
        let j = k + routing.uniformInt(rotation.count - k)
        rotation.swapAt(k, j)
        let i = rotation[k]
        if best < 0 || instances[Int(i)].outstanding < instances[Int(best)].outstanding { best = i }
      }
      return best
    case .consistentHash:
      return ring.member(forKey: Int(session))
    }
  }

  func route(_ slot: Int32) {
    let r = requests[Int(slot)]
    guard let i = choose(session: r.session) else { return fail(slot) }
    if let limit = p.queueLimit, instances[Int(i)].outstanding >= p.threads + limit {
      rejected += 1
      return finish(slot)
    }
    if p.sessionMode == .sticky {
      binding[Int(r.session)] = i
      lastSeen[Int(r.session)] = simulator.now
    }
    requests[Int(slot)].instance = i
    instances[Int(i)].outstanding += 1
    simulator.schedule(
      after: platform.latency(from: balancerHost, to: HostID(i)), to: me, kind: Kind.atInstance.rawValue,
      payload: Int64(slot))
  }

  func reachInstance(_ slot: Int32) {
    let i = Int(requests[Int(slot)].instance)
    guard instances[i].alive, instances[i].state != .off else { return dropped(slot) }
    requests[Int(slot)].reachedInstance = simulator.now
    var work = p.service.sampleTime(serviceStream)
    if p.sessionMode == .stateless { work = work + p.storeLatency.sampleTime(serviceStream) }
    changeInPool(i, by: 1)
    pools[i].submit(service: work, tag: Int64(slot), observer: self)
  }

  func requestServed(tag: Int64, waited: SimTime, in simulator: Simulator) {
    let slot = Int32(tag)
    let i = Int(requests[Int(slot)].instance)
    changeInPool(i, by: -1)
    instanceResponse.record(simulator.now - requests[Int(slot)].reachedInstance)
    simulator.schedule(
      after: platform.latency(from: HostID(Int32(i)), to: balancerHost), to: me, kind: Kind.answered.rawValue,
      payload: Int64(slot))
  }

  func requestDropped(tag: Int64, reason: FailureReason, in simulator: Simulator) {
    let slot = Int32(tag)
    changeInPool(Int(requests[Int(slot)].instance), by: -1)
    dropped(slot)
  }

  /// A request lost at its instance (dead): the balancer sees the failure.
  func dropped(_ slot: Int32) {
    release(instance: Int(requests[Int(slot)].instance))
    fail(slot)
  }

  func answered(_ slot: Int32) {
    let r = requests[Int(slot)]
    release(instance: Int(r.instance))
    let total = simulator.now - r.start + platform.latency(from: balancerHost, to: HostID(r.client))
    served += 1
    servedAll += 1
    latencySumAll += total.seconds
    latency.record(total)
    intervalLatency.record(total)
    finish(slot)
  }

  func release(instance i: Int) {
    instances[i].outstanding -= 1
    if instances[i].state == .draining, instances[i].outstanding == 0 { terminate(i) }
  }

  func fail(_ slot: Int32) {
    failed += 1
    finish(slot)
  }

  func finish(_ slot: Int32) { freeRequests.append(slot) }

  func changeInPool(_ i: Int, by delta: Int) {
    let now = simulator.now
    let before = instances[i].inPool
    let after = before + delta
    instances[i].inPool = after
    let k = delta > 0 ? after : before  // the level crossed
    if k >= 1, k <= ServiceParameters.tailDepth {
      atLeastCount[k - 1] += delta
      atLeast[k - 1].update(Double(atLeastCount[k - 1]), at: now)
    }
    let busyBefore = min(before, p.threads)
    let busyAfter = min(after, p.threads)
    if busyBefore != busyAfter {
      advanceIntegrals()
      busyThreads += busyAfter - busyBefore
      busyPerInstance[i].update(Double(busyAfter), at: now)
    }
  }

  // MARK: Instances

  func advanceIntegrals() {
    let now = simulator.now
    let dt = (now - integralAt).seconds
    busyIntegral += Double(busyThreads) * dt
    capacityIntegral += readyCount.value * Double(p.threads) * dt
    intervalBusy += Double(busyThreads) * dt
    intervalCapacity += readyCount.value * Double(p.threads) * dt
    integralAt = now
  }

  func setState(_ i: Int, _ state: State) {
    let now = simulator.now
    advanceIntegrals()
    let wasProvisioned = instances[i].state != .off
    let wasReady = instances[i].state == .ready
    instances[i].state = state
    provisioned.add(Double((state != .off ? 1 : 0) - (wasProvisioned ? 1 : 0)), at: now)
    readyCount.add(Double((state == .ready ? 1 : 0) - (wasReady ? 1 : 0)), at: now)
    activePerInstance[i].update(state == .ready || state == .draining ? 1 : 0, at: now)
  }

  /// Launches an instance on the first free host that is up; false if there is none.
  @discardableResult
  func launch() -> Bool {
    guard let i = instances.indices.first(where: { instances[$0].state == .off && instances[$0].alive }) else {
      return false
    }
    setState(i, .starting)
    instances[i].generation += 1
    instances[i].failedChecks = 0
    let delay = max(.zero, p.startupTime.sampleTime(startupStream))
    simulator.schedule(
      after: delay, to: me, kind: Kind.ready.rawValue, payload: instances[i].generation << 32 | Int64(i))
    return true
  }

  func becomeReady(_ i: Int, generation: Int64) {
    guard instances[i].generation == generation, instances[i].state == .starting else { return }
    guard instances[i].alive else { return setState(i, .off) }
    setState(i, .ready)
    instances[i].inRotation = true
    rebuildRotation()
  }

  /// Takes an instance out of service: its sticky sessions are lost (their state was in it).
  func terminate(_ i: Int) {
    if instances[i].inRotation {
      instances[i].inRotation = false
      rebuildRotation()
    }
    loseSessions(of: i)
    setState(i, .off)
  }

  func loseSessions(of i: Int) {
    guard p.sessionMode == .sticky else { return }
    let now = simulator.now
    for s in binding.indices where binding[s] == Int32(i) {
      if now - lastSeen[s] < p.sessionTimeout { sessionsLost += 1 }
      binding[s] = -1
    }
  }

  func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator) {
    let i = Int(host.index)
    guard i < p.maxInstances else { return }
    instances[i].alive = up
    if !up {
      // The process is gone with its sessions; the balancer finds out by its health checks.
      loseSessions(of: i)
      if instances[i].state == .starting || instances[i].state == .draining || !instances[i].inRotation {
        terminate(i)
      }
    }
    if up { replaceMissing() }
  }

  /// ELB-style active checks: an instance failing `unhealthy_threshold` in a row leaves the rotation
  /// and is replaced (the replica controller keeps the desired count).
  func healthCheck() {
    for i in instances.indices where instances[i].inRotation {
      if instances[i].alive {
        instances[i].failedChecks = 0
      } else {
        instances[i].failedChecks += 1
        if instances[i].failedChecks >= p.unhealthyThreshold { terminate(i) }
      }
    }
    replaceMissing()
    simulator.schedule(after: p.healthCheckInterval, to: me, kind: Kind.healthCheck.rawValue)
  }

  var desired: Int {
    get { desiredCount ?? p.instances }
    set { desiredCount = newValue }
  }
  var desiredCount: Int?

  /// Instances provisioned and not draining.
  var current: Int { instances.filter { $0.state == .starting || $0.state == .ready }.count }

  func replaceMissing() {
    var missing = desired - current
    while missing > 0, launch() { missing -= 1 }
  }

  // MARK: Autoscaler (Kubernetes HPA)

  func autoscale() {
    guard let a = p.autoscaling else { return }
    let now = simulator.now
    advanceIntegrals()
    scaleSamples.append((now, busyIntegral, capacityIntegral, arrivedAll))
    while let first = scaleSamples.first, now - first.time > a.metricsWindow { _ = scaleSamples.popFirst() }
    let ready = Int(readyCount.value)
    if let old = scaleSamples.first, old.time < now, ready > 0 {
      let metric: Double
      let target: Double
      switch a.metric {
      case .utilization:
        let capacity = capacityIntegral - old.capacity
        metric = capacity > 0 ? (busyIntegral - old.busy) / capacity : 0
        target = a.targetUtilization
      case .requestRate:
        metric = Double(arrivedAll - old.arrived) / (now - old.time).seconds / Double(ready)
        target = a.targetRate
      }
      let ratio = metric / target
      let n = current
      var recommendation = n
      if abs(ratio - 1) > a.tolerance {
        recommendation = min(p.maxInstances, max(p.minInstances, Int((Double(n) * ratio).rounded(.up))))
      }
      recommendations.append((now, recommendation))
      while let first = recommendations.first, now - first.time > a.scaleDownStabilization {
        _ = recommendations.popFirst()
      }
      // Scale in only to the largest recommendation of the stabilisation window.
      var stable = recommendation
      for k in 0..<recommendations.count { stable = max(stable, recommendations[k].desired) }
      if recommendation > n {
        if lastScaleOut.map({ now - $0 >= a.cooldown }) ?? true {
          desired = recommendation
          lastScaleOut = now
          scaleOuts += 1
          replaceMissing()
        }
      } else if stable < n {
        desired = stable
        scaleIns += 1
        drain(n - stable)
      }
    }
    simulator.schedule(after: a.syncPeriod, to: me, kind: Kind.autoscale.rawValue)
  }

  /// Scale-in: the newest (highest-numbered) instances leave the rotation; starting ones stop at
  /// once, ready ones finish what they hold.
  func drain(_ count: Int) {
    var left = count
    for i in instances.indices.reversed() where left > 0 {
      switch instances[i].state {
      case .starting:
        setState(i, .off)
        left -= 1
      case .ready:
        instances[i].inRotation = false
        rebuildRotation()
        left -= 1
        if instances[i].outstanding == 0 { terminate(i) } else { setState(i, .draining) }
      case .off, .draining: break
      }
    }
  }

  // MARK: Statistics

  func resetStatistics() {
    let now = simulator.now
    latency.reset()
    instanceResponse.reset()
    (requestsTotal, served, rejected, failed, sessionsLost, scaleOuts, scaleIns) = (0, 0, 0, 0, 0, 0, 0)
    provisioned.reset(at: now)
    readyCount.reset(at: now)
    for k in atLeast.indices { atLeast[k].reset(at: now) }
    for i in busyPerInstance.indices {
      busyPerInstance[i].reset(at: now)
      activePerInstance[i].reset(at: now)
    }
    inFlightAtReset = requests.count - freeRequests.count
  }
  var inFlightAtReset = 0

  func sample() {
    let now = simulator.now
    advanceIntegrals()
    series.append(time: now, metric: "service.instances", value: provisioned.value)
    series.append(time: now, metric: "service.instances_ready", value: readyCount.value)
    series.append(
      time: now, metric: "service.utilization", value: intervalCapacity > 0 ? intervalBusy / intervalCapacity : .nan)
    series.append(time: now, metric: "service.latency_p99", value: intervalLatency.percentile(99))
    series.append(
      time: now, metric: "service.request_rate", value: Double(intervalRequests) / sampleInterval!.seconds)
    intervalLatency.reset()
    (intervalBusy, intervalCapacity, intervalRequests) = (0, 0, 0)
    simulator.schedule(after: sampleInterval!, to: me, kind: Kind.sample.rawValue)
  }
}
