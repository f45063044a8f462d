import Foundation
import SimKernel
import SimPlatform

/// The instances, the balancer, the clients and the autoscaler of a `model: service` run.
///
/// A request goes client -> balancer -> instance -> balancer -> client, each leg the platform
/// network's latency between the two hosts. The balancer counts a request outstanding at an
/// instance from its dispatch until the response passes back through it (what Envoy's
/// LEAST_REQUEST and NGINX's least_conn see). An instance is a ``ServerPool`` of `threads`
/// workers on its host; one beyond `threads + queue_limit` requests in it is rejected (503).
final class ServiceCluster: EventHandler, PlatformObserver, ServerPoolObserver {
  enum Kind: Int32 {
    case arrival = 0
    case atBalancer = 1  // payload: request slot
    case atInstance = 2  // payload: request slot
    case backAtBalancer = 3  // payload: request slot
    case backAtClient = 4  // payload: request slot
    case rateChange = 5
    case healthCheck = 6
    case sync = 7
    case ready = 8  // payload: instance << 24 | launch generation
    case endOfWarmup = 9
    case sample = 10
  }

  enum State: UInt8 {
    /// No instance on the host (never launched, terminated, or its host died and was noticed).
    case off
    /// Launched: booting for `startup_time`, then in the balancer's initial health checks.
    case starting
    case running
    /// Out of rotation, finishing its in-flight requests.
    case draining
    /// Its host died: in flight lost; the balancer routes to it until health checks notice.
    case dead
  }

  struct Request {
    var client: Int32
    var session: Int32
    var instance: Int32 = -1
    var start: SimTime
    var counted: Bool
  }

  let p: ServiceParameters
  unowned let platform: Platform
  unowned let simulator: Simulator
  var me = EntityID(0)
  let warmup: SimTime
  let sampleInterval: SimTime?
  let balancer: HostID
  let clients: [HostID]
  let clientLatency: [SimTime]
  let instanceLatency: [SimTime]
  // Randomness, one stream per purpose.
  let arrivalStream: RandomStream
  let clientStream: RandomStream
  let sessionStream: RandomStream
  let routeStream: RandomStream
  let serviceStream: RandomStream
  let storeStream: RandomStream
  let startupStream: RandomStream
  var sessionTable: DiscreteTable?
  // Requests in flight (slots reused).
  var requests: [Request] = []
  var freeRequests: [Int32] = []
  var pendingArrival: EventHandle?
  // Instances, by pool slot (= host index).
  var pools: [ServerPool] = []
  var state: [State] = []
  var generation: [Int32] = []
  var healthy: [Bool] = []
  var failedChecks: [Int] = []
  /// A starting instance's process is up (it answers health checks), the checks it has passed in
  /// a row, and how many it needs to enter the rotation (1 when new, `healthy_threshold` when
  /// an unhealthy instance's host has come back).
  var booted: [Bool] = []
  var passedChecks: [Int] = []
  var checksNeeded: [Int] = []
  /// Requests in the instance (queued or in service), and outstanding at the balancer.
  var inSystem: [Int] = []
  var outstanding: [Int] = []
  /// Since the start: thread-seconds busy and seconds in service (running or draining).
  var busyArea: [Double] = []
  var readyTime: [Double] = []
  var lastAccrual: [SimTime] = []
  var busyAtWarmup: [Double] = []
  var readyAtWarmup: [Double] = []
  /// The instances the balancer routes to, and each instance's place in it (-1: not in it).
  var rotation: [Int32] = []
  var rotationIndex: [Int] = []
  var ring = HashRing(members: [], vnodes: 1)
  var nextRoundRobin = 0
  // Sessions (sticky): the instance holding each session's state, and its last request.
  var binding: [Int32] = []
  var lastAccess: [SimTime] = []
  // The replica controller and autoscaler.
  var desired = 0
  var lastScaleOut: SimTime?
  var windowSamples: [(busy: Double, ready: Double, dispatched: Double)] = []
  var recommendations: [Int] = []
  var dispatchedTotal = 0.0
  // Statistics (after the warm-up).
  var latency = LatencyHistogram()
  var intervalLatency = LatencyHistogram()
  var offered = 0
  var served = 0
  var rejected = 0
  var failed = 0
  var sessionsLost = 0
  var scaleOuts = 0
  var scaleIns = 0
  var billed = TimeWeightedAverage()
  var ready = TimeWeightedAverage()
  /// Instances with at least k requests in them, k = 1...tailDepth (index k - 1).
  var atLeast: [TimeWeightedAverage] = []
  var atLeastNow: [Int] = []
  // Steady-state signals (from the start).
  var servedTotal = 0
  var latencySumTotal = 0.0
  // Time series.
  var series = TimeSeries()
  var intervalBusy = 0.0
  var intervalReady = 0.0
  var intervalRejected = 0
  var intervalFailed = 0

  init(parameters: ServiceParameters, platform: Platform, simulator: Simulator, context: RunContext) {
    p = parameters
    self.platform = platform
    self.simulator = simulator
    warmup = context.warmup
    sampleInterval = context.timeseriesInterval
    let n = p.maxInstances
    balancer = HostID(Int32(n))
    clients =
      platform.hostCount > n + 1 ? (n + 1..<platform.hostCount).map { HostID(Int32($0)) } : [balancer]
    clientLatency = clients.map { platform.latency(from: $0, to: HostID(Int32(n))) }
    instanceLatency = (0..<n).map { platform.latency(from: HostID(Int32(n)), to: HostID(Int32($0))) }
    arrivalStream = context.streams.stream("service.arrivals")
    clientStream = context.streams.stream("service.clients")
    sessionStream = context.streams.stream("service.sessions")
    routeStream = context.streams.stream("service.routing")
    serviceStream = context.streams.stream("service.service")
    storeStream = context.streams.stream("service.store")
    startupStream = context.streams.stream("service.startup")
    me = simulator.register(self)
    if let skew = p.sessionSkew {
      // Positive, finite weights: the table cannot refuse them.
      sessionTable = try! DiscreteTable(weights: (0..<p.sessions).map { pow(Double($0 + 1), -skew) })
    }
    pools = (0..<n).map {
      ServerPool(servers: p.threads, simulator: simulator, on: HostID(Int32($0)), platform: platform)
    }
    platform.addObserver(self)
    platform.assignRole("instance", hosts: (0..<Int32(n)).map(HostID.init))
    platform.assignRole("balancer", hosts: [balancer])
    if clients != [balancer] { platform.assignRole("client", hosts: clients) }
    state = Array(repeating: .off, count: n)
    generation = Array(repeating: 0, count: n)
    healthy = Array(repeating: true, count: n)
    failedChecks = Array(repeating: 0, count: n)
    booted = Array(repeating: false, count: n)
    passedChecks = failedChecks
    checksNeeded = Array(repeating: 1, count: n)
    inSystem = Array(repeating: 0, count: n)
    outstanding = inSystem
    busyArea = Array(repeating: 0, count: n)
    readyTime = busyArea
    busyAtWarmup = busyArea
    readyAtWarmup = busyArea
    lastAccrual = Array(repeating: .zero, count: n)
    rotationIndex = Array(repeating: -1, count: n)
    atLeast = Array(repeating: TimeWeightedAverage(), count: ServiceParameters.tailDepth)
    atLeastNow = Array(repeating: 0, count: ServiceParameters.tailDepth)
    if p.sessionMode == .sticky {
      binding = Array(repeating: -1, count: p.sessions + p.spikeSessions)
      lastAccess = Array(repeating: .zero, count: p.sessions + p.spikeSessions)
    }
    // The initial instances are up and in rotation at time 0.
    desired = p.instances
    // Pool hosts with no instance are not provisioned (billed) until one is launched on them.
    for i in 0..<n { platform.setProvisioned(HostID(Int32(i)), false) }
    for i in 0..<p.instances where platform.isUp(HostID(Int32(i))) { setState(i, .running) }
    rebuildRotation()
    scheduleArrival()
    if let at = p.spikeAt {
      simulator.schedule(at: at, to: me, kind: Kind.rateChange.rawValue)
      if at + p.spikeFor < SimTime.max {
        simulator.schedule(at: at + p.spikeFor, to: me, kind: Kind.rateChange.rawValue)
      }
    }
    simulator.schedule(after: p.healthCheckInterval, to: me, kind: Kind.healthCheck.rawValue)
    if let a = p.autoscaling { simulator.schedule(after: a.syncPeriod, to: me, kind: Kind.sync.rawValue) }
    if warmup > .zero { simulator.schedule(at: warmup, to: me, kind: Kind.endOfWarmup.rawValue) }
    if let interval = sampleInterval { simulator.schedule(after: interval, to: me, kind: Kind.sample.rawValue) }
  }

  // MARK: Events

  func handle(_ event: Event, in simulator: Simulator) {
    let slot = Int32(truncatingIfNeeded: event.payload)
    switch Kind(rawValue: event.kind) {
    case .arrival: arrive()
    case .atBalancer: route(slot)
    case .atInstance: reachInstance(slot)
    case .backAtBalancer: backAtBalancer(slot)
    case .backAtClient: answered(slot)
    case .rateChange:
      if let pending = pendingArrival { simulator.cancel(pending) }
      scheduleArrival()
    case .healthCheck:
      healthCheck()
      simulator.schedule(after: p.healthCheckInterval, to: me, kind: Kind.healthCheck.rawValue)
    case .sync:
      autoscale()
      simulator.schedule(after: p.autoscaling!.syncPeriod, to: me, kind: Kind.sync.rawValue)
    case .ready: becameReady(Int(event.payload >> 24), generation: Int32(event.payload & 0xFF_FFFF))
    case .endOfWarmup: endWarmup()
    case .sample:
      sample()
      simulator.schedule(after: sampleInterval!, to: me, kind: Kind.sample.rawValue)
    case nil: break
    }
  }

  // MARK: Requests

  func scheduleArrival() {
    let rate = p.rate(at: simulator.now)
    pendingArrival = simulator.schedule(
      after: SimTime(seconds: arrivalStream.exponential(mean: 1 / rate)), to: me, kind: Kind.arrival.rawValue)
  }

  func arrive() {
    scheduleArrival()
    let client = clients.count == 1 ? 0 : clientStream.uniformInt(clients.count)
    let session: Int
    let rate = p.rate(at: simulator.now)
    if rate > p.rate, sessionStream.uniform() * rate >= p.rate {
      session = p.sessions + sessionStream.uniformInt(p.spikeSessions)
    } else {
      session = sessionTable.map { sessionStream.discrete($0) } ?? sessionStream.uniformInt(p.sessions)
    }
    let counted = simulator.now >= warmup
    if counted { offered += 1 }
    let request = Request(client: Int32(client), session: Int32(session), start: simulator.now, counted: counted)
    let slot = requests.store(request, reusing: &freeRequests)
    simulator.schedule(after: clientLatency[client], to: me, kind: Kind.atBalancer.rawValue, payload: Int64(slot))
  }

  func finish(_ slot: Int32) { freeRequests.append(slot) }

  func reject(_ slot: Int32) {
    if requests[Int(slot)].counted {
      rejected += 1
      intervalRejected += 1
    }
    finish(slot)
  }

  func fail(_ slot: Int32) {
    if requests[Int(slot)].counted {
      failed += 1
      intervalFailed += 1
    }
    finish(slot)
  }

  /// The balancer picks an instance (none in rotation: 503 at once).
  func route(_ slot: Int32) {
    let session = Int(requests[Int(slot)].session)
    guard let instance = choose(session: session) else { return reject(slot) }
    if p.sessionMode == .sticky {
      let bound = binding[session]
      if bound >= 0, bound != instance, state[Int(bound)] != .dead,
        simulator.now - lastAccess[session] < p.sessionTimeout
      {
        // The session's state is on another live instance (a ring that changed): it starts again
        // here. (One bound to a dead instance was counted when it died, or never had state there.)
        if requests[Int(slot)].counted { sessionsLost += 1 }
      }
      binding[session] = instance
      lastAccess[session] = simulator.now
    }
    requests[Int(slot)].instance = instance
    outstanding[Int(instance)] += 1
    dispatchedTotal += 1
    simulator.schedule(
      after: instanceLatency[Int(instance)], to: me, kind: Kind.atInstance.rawValue, payload: Int64(slot))
  }

  func choose(session: Int) -> Int32? {
    guard !rotation.isEmpty else { return nil }
    if p.sessionMode == .sticky, p.policy != .consistentHash {
      let bound = binding[session]
      if bound >= 0, rotationIndex[Int(bound)] >= 0 { return bound }
    }
    switch p.policy {
    case .roundRobin:
      nextRoundRobin = (nextRoundRobin + 1) % rotation.count
      return rotation[nextRoundRobin]
    case .random:
      return rotation[routeStream.uniformInt(rotation.count)]
    case .leastConnections:
      // The fewest outstanding; ties broken uniformly at random (reservoir sampling).
      var best = Int.max
      var chosen: Int32 = -1
      var ties = 0
      for i in rotation {
        let load = outstanding[Int(i)]
        if load < best {
          best = load
          chosen = i
          ties = 1
        } else if load == best {
          ties += 1
          if routeStream.uniformInt(ties) == 0 { chosen = i }
        }
      }
      return chosen
    case .powerOfD:
      // d instances drawn independently (with replacement, as Envoy and the supermarket model do);
      // the least loaded of them, the first drawn on a tie.
      var chosen = rotation[routeStream.uniformInt(rotation.count)]
      for _ in 1..<p.choices {
        let other = rotation[routeStream.uniformInt(rotation.count)]
        if outstanding[Int(other)] < outstanding[Int(chosen)] { chosen = other }
      }
      return chosen
    case .consistentHash:
      return ring.member(forKey: session)
    }
  }

  func reachInstance(_ slot: Int32) {
    let i = Int(requests[Int(slot)].instance)
    guard state[i] == .running || state[i] == .draining || state[i] == .dead else {
      // Terminated while the request travelled: connection refused.
      outstanding[i] -= 1
      return fail(slot)
    }
    if let limit = p.queueLimit, state[i] != .dead, inSystem[i] >= p.threads + limit {
      outstanding[i] -= 1
      checkDrained(i)
      return reject(slot)
    }
    var service = p.service.sampleTime(serviceStream)
    if p.sessionMode == .stateless { service = service + p.storeLatency.sampleTime(storeStream) }
    changeLoad(i, by: 1)
    pools[i].submit(service: service, tag: Int64(slot), observer: self)
  }

  func requestServed(tag: Int64, waited: SimTime, in simulator: Simulator) {
    let slot = Int32(tag)
    let i = Int(requests[Int(slot)].instance)
    changeLoad(i, by: -1)
    simulator.schedule(after: instanceLatency[i], to: me, kind: Kind.backAtBalancer.rawValue, payload: Int64(slot))
  }

  func requestDropped(tag: Int64, reason: FailureReason, in simulator: Simulator) {
    let slot = Int32(tag)
    let i = Int(requests[Int(slot)].instance)
    changeLoad(i, by: -1)
    outstanding[i] -= 1
    fail(slot)
  }

  func backAtBalancer(_ slot: Int32) {
    let i = Int(requests[Int(slot)].instance)
    outstanding[i] -= 1
    checkDrained(i)
    let client = Int(requests[Int(slot)].client)
    simulator.schedule(after: clientLatency[client], to: me, kind: Kind.backAtClient.rawValue, payload: Int64(slot))
  }

  func answered(_ slot: Int32) {
    let r = requests[Int(slot)]
    let t = simulator.now - r.start
    servedTotal += 1
    latencySumTotal += t.seconds
    if r.counted {
      served += 1
      latency.record(t)
      intervalLatency.record(t)
    }
    finish(slot)
  }

  // MARK: Instances

  /// Brings busy thread-seconds and seconds in service up to now.
  func accrue(_ i: Int) {
    let now = simulator.now
    let dt = (now - lastAccrual[i]).seconds
    if state[i] == .running || state[i] == .draining {
      readyTime[i] += dt
      busyArea[i] += Double(min(inSystem[i], p.threads)) * dt
    }
    lastAccrual[i] = now
  }

  func changeLoad(_ i: Int, by delta: Int) {
    accrue(i)
    let before = inSystem[i]
    inSystem[i] += delta
    let k = delta > 0 ? inSystem[i] : before  // the level entered or left
    if k >= 1, k <= ServiceParameters.tailDepth {
      atLeastNow[k - 1] += delta
      atLeast[k - 1].update(Double(atLeastNow[k - 1]), at: simulator.now)
    }
  }

  func isBilled(_ s: State) -> Bool { s == .starting || s == .running || s == .draining }

  func setState(_ i: Int, _ new: State) {
    accrue(i)
    let old = state[i]
    state[i] = new
    let now = simulator.now
    if isBilled(old) != isBilled(new) {
      billed.add(isBilled(new) ? 1 : -1, at: now)
      platform.setProvisioned(HostID(Int32(i)), isBilled(new))
    }
    if (old == .running) != (new == .running) { ready.add(new == .running ? 1 : -1, at: now) }
  }

  func rebuildRotation() {
    let old = rotation
    rotation = (0..<p.maxInstances).filter { (state[$0] == .running || state[$0] == .dead) && healthy[$0] }.map {
      Int32($0)
    }
    guard rotation != old else { return }
    for i in rotationIndex.indices { rotationIndex[i] = -1 }
    for (k, i) in rotation.enumerated() { rotationIndex[Int(i)] = k }
    if p.policy == .consistentHash { ring = HashRing(members: rotation, vnodes: p.vnodes) }
  }

  /// Sticky sessions whose state was on `i` and are still live are lost now.
  func loseSessions(on i: Int) {
    guard p.sessionMode == .sticky else { return }
    let now = simulator.now
    for s in binding.indices where binding[s] == Int32(i) {
      if now - lastAccess[s] < p.sessionTimeout, now >= warmup { sessionsLost += 1 }
      binding[s] = -1
    }
  }

  /// Starts an instance on pool host `i`; it enters the rotation once ready and past `checks`
  /// health checks in a row.
  func launch(_ i: Int, checks: Int = 1) {
    generation[i] = (generation[i] + 1) & 0xFF_FFFF
    healthy[i] = true
    failedChecks[i] = 0
    booted[i] = false
    passedChecks[i] = 0
    checksNeeded[i] = checks
    setState(i, .starting)
    simulator.schedule(
      after: p.startupTime.sampleTime(startupStream), to: me, kind: Kind.ready.rawValue,
      payload: Int64(i) << 24 | Int64(generation[i]))
  }

  /// The process is up: it passes health checks from now on (ALB: a newly registered target
  /// must pass one before it gets traffic).
  func becameReady(_ i: Int, generation g: Int32) {
    guard state[i] == .starting, generation[i] == g else { return }
    booted[i] = true
  }

  func drain(_ i: Int) {
    if state[i] == .starting {
      setState(i, .off)
      return
    }
    setState(i, .draining)
    rebuildRotation()
    loseSessions(on: i)
    checkDrained(i)
  }

  func checkDrained(_ i: Int) {
    guard state[i] == .draining, inSystem[i] == 0, outstanding[i] == 0 else { return }
    setState(i, .off)
  }

  func hostChanged(_ host: HostID, up: Bool, in simulator: Simulator) {
    let i = Int(host.index)
    guard i < p.maxInstances else { return }
    if !up {
      switch state[i] {
      case .off, .dead: break
      case .starting: setState(i, .off)
      case .running:
        setState(i, .dead)
        loseSessions(on: i)
      case .draining:
        setState(i, .off)
        loseSessions(on: i)
      }
      reconcile()
    } else if state[i] == .dead {
      if p.replaceUnhealthy {
        // The process is gone; the controller launches a new one (here or elsewhere).
        terminate(i)
      } else {
        // A registered target whose host rebooted: the service starts again on it, and the
        // balancer puts it back after `healthy_threshold` passed checks if it had taken it out.
        launch(i, checks: healthy[i] ? 1 : p.healthyThreshold)
        rebuildRotation()
      }
    } else {
      reconcile()
    }
  }

  func terminate(_ i: Int) {
    setState(i, .off)
    rebuildRotation()
    reconcile()
  }

  /// ELB-style active checks: a dead instance failing `unhealthy_threshold` in a row leaves the
  /// rotation (and is terminated and replaced, unless `replace_unhealthy` is off: then it stays
  /// registered, out of rotation); a starting instance whose process is up enters the rotation
  /// after the checks it needs.
  func healthCheck() {
    var changed = false
    for i in 0..<p.maxInstances {
      if state[i] == .dead, healthy[i] {
        failedChecks[i] += 1
        guard failedChecks[i] >= p.unhealthyThreshold else { continue }
        healthy[i] = false
        if p.replaceUnhealthy { terminate(i) } else { changed = true }
      } else if state[i] == .starting, booted[i] {
        passedChecks[i] += 1
        guard passedChecks[i] >= checksNeeded[i] else { continue }
        setState(i, .running)
        changed = true
      }
    }
    if changed { rebuildRotation() }
  }

  /// Launches (lowest free host first) or drains (newest first) to keep `desired` instances
  /// starting or running; dead ones not yet noticed count, as a controller does not know yet.
  func reconcile() {
    var active = (0..<p.maxInstances).filter { state[$0] == .starting || state[$0] == .running || state[$0] == .dead }
      .count
    var i = 0
    while active < desired, i < p.maxInstances {
      if state[i] == .off, platform.isUp(HostID(Int32(i))) {
        launch(i)
        active += 1
      }
      i += 1
    }
    i = p.maxInstances - 1
    while active > desired, i >= 0 {
      if state[i] == .starting || state[i] == .running {
        drain(i)
        active -= 1
      }
      i -= 1
    }
  }

  // MARK: Autoscaling (Kubernetes HPA)

  func totals() -> (busy: Double, ready: Double, dispatched: Double) {
    var busy = 0.0
    var readySeconds = 0.0
    for i in 0..<p.maxInstances {
      accrue(i)
      busy += busyArea[i]
      readySeconds += readyTime[i]
    }
    return (busy, readySeconds, dispatchedTotal)
  }

  func autoscale() {
    let a = p.autoscaling!
    let now = totals()
    windowSamples.append(now)
    let back = Int(a.metricsWindow.nanoseconds / a.syncPeriod.nanoseconds)
    if windowSamples.count > back + 1 { windowSamples.removeFirst(windowSamples.count - back - 1) }
    let then = windowSamples.count > back ? windowSamples[0] : (busy: 0.0, ready: 0.0, dispatched: 0.0)
    let readySeconds = now.ready - then.ready
    let current = (0..<p.maxInstances).filter { state[$0] == .starting || state[$0] == .running }.count
    let readyCount = (0..<p.maxInstances).filter { state[$0] == .running }.count
    var recommendation = current
    if readySeconds > 0 {
      let metric =
        a.metric == .utilization
        ? (now.busy - then.busy) / (Double(p.threads) * readySeconds)
        : (now.dispatched - then.dispatched) / readySeconds
      let ratio = metric / (a.metric == .utilization ? a.targetUtilization : a.targetRate)
      if abs(ratio - 1) > a.tolerance {
        // Not-ready instances count as using nothing (the HPA's conservative rule for scale-up).
        let wanted = (Double(readyCount) * ratio).rounded(.up)
        recommendation = wanted >= Double(p.maxInstances) ? p.maxInstances : Int(wanted)
        if ratio > 1 { recommendation = max(recommendation, current) }
      }
    }
    recommendation = min(p.maxInstances, max(p.minInstances, recommendation))
    let keep = Int(a.scaleDownStabilization.nanoseconds / a.syncPeriod.nanoseconds) + 1
    recommendations.append(recommendation)
    if recommendations.count > keep { recommendations.removeFirst(recommendations.count - keep) }
    let stabilized = recommendations.max()!
    let clock = simulator.now
    if recommendation > current {
      if let last = lastScaleOut, clock - last < a.cooldown { return }
      lastScaleOut = clock
      scaleOuts += 1
      desired = recommendation
      reconcile()
    } else if stabilized < current {
      scaleIns += 1
      desired = stabilized
      reconcile()
    } else {
      desired = current
    }
  }

  // MARK: Statistics

  func endWarmup() {
    let now = simulator.now
    latency.reset()
    offered = 0
    served = 0
    rejected = 0
    failed = 0
    sessionsLost = 0
    scaleOuts = 0
    scaleIns = 0
    billed.reset(at: now)
    ready.reset(at: now)
    for k in atLeast.indices { atLeast[k].reset(at: now) }
    for i in 0..<p.maxInstances {
      accrue(i)
      busyAtWarmup[i] = busyArea[i]
      readyAtWarmup[i] = readyTime[i]
    }
    for pool in pools { pool.resetStatistics() }
    // Requests already on their way are not in the counts.
  }

  func sample() {
    let now = simulator.now
    let t = totals()
    let busy = t.busy - intervalBusy
    let readySeconds = t.ready - intervalReady
    intervalBusy = t.busy
    intervalReady = t.ready
    series.append(time: now, metric: "service.instances", value: billed.value)
    series.append(time: now, metric: "service.ready_instances", value: ready.value)
    series.append(
      time: now, metric: "service.utilization",
      value: readySeconds > 0 ? busy / (Double(p.threads) * readySeconds) : .nan)
    series.append(
      time: now, metric: "service.latency_p99", value: intervalLatency.count > 0 ? intervalLatency.percentile(99) : .nan
    )
    series.append(time: now, metric: "service.rejected", value: Double(intervalRejected))
    series.append(time: now, metric: "service.failed", value: Double(intervalFailed))
    intervalLatency.reset()
    intervalRejected = 0
    intervalFailed = 0
  }

  /// Requests counted (started after the warm-up) and not yet answered, rejected or failed.
  var inFlight: Int { offered - served - rejected - failed }
}
