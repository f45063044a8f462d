import SimKernel
import Testing

@testable import SimQueueing

@Suite struct QueueingTheoryTests {
  @Test func erlangFormulasMatchPublishedValues() throws {
    // Erlang B(5, 4) = 0.1991 and Erlang C(2, 1.6) = 0.7111 (standard tables).
    #expect(abs(QueueingTheory.erlangB(servers: 5, offeredLoad: 4) - 0.199067) < 1e-6)
    #expect(abs(QueueingTheory.erlangC(servers: 2, offeredLoad: 1.6) - 0.711111) < 1e-6)
    // With one server Erlang C is the utilisation, and M/M/1 response is 1/(mu - lambda).
    #expect(abs(QueueingTheory.erlangC(servers: 1, offeredLoad: 0.8) - 0.8) < 1e-12)
    #expect(abs(try QueueingTheory.mmcMeanResponse(lambda: 0.8, mu: 1, servers: 1) - 5) < 1e-12)
    // M/D/1 waits half as long as M/M/1.
    let md1 = try QueueingTheory.mg1MeanWait(lambda: 0.8, meanService: 1, serviceSCV: 0)
    let mm1 = try QueueingTheory.mmcMeanWait(lambda: 0.8, mu: 1, servers: 1)
    #expect(abs(md1 - mm1 / 2) < 1e-12)
  }

  @Test func noSteadyStateIsAnErrorNotANumber() {
    #expect {
      _ = try QueueingTheory.mmcMeanWait(lambda: 2, mu: 1, servers: 2)
    } throws: { error in
      (error as? ValueError)?.message.contains("no steady state") == true
    }
    #expect(throws: ValueError.self) { _ = try QueueingTheory.mmcMeanWait(lambda: -1, mu: 1, servers: 1) }
    #expect(throws: ValueError.self) { _ = try QueueingTheory.mmcMeanWait(lambda: 1, mu: 1, servers: 0) }
  }
}

@Suite struct QueueingModelTests {
  static let context = RunContext(
    duration: .seconds(2000), warmup: .seconds(100), streams: RandomStreams(experimentSeed: 5))

  /// Every theoretical value inside its simulated confidence interval. The intervals are
  /// Bonferroni-adjusted (each at 1 - 0.05/9) so that all nine hold together with 95%
  /// confidence; each must also be narrow (under 8% of the value, so that a 10% error in the
  /// model could not pass) for the check to mean anything.
  @Test(.tags(.statistical))
  func closedFormsLieInsideSimulatedConfidenceIntervals() throws {
    let checks = try QueueingValidation.standardChecks()
    let rows = try QueueingValidation.run(
      checks: checks, replications: 20, duration: .seconds(40000), warmup: .seconds(1000), seed: 1, jobs: 2)
    #expect(rows.count == 9)
    let level = 1 - 0.05 / Double(rows.count)
    for row in rows {
      let adjusted = ConfidenceInterval(
        count: row.interval.count, mean: row.interval.mean, standardDeviation: row.interval.standardDeviation,
        level: level)
      #expect(
        adjusted.contains(row.theory), "\(row.system) \(row.quantity): theory \(row.theory), simulated \(adjusted)")
      if row.theory != 0 {
        #expect(adjusted.halfWidth / row.theory < 0.08, "\(row.system) \(row.quantity): interval too wide to test")
      }
    }
  }

  @Test func theSameSeedGivesIdenticalMetricsAndAnotherSeedDoesNot() throws {
    let network = QueueingParameters.singleStation(arrivalRate: 0.7, service: .exponential(mean: 1), servers: 1)
    let a = try QueueingNetwork.run(network, context: Self.context)
    let b = try QueueingNetwork.run(network, context: Self.context)
    #expect(a == b)
    var other = Self.context
    other.streams = RandomStreams(experimentSeed: 6)
    #expect(try QueueingNetwork.run(network, context: other) != a)
  }

  @Test func commonRandomNumbersKeepArrivalsIdenticalAcrossServiceChanges() throws {
    // Changing only the service time must leave the arrival stream untouched.
    let fast = QueueingParameters.singleStation(arrivalRate: 0.5, service: .exponential(mean: 1))
    let slow = QueueingParameters.singleStation(arrivalRate: 0.5, service: .exponential(mean: 1.5))
    let a = try QueueingNetwork.run(fast, context: Self.context)
    let b = try QueueingNetwork.run(slow, context: Self.context)
    #expect(a["station.station.arrivals"] == b["station.station.arrivals"])
    #expect(a["station.station.response_mean"]! < b["station.station.response_mean"]!)
  }

  /// No customer is created or lost without a cause: arrivals = departures + losses + still inside.
  @Test func customersAreConserved() throws {
    let network = QueueingParameters(
      sources: [
        .init(name: "web", interarrival: .exponential(mean: 0.5), routing: [.init(to: "front", probability: 0.9)]),
        .init(name: "batch", interarrival: .uniform(low: 1, high: 3), routing: [.init(to: "db")]),
      ],
      stations: [
        .init(
          name: "front", servers: 2, capacity: 6, service: .exponential(mean: 0.8),
          routing: [.init(to: "db", probability: 0.6)]),
        .init(
          name: "db", servers: 1, capacity: 10, service: .lognormal(mu: -0.7, sigma: 0.6),
          routing: [.init(to: "front", probability: 0.2)]),
      ])
    try network.validate()
    let simulator = Simulator()
    let context = RunContext(duration: .seconds(5000), streams: RandomStreams(experimentSeed: 9))
    let model = QueueingNetwork(parameters: network, context: context, simulator: simulator)
    simulator.run(until: context.duration)
    let m = model.metrics()
    let arrivals = m["network.arrivals"]!
    let departed = m["network.throughput"]! * context.duration.seconds
    let lost = m["network.loss_fraction"]! * arrivals
    #expect(arrivals > 10_000)
    #expect(lost > 0, "the capacities are small enough that some customers are turned away")
    #expect(abs(arrivals - (departed.rounded() + lost.rounded() + Double(model.customersInNetwork))) < 0.5)
    // Per station: arrivals = departures + losses + present.
    for (i, station) in network.stations.enumerated() {
      let state = model.stations[i]
      #expect(state.arrivals == state.departures + state.lost + state.busy + state.queue.count, "\(station.name)")
    }
  }

  @Test func littlesLawHoldsAtEveryStation() throws {
    let network = QueueingParameters(
      sources: [.init(name: "in", interarrival: .exponential(mean: 1), routing: [.init(to: "a")])],
      stations: [
        .init(
          name: "a", servers: 2, service: .gamma(shape: 2, scale: 0.6), routing: [.init(to: "b", probability: 0.5)]),
        .init(name: "b", servers: 1, service: .uniform(low: 0.2, high: 1.4)),
      ])
    let m = try QueueingNetwork.run(
      network,
      context: RunContext(
        duration: .seconds(200_000), warmup: .seconds(1000), streams: RandomStreams(experimentSeed: 3)))
    for name in ["a", "b"] {
      let l = m["station.\(name).mean_in_system"]!
      let lambdaW = m["station.\(name).throughput"]! * m["station.\(name).response_mean"]!
      #expect(abs(l - lambdaW) / l < 0.01, "station \(name): L = \(l), λW = \(lambdaW)")
      let lq = m["station.\(name).mean_queue_length"]!
      let lambdaWq = m["station.\(name).throughput"]! * m["station.\(name).wait_mean"]!
      #expect(abs(lq - lambdaWq) / max(lq, 1e-9) < 0.02, "station \(name): Lq = \(lq), λWq = \(lambdaWq)")
    }
  }

  @Test func badNetworksAreClearErrors() {
    func message(_ network: QueueingParameters) -> String? {
      do {
        try network.validate()
        return nil
      } catch { return error.description }
    }
    let ok = QueueingParameters.singleStation(arrivalRate: 1, service: .exponential(mean: 0.5))
    #expect(message(ok) == nil)
    var zeroServers = ok
    zeroServers.stations[0].servers = 0
    #expect(message(zeroServers)?.contains("at least 1 server") == true)
    var badRoute = ok
    badRoute.sources[0].routing = [.init(to: "statoin")]
    #expect(message(badRoute)?.contains("did you mean 'station'") == true)
    var negativeRate = ok
    negativeRate.sources[0].interarrival = .exponential(mean: -1)
    #expect(message(negativeRate)?.contains("'mean' must be > 0") == true)
    var tooMuch = ok
    tooMuch.sources[0].routing = [.init(to: "station", probability: 0.7), .init(to: "station", probability: 0.6)]
    #expect(message(tooMuch)?.contains("more than 1") == true)
    var smallCapacity = ok
    smallCapacity.stations[0].servers = 3
    smallCapacity.stations[0].capacity = 2
    #expect(message(smallCapacity)?.contains("capacity") == true)
    #expect(throws: ValueError.self) {
      _ = try QueueingNetwork.run(
        ok, context: RunContext(duration: .seconds(10), warmup: .seconds(20), streams: RandomStreams(experimentSeed: 1))
      )
    }
  }
}

extension Tag {
  /// Long statistical checks (seconds, not milliseconds, in a debug build).
  @Tag static var statistical: Self
}

@Suite struct OwnershipTests {
  /// A run's model must be freed when the run ends: a reference cycle between the simulator and
  /// its entities would keep every run of a long sweep in memory.
  @Test func aFinishedRunFreesItsSimulatorAndModel() throws {
    weak var weakSimulator: Simulator?
    weak var weakNetwork: QueueingNetwork?
    do {
      let simulator = Simulator()
      let context = RunContext(
        duration: .seconds(100), streams: RandomStreams(experimentSeed: 1), timeseriesInterval: .seconds(10))
      let network = QueueingNetwork(
        parameters: .singleStation(arrivalRate: 1, service: .exponential(mean: 0.5)), context: context,
        simulator: simulator)
      simulator.run(until: context.duration)
      weakSimulator = simulator
      weakNetwork = network
    }
    #expect(weakSimulator == nil)
    #expect(weakNetwork == nil)
  }
}
