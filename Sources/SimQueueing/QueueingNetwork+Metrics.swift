import SimKernel

extension QueueingNetwork {
  /// The run's results: per station, then end to end. Rates are per second of measured time
  /// (after the warm-up); times are in seconds.
  ///
  /// Per station `s`: `s.arrivals`, `s.throughput`, `s.loss_fraction`, `s.utilisation` (busy
  /// servers / servers, time-averaged), `s.mean_queue_length` (waiting, not in service),
  /// `s.mean_in_system`, `s.wait_mean` and `s.response_mean` with their p50, p90, p99, p999.
  /// End to end: `network.throughput`, `network.loss_fraction`, `network.response_mean`, ...
  public func metrics() -> Metrics {
    let end = simulator.now
    let seconds = (end - context.warmup).seconds
    var metrics = Metrics()
    for (station, state) in zip(parameters.stations, stations) {
      let p = "station.\(station.name)."
      metrics.set(p + "arrivals", Double(state.arrivals))
      metrics.set(p + "throughput", Double(state.departures) / seconds)
      metrics.set(p + "loss_fraction", state.arrivals > 0 ? Double(state.lost) / Double(state.arrivals) : 0)
      metrics.set(p + "utilisation", state.busyServers.average(until: end) / Double(state.servers))
      metrics.set(p + "mean_queue_length", state.inQueue.average(until: end))
      metrics.set(p + "mean_in_system", state.inSystem.average(until: end))
      Self.report(state.waiting, as: p + "wait", into: &metrics)
      Self.report(state.response, as: p + "response", into: &metrics)
    }
    metrics.set("network.arrivals", Double(networkArrivals))
    metrics.set("network.throughput", Double(networkDepartures) / seconds)
    metrics.set("network.loss_fraction", networkArrivals > 0 ? Double(networkLost) / Double(networkArrivals) : 0)
    Self.report(sojourn, as: "network.response", into: &metrics)
    return metrics
  }

  static func report(_ histogram: LatencyHistogram, as name: String, into metrics: inout Metrics) {
    metrics.set(name + "_mean", histogram.count > 0 ? histogram.mean : .nan)
    for (suffix, value) in histogram.standardPercentiles where suffix != "max" {
      metrics.set(name + "_" + suffix, value)
    }
  }
}
