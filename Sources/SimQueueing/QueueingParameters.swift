import SimKernel

/// An open queueing network: sources feeding stations of identical FIFO servers, with
/// probabilistic routing between stations (a Jackson network when times are exponential).
public struct QueueingParameters: Sendable, Equatable {
  /// Where customers come from.
  public struct Source: Sendable, Equatable {
    public var name: String
    /// Time between successive arrivals.
    public var interarrival: Distribution
    /// Where each arrival goes: probabilities over stations; what is left over leaves at once.
    public var routing: [Route]

    public init(name: String, interarrival: Distribution, routing: [Route]) {
      self.name = name
      self.interarrival = interarrival
      self.routing = routing
    }
  }

  /// c identical servers with one FIFO queue.
  public struct Station: Sendable, Equatable {
    public var name: String
    public var servers: Int
    /// The most customers the station holds, in service and waiting; an arrival that finds it
    /// full is lost. nil is unlimited. M/M/c/c (Erlang's loss system) has capacity = servers.
    public var capacity: Int?
    public var service: Distribution
    /// Where a customer goes after service; what is left over of probability 1 leaves the network.
    public var routing: [Route]

    public init(name: String, servers: Int = 1, capacity: Int? = nil, service: Distribution, routing: [Route] = []) {
      self.name = name
      self.servers = servers
      self.capacity = capacity
      self.service = service
      self.routing = routing
    }
  }

  /// A branch of routing: to a station, with a probability.
  public struct Route: Sendable, Equatable {
    public var to: String
    public var probability: Double
    public init(to: String, probability: Double = 1) {
      self.to = to
      self.probability = probability
    }
  }

  public var sources: [Source]
  public var stations: [Station]

  public init(sources: [Source], stations: [Station]) {
    self.sources = sources
    self.stations = stations
  }

  /// A single station fed by one Poisson source: M/G/c, or M/G/c/K with a capacity.
  public static func singleStation(
    arrivalRate: Double, service: Distribution, servers: Int = 1, capacity: Int? = nil
  ) -> QueueingParameters {
    QueueingParameters(
      sources: [
        Source(name: "arrivals", interarrival: .exponential(mean: 1 / arrivalRate), routing: [Route(to: "station")])
      ],
      stations: [Station(name: "station", servers: servers, capacity: capacity, service: service)])
  }

  /// Checks names, counts, probabilities and distributions; errors name the offending key.
  public func validate() throws(ValueError) {
    guard !stations.isEmpty else {
      throw ValueError("a queueing network needs at least one station", key: "stations")
    }
    guard !sources.isEmpty else { throw ValueError("a queueing network needs at least one source", key: "sources") }
    var seen: [String] = []
    for station in stations {
      let key = "stations.\(station.name)"
      guard !station.name.isEmpty else { throw ValueError("a station has an empty name", key: "stations") }
      guard !seen.contains(station.name) else {
        throw ValueError("station '\(station.name)' is defined twice", key: key)
      }
      seen.append(station.name)
      guard station.servers >= 1 else {
        throw ValueError(
          "station '\(station.name)' needs at least 1 server, got \(station.servers)", key: key + ".servers")
      }
      if let capacity = station.capacity, capacity < station.servers {
        throw ValueError(
          "station '\(station.name)': capacity \(capacity) is less than its \(station.servers) servers",
          key: key + ".capacity",
          hint: "capacity counts customers in service too; leave it out for an unlimited queue")
      }
      do { try station.service.validate() } catch {
        throw ValueError("station '\(station.name)' service: \(error.message)", key: key + ".service", hint: error.hint)
      }
    }
    for station in stations {
      try validateRouting(station.routing, key: "stations.\(station.name).routing")
    }
    for source in sources {
      do { try source.interarrival.validate() } catch {
        throw ValueError(
          "source '\(source.name)' interarrival: \(error.message)", key: "sources.\(source.name).interarrival",
          hint: error.hint)
      }
      if source.interarrival.mean == 0 {
        throw ValueError(
          "source '\(source.name)': interarrival time must not be always 0", key: "sources.\(source.name).interarrival")
      }
      try validateRouting(source.routing, key: "sources.\(source.name).routing")
    }
  }

  private func validateRouting(_ routes: [Route], key: String) throws(ValueError) {
    var total = 0.0
    for route in routes {
      guard stations.contains(where: { $0.name == route.to }) else {
        var hint = "stations are: \(stations.map(\.name).joined(separator: ", "))"
        if let near = closestMatch(to: route.to, among: stations.map(\.name)) {
          hint = "did you mean '\(near)'? " + hint
        }
        throw ValueError("routing to unknown station '\(route.to)'", key: key, hint: hint)
      }
      guard route.probability.isFinite, route.probability >= 0, route.probability <= 1 else {
        throw ValueError("routing probability to '\(route.to)' must be in [0, 1], got \(route.probability)", key: key)
      }
      total += route.probability
    }
    guard total <= 1 + 1e-9 else {
      throw ValueError("routing probabilities add up to \(total), more than 1", key: key)
    }
  }
}
