import SimKernel

/// The simulation of a ``QueueingParameters`` network: one handler for every source and station.
///
/// Customers are slots in flat arrays (recycled through a free list), so a run allocates
/// nothing per customer in steady state. Each source and station draws from its own named
/// streams (`source.NAME`, `station.NAME.service`, `station.NAME.routing`), so changing one
/// station's parameters leaves every other component's draws unchanged.
public final class QueueingNetwork: EventHandler {
  enum Kind: Int32 {
    case arrival = 0  // payload: source index
    case departure = 1  // payload: customer slot
    case endOfWarmup = 2
  }

  struct StationState {
    let servers: Int
    let capacity: Int
    let service: Distribution
    let serviceStream: RandomStream
    let routingStream: RandomStream
    let routes: [(station: Int, cumulative: Double)]
    var busy = 0
    var queue = RingBuffer<Int32>()
    // Statistics, reset at the end of the warm-up.
    var arrivals = 0
    var lost = 0
    var departures = 0
    var waiting = LatencyHistogram()
    var response = LatencyHistogram()
    var inQueue = TimeWeightedAverage()
    var inSystem = TimeWeightedAverage()
    var busyServers = TimeWeightedAverage()
  }

  struct SourceState {
    let interarrival: Distribution
    let stream: RandomStream
    let routingStream: RandomStream
    let routes: [(station: Int, cumulative: Double)]
  }

  let parameters: QueueingParameters
  let context: RunContext
  // The simulator owns this network (as it owns every entity), so the reference back is unowned:
  // a strong one would be a cycle that keeps every run's model alive.
  unowned let simulator: Simulator
  var me = EntityID(0)
  var stations: [StationState] = []
  var sources: [SourceState] = []

  // Customers: when they entered the network and the station they are at.
  var enteredNetwork: [SimTime] = []
  var enteredStation: [SimTime] = []
  var freeSlots: [Int32] = []
  public private(set) var customersInNetwork = 0

  // End-to-end statistics.
  var networkArrivals = 0
  var networkLost = 0
  var networkDepartures = 0
  var sojourn = LatencyHistogram()

  /// Builds the network on `simulator`; parameters must be valid (see ``QueueingParameters/validate()``).
  public init(parameters: QueueingParameters, context: RunContext, simulator: Simulator) {
    self.parameters = parameters
    self.context = context
    self.simulator = simulator
    let index = { (name: String) in parameters.stations.firstIndex { $0.name == name }! }
    func cumulative(_ routes: [QueueingParameters.Route]) -> [(Int, Double)] {
      var total = 0.0
      return routes.map { route in
        total += route.probability
        return (index(route.to), total)
      }
    }
    for station in parameters.stations {
      stations.append(
        StationState(
          servers: station.servers, capacity: station.capacity ?? Int.max, service: station.service,
          serviceStream: context.streams.stream("station.\(station.name).service"),
          routingStream: context.streams.stream("station.\(station.name).routing"),
          routes: cumulative(station.routing)))
    }
    for source in parameters.sources {
      sources.append(
        SourceState(
          interarrival: source.interarrival, stream: context.streams.stream("source.\(source.name)"),
          routingStream: context.streams.stream("source.\(source.name).routing"), routes: cumulative(source.routing)))
    }
    me = simulator.register(self)
    for (i, source) in sources.enumerated() {
      simulator.schedule(
        after: source.interarrival.sampleTime(source.stream), to: me, kind: Kind.arrival.rawValue, payload: Int64(i))
    }
    if context.warmup > .zero {
      simulator.schedule(at: context.warmup, to: me, kind: Kind.endOfWarmup.rawValue)
    }
  }

  /// Runs to the horizon and returns the metrics.
  public static func run(_ parameters: QueueingParameters, context: RunContext) throws(ValueError) -> Metrics {
    try context.validate()
    try parameters.validate()
    let simulator = Simulator()
    let network = QueueingNetwork(parameters: parameters, context: context, simulator: simulator)
    simulator.run(until: context.duration)
    return network.metrics()
  }

  public func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .arrival: sourceArrival(Int(event.payload))
    case .departure: serviceCompleted(event.payload)
    case .endOfWarmup: resetStatistics()
    case nil: preconditionFailure("unknown event kind \(event.kind)")
    }
  }

  func sourceArrival(_ index: Int) {
    let source = sources[index]
    simulator.schedule(
      after: source.interarrival.sampleTime(source.stream), to: me, kind: Kind.arrival.rawValue, payload: Int64(index))
    networkArrivals += 1
    guard let station = route(source.routes, source.routingStream) else {
      networkDepartures += 1  // routed straight out: a zero-length visit
      sojourn.record(.zero)
      return
    }
    let customer = newCustomer()
    if !arrive(customer, at: station) { leave(customer, lost: true) }
  }

  /// A customer arrives at a station; false if the station is full and the customer is lost.
  func arrive(_ customer: Int32, at index: Int) -> Bool {
    let now = simulator.now
    stations[index].arrivals += 1
    let inSystem = stations[index].busy + stations[index].queue.count
    guard inSystem < stations[index].capacity else {
      stations[index].lost += 1
      return false
    }
    enteredStation[Int(customer)] = now
    stations[index].inSystem.update(Double(inSystem + 1), at: now)
    if stations[index].busy < stations[index].servers {
      startService(customer, at: index, waited: .zero)
    } else {
      stations[index].queue.append(customer)
      stations[index].inQueue.update(Double(stations[index].queue.count), at: now)
    }
    return true
  }

  func startService(_ customer: Int32, at index: Int, waited: SimTime) {
    let now = simulator.now
    stations[index].busy += 1
    stations[index].busyServers.update(Double(stations[index].busy), at: now)
    stations[index].waiting.record(waited)
    let duration = stations[index].service.sampleTime(stations[index].serviceStream)
    // The event carries the customer's slot (24 bits) and its station (the 15 bits above).
    let payload = Int64(customer) | (Int64(index) << 24)
    simulator.schedule(after: duration, to: me, kind: Kind.departure.rawValue, payload: payload)
  }

  /// A service ends: the server takes the next waiting customer, and this one moves on.
  func serviceCompleted(_ payload: Int64) {
    let customer = Int32(truncatingIfNeeded: payload & 0xFF_FFFF)
    let index = Int(payload >> 24)
    let now = simulator.now
    stations[index].departures += 1
    stations[index].response.record(now - enteredStation[Int(customer)])
    stations[index].busy -= 1
    if let next = stations[index].queue.popFirst() {
      stations[index].inQueue.update(Double(stations[index].queue.count), at: now)
      startService(next, at: index, waited: now - enteredStation[Int(next)])
    } else {
      stations[index].busyServers.update(Double(stations[index].busy), at: now)
    }
    stations[index].inSystem.update(Double(stations[index].busy + stations[index].queue.count), at: now)
    if let nextStation = route(stations[index].routes, stations[index].routingStream) {
      if !arrive(customer, at: nextStation) { leave(customer, lost: true) }
    } else {
      leave(customer, lost: false)
    }
  }

  func leave(_ customer: Int32, lost: Bool) {
    if lost {
      networkLost += 1
    } else {
      networkDepartures += 1
      sojourn.record(simulator.now - enteredNetwork[Int(customer)])
    }
    freeSlots.append(customer)
    customersInNetwork -= 1
  }

  func newCustomer() -> Int32 {
    customersInNetwork += 1
    if let slot = freeSlots.popLast() {
      enteredNetwork[Int(slot)] = simulator.now
      return slot
    }
    enteredNetwork.append(simulator.now)
    enteredStation.append(simulator.now)
    return Int32(enteredNetwork.count - 1)
  }

  /// Picks the next station by the routing probabilities; nil means the customer leaves.
  func route(_ routes: [(station: Int, cumulative: Double)], _ stream: RandomStream) -> Int? {
    if routes.isEmpty { return nil }
    if routes.count == 1, routes[0].cumulative >= 1 { return routes[0].station }
    let u = stream.uniform()
    for route in routes where u < route.cumulative { return route.station }
    return nil
  }

  func resetStatistics() {
    let now = simulator.now
    for i in stations.indices {
      stations[i].arrivals = 0
      stations[i].lost = 0
      stations[i].departures = 0
      stations[i].waiting.reset()
      stations[i].response.reset()
      stations[i].inQueue.reset(at: now)
      stations[i].inSystem.reset(at: now)
      stations[i].busyServers.reset(at: now)
    }
    networkArrivals = 0
    networkLost = 0
    networkDepartures = 0
    sojourn.reset()
  }
}
