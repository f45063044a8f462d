import SimKernel
import SimModel

/// The queueing network as a model configs can name: `model: queueing`.
public enum QueueingModel: SimulationModel {
  public static let name = "queueing"
  public static let documentation: String? = "docs/models/queueing.md"
  public static let judgesSteadyState = true
  public static let summary =
    "open queueing networks: Poisson or general sources, M/G/c/K stations, probabilistic routing"
  public static let headlineMetrics = [
    "station.*.response_mean", "station.*.response_p99", "station.*.utilisation", "station.*.loss_fraction",
  ]
  public static let metrics: [MetricInfo] = [
    MetricInfo(["station.*.arrivals"], .count, unit: "customers", "customers arriving at a station after the warm-up"),
    MetricInfo(["station.*.throughput"], .rate, unit: "customers/s", "departures per second"),
    MetricInfo(["station.*.loss_fraction"], .fraction, "arrivals turned away because the station was full"),
    MetricInfo(["station.*.utilisation"], .fraction, "time-average fraction of the station's servers busy"),
    MetricInfo(
      ["station.*.mean_queue_length"], .level, unit: "customers", "time-average customers waiting (not in service)"),
    MetricInfo(
      ["station.*.mean_in_system"], .level, unit: "customers",
      "time-average customers at the station, waiting or in service"),
    MetricInfo(
      ["station.*.in_system", "station.*.busy_servers"], .count, unit: "customers",
      "series: customers at the station, and its busy servers, at each sample"),
    MetricInfo(["station.*.wait_*"], .duration, "waiting time before service: mean, p50, p90, p99, p999"),
    MetricInfo(["station.*.response_*"], .duration, "waiting plus service: mean, p50, p90, p99, p999"),
    MetricInfo(["network.arrivals"], .count, unit: "customers", "customers entering the network"),
    MetricInfo(["network.throughput"], .rate, unit: "customers/s", "customers leaving the network per second"),
    MetricInfo(["network.loss_fraction"], .fraction, "customers turned away somewhere"),
    MetricInfo(["network.response_*"], .duration, "time from entering to leaving the network: mean and percentiles"),
    MetricInfo(
      ["theory.utilisation", "theory.loss_fraction"], .fraction,
      "closed forms for one station fed by one Poisson source (M/M/c, M/G/1, Erlang B), NaN where none applies"),
    MetricInfo(["theory.mean_queue_length"], .level, unit: "customers", "the same, customers waiting"),
    MetricInfo(["theory.wait_mean", "theory.response_mean"], .duration, "the same, waiting and response times"),
  ]

  public static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError)
    -> QueueingParameters
  {
    let baseDirectory = input.baseDirectory
    let parameters: QueueingParameters
    reader.describe("sources", kind: "list", help: "arrival streams of a full network (see docs/models/queueing.md)")
    reader.describe("stations", kind: "list", help: "stations of a full network, instead of the keys above")
    if reader.has("stations") || reader.has("sources") {
      parameters = try decodeNetwork(&reader, baseDirectory: baseDirectory)
    } else {
      parameters = try decodeSingleStation(&reader, baseDirectory: baseDirectory)
    }
    // Everything is checked above, where each value stands; this is a safety net.
    do { try parameters.validate() } catch { throw reader.error(nil, error.message, hint: error.hint) }
    return parameters
  }

  /// `arrival_rate` (or `utilisation`, or `interarrival`), `service`, `servers`, `capacity`.
  static func decodeSingleStation(_ reader: inout ConfigReader, baseDirectory: String?) throws(ConfigError)
    -> QueueingParameters
  {
    let service = try reader.distribution(
      "service", .duration, default: .exponential(mean: 1), baseDirectory: baseDirectory,
      help: "service time of one customer")
    let servers = try reader.int(
      "servers", default: 1, range: 1...100_000, help: "identical servers sharing one FIFO queue")
    let capacity = try reader.optionalInt(
      "capacity", range: 1...Int.max, help: "most customers at the station, waiting or in service (none: unlimited)")
    if let capacity, capacity < servers {
      throw reader.error(
        "capacity", "capacity \(capacity) is less than its \(servers) servers",
        hint: "capacity counts customers in service too; leave it out for an unlimited queue")
    }
    let given = ["arrival_rate", "utilisation", "interarrival"].filter { reader.has($0) }
    guard given.count <= 1 else {
      throw reader.error(given[1], "give only one of arrival_rate, utilisation and interarrival")
    }
    let interarrival: Distribution
    switch given.first {
    case "utilisation":
      let rho = try reader.double("utilisation", range: 0...1e6, help: "offered load per server, λ E[S] / c")
      guard rho > 0 else { throw reader.error("utilisation", "utilisation must be > 0") }
      guard let meanService = service.mean, meanService > 0 else {
        throw reader.error("utilisation", "utilisation needs a service distribution with a finite, positive mean")
      }
      interarrival = .exponential(mean: meanService / (rho * Double(servers)))
    case "interarrival":
      interarrival = try reader.distribution(
        "interarrival", .duration, baseDirectory: baseDirectory, help: "time between arrivals (instead of arrival_rate)"
      )
    default:
      let rate = try reader.quantity("arrival_rate", .rate, default: 0.8, help: "Poisson arrival rate")
      guard rate > 0 else { throw reader.error("arrival_rate", "arrival_rate must be > 0", hint: "e.g. 100/s") }
      interarrival = .exponential(mean: 1 / rate)
    }
    // Extreme values can make the mean inter-arrival time overflow or vanish.
    if given.first == "interarrival", interarrival.mean == 0 {
      throw reader.error("interarrival", "interarrival time must not be always 0")
    }
    if let mean = interarrival.mean, !(mean.isFinite && mean > 0) {
      throw reader.error(
        given.first ?? "arrival_rate",
        "gives a mean time between arrivals of \(Quantity.shortest(mean))s, which cannot be simulated")
    }
    try checkArrivalLimit(interarrival, reader, given.first ?? "arrival_rate")
    if given.first != "utilisation" {
      reader.describe("utilisation", kind: "number", help: "offered load per server λE[S]/c (instead of arrival_rate)")
    }
    if given.first != "interarrival" {
      reader.describe(
        "interarrival", kind: "distribution of duration", help: "time between arrivals (instead of arrival_rate)")
    }
    return QueueingParameters(
      sources: [.init(name: "arrivals", interarrival: interarrival, routing: [.init(to: "station")])],
      stations: [.init(name: "station", servers: servers, capacity: capacity, service: service)])
  }

  /// The shortest mean time between a source's arrivals (1 µs, a rate of 1M/s): every
  /// customer is simulated one by one, and a mean of at least 1,000 ticks of the nanosecond
  /// clock keeps its rounding below 0.1%.
  static let minMeanInterarrival = 1e-6

  /// A source's arrivals at most 1M/s on average, checked where `key` stands.
  static func checkArrivalLimit(_ interarrival: Distribution, _ reader: ConfigReader, _ key: String)
    throws(ConfigError)
  {
    guard let mean = interarrival.mean, mean < minMeanInterarrival else { return }
    throw reader.error(
      key,
      "gives \(Quantity.format((1 / mean).rounded(), as: .rate)) arrivals (a mean time between arrivals of "
        + "\(Quantity.format(mean, as: .duration))), more than the model's limit of 1M/s",
      hint: "a mean time between arrivals of at least 1us; e.g. arrival_rate: 1k/s")
  }

  /// Lists of `sources` and `stations`, each with a `name` and `routing`.
  static func decodeNetwork(_ reader: inout ConfigReader, baseDirectory: String?) throws(ConfigError)
    -> QueueingParameters
  {
    var sources: [QueueingParameters.Source] = []
    var targets: [(name: String, location: SourceLocation, keyPath: String)] = []
    for (i, node) in try reader.list("sources", help: "arrival streams").enumerated() {
      var item = try ConfigReader(node, path: reader.keyPath("sources.\(i)"))
      let name = try item.string("name")
      let interarrival = try item.distribution("interarrival", .duration, baseDirectory: baseDirectory)
      if interarrival.mean == 0 { throw item.error("interarrival", "interarrival time must not be always 0") }
      try checkArrivalLimit(interarrival, item, "interarrival")
      let routing = try decodeRouting(&item, targets: &targets)
      try item.finish()
      sources.append(.init(name: name, interarrival: interarrival, routing: routing))
    }
    var stations: [QueueingParameters.Station] = []
    for (i, node) in try reader.list("stations", help: "stations of servers").enumerated() {
      var item = try ConfigReader(node, path: reader.keyPath("stations.\(i)"))
      let name = try item.string("name")
      if stations.contains(where: { $0.name == name }) {
        throw item.error("name", "station '\(name)' is defined twice", hint: "station names must be unique")
      }
      let servers = try item.int("servers", default: 1, range: 1...100_000)
      let capacity = try item.optionalInt("capacity", range: 1...Int.max)
      if let capacity, capacity < servers {
        throw item.error(
          "capacity", "capacity \(capacity) is less than its \(servers) servers",
          hint: "capacity counts customers in service too; leave it out for an unlimited queue")
      }
      let service = try item.distribution("service", .duration, baseDirectory: baseDirectory)
      let routing = try decodeRouting(&item, targets: &targets)
      try item.finish()
      stations.append(.init(name: name, servers: servers, capacity: capacity, service: service, routing: routing))
    }
    guard !sources.isEmpty else { throw reader.error(nil, "a network needs at least one entry under 'sources'") }
    guard !stations.isEmpty else { throw reader.error(nil, "a network needs at least one entry under 'stations'") }
    let names = stations.map(\.name)
    for target in targets where !names.contains(target.name) {
      var hint = "stations are: \(names.joined(separator: ", "))"
      if let near = closestMatch(to: target.name, among: names) { hint = "did you mean '\(near)'? " + hint }
      throw ConfigError(
        location: target.location, keyPath: target.keyPath, message: "routing to unknown station '\(target.name)'",
        hint: hint)
    }
    return QueueingParameters(sources: sources, stations: stations)
  }

  /// `routing: [{to: db, probability: 0.6}, ...]`, or the shorthand `to: db` for probability 1.
  /// Each target is added to `targets` with its place, to be checked once every station is known.
  static func decodeRouting(
    _ item: inout ConfigReader, targets: inout [(name: String, location: SourceLocation, keyPath: String)]
  ) throws(ConfigError) -> [QueueingParameters.Route] {
    if item.has("to") {
      guard !item.has("routing") else { throw item.error("to", "give either 'to' or 'routing', not both") }
      let to = try item.string("to")
      targets.append((to, item.node["to"]?.location ?? item.node.location, item.keyPath("to")))
      return [.init(to: to, probability: 1)]
    }
    var routes: [QueueingParameters.Route] = []
    var total = 0.0
    for (i, node) in try item.list("routing").enumerated() {
      var route = try ConfigReader(node, path: item.keyPath("routing.\(i)"))
      let to = try route.string("to")
      targets.append((to, node["to"]?.location ?? node.location, route.keyPath("to")))
      let probability = try route.probability("probability", default: 1)
      total += probability
      routes.append(.init(to: to, probability: probability))
      try route.finish()
    }
    if total > 1 + 1e-9 {
      throw item.error(
        "routing", "routing probabilities add up to \(Quantity.shortest((total * 1e9).rounded() / 1e9)), more than 1",
        hint: "what is left of 1 leaves the network; the probabilities may add up to at most 1")
    }
    return routes
  }

  public static func run(_ parameters: QueueingParameters, context: RunContext) throws(ValueError) -> RunOutput {
    try context.validate()
    try parameters.validate()
    let simulator = Simulator()
    let network = QueueingNetwork(parameters: parameters, context: context, simulator: simulator)
    var sampler: TimeSeriesSampler?
    if let interval = context.timeseriesInterval {
      let probe = TimeSeriesSampler(interval: interval, simulator: simulator)
      for (i, station) in parameters.stations.enumerated() {
        probe.addProbe("station.\(station.name).in_system") {
          Double(network.stations[i].busy + network.stations[i].queue.count)
        }
        probe.addProbe("station.\(station.name).busy_servers") { Double(network.stations[i].busy) }
      }
      sampler = probe
    }
    // Steady state: each station's number in system (a queue that grows without bound, or a
    // run too short for a heavily loaded one to settle).
    let monitor = SteadyStateMonitor(duration: context.duration, simulator: simulator)
    for (i, station) in parameters.stations.enumerated() {
      monitor.level("station.\(station.name).in_system") {
        Double(network.stations[i].busy + network.stations[i].queue.count)
      }
    }
    simulator.run(until: context.duration)
    var metrics = network.metrics()
    appendTheory(parameters, to: &metrics)
    monitor.report(into: &metrics)
    return RunOutput(metrics: metrics, timeseries: sampler?.series ?? TimeSeries())
  }

  /// Closed forms for a single station fed by a single Poisson source, where they exist.
  static func appendTheory(_ parameters: QueueingParameters, to metrics: inout Metrics) {
    guard parameters.sources.count == 1, parameters.stations.count == 1,
      case .exponential(let meanInterarrival) = parameters.sources[0].interarrival,
      parameters.sources[0].routing.count == 1, parameters.sources[0].routing[0].probability == 1,
      parameters.stations[0].routing.isEmpty
    else { return }
    let station = parameters.stations[0]
    let lambda = 1 / meanInterarrival
    let c = station.servers
    var wait = Double.nan
    var loss = 0.0
    var utilisation = Double.nan
    if let meanService = station.service.mean, let scv = station.service.squaredCoefficientOfVariation {
      let mu = 1 / meanService
      if let capacity = station.capacity {
        loss = capacity == c ? QueueingTheory.erlangB(servers: c, offeredLoad: lambda / mu) : .nan
        if capacity == c {
          wait = 0
          utilisation = lambda * (1 - loss) / (Double(c) * mu)
        }
      } else if lambda / (Double(c) * mu) < 1 {
        utilisation = lambda / (Double(c) * mu)
        if scv == 1, case .exponential = station.service {
          wait = (try? QueueingTheory.mmcMeanWait(lambda: lambda, mu: mu, servers: c)) ?? .nan
        } else if c == 1 {
          wait = (try? QueueingTheory.mg1MeanWait(lambda: lambda, meanService: meanService, serviceSCV: scv)) ?? .nan
        }
      }
      metrics.set("theory.utilisation", utilisation)
      metrics.set("theory.wait_mean", wait)
      metrics.set("theory.response_mean", wait + meanService)
      metrics.set("theory.mean_queue_length", lambda * (1 - loss) * wait)
      metrics.set("theory.loss_fraction", loss)
    }
  }
}
