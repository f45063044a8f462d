import SimKernel
import SimModel
import SimPlatform

/// The sharded store as a model configs can name: `model: shards`.
public enum ShardsModel: SimulationModel {
  public static let name = "shards"
  public static let documentation: String? = "docs/models/shards.md"
  public static let summary =
    "sharded key-value store: hash mod N, consistent hashing or ranges with splits; skew, per-shard queueing, rebalancing moves, failures"
  public static let usesPlatform = true
  public static let judgesSteadyState = true
  public static let headlineMetrics = [
    "shards.latency_p99", "shards.load_skew", "shards.moved_fraction", "shards.availability",
  ]
  /// Shards with metrics of their own (`shards.shard.N.*`): the first ones, so names stay bounded.
  public static let shardsReported = 16

  public static let metrics: [MetricInfo] = [
    MetricInfo(
      ["shards.latency_mean", "shards.latency_p50", "shards.latency_p99", "shards.latency_p999"], .duration,
      "a successful request from the client's send to its answer (network, queue, service)"),
    MetricInfo(
      ["shards.latency_*_during_rebalance", "shards.latency_*_outside_rebalance"], .duration,
      "the same (mean, p99) for requests that started while a rebalance ran, and for the others"),
    MetricInfo(["shards.throughput"], .rate, unit: "requests/s", "requests answered successfully per second"),
    MetricInfo(
      ["shards.requests", "shards.requests_failed"], .count, unit: "requests",
      "requests made after the warm-up (some may be unanswered at the end); those that failed (no replica reachable,"
        + " or dropped by a host failure)"),
    MetricInfo(["shards.availability"], .fraction, "requests answered successfully / requests answered or failed"),
    MetricInfo(
      ["shards.load_skew"], .ratio,
      "the hottest shard's request rate over the mean of the shards in the map at the end (1: even)"),
    MetricInfo(
      ["shards.load_share_max", "shards.load_share_min"], .fraction,
      "the largest and smallest share of the requests served by one shard of the map at the end"),
    MetricInfo(
      ["shards.utilisation_max", "shards.utilisation_mean"], .fraction,
      "busy threads / threads of the busiest shard, and the mean over the shards of the map at the end"),
    MetricInfo(["shards.keys_skew"], .ratio, "the most keys on one shard over the mean, at the end"),
    MetricInfo(["shards.bytes_total"], .bytes, "the bytes of all values"),
    MetricInfo(
      ["shards.keys_moved", "shards.keys_move_failed"], .count, unit: "keys",
      "keys moved to another shard by rebalancing (each move counted); keys whose stream failed (they stay)"),
    MetricInfo(["shards.bytes_moved"], .bytes, "bytes streamed by rebalancing"),
    MetricInfo(["shards.moved_fraction"], .ratio, "keys_moved / keys (summed over the rebalances)"),
    MetricInfo(["shards.streams_failed"], .count, unit: "streams", "rebalancing streams that failed"),
    MetricInfo(["shards.rebalances"], .count, unit: "rebalances", "changes of the map carried out"),
    MetricInfo(["shards.rebalance_seconds"], .duration, "time during which a rebalance ran (summed)"),
    MetricInfo(["shards.rebalance_throughput"], .rate, unit: "B/s", "bytes_moved / rebalance_seconds"),
    MetricInfo(["shards.splits"], .count, unit: "splits", "range splits (at split_size or split_load)"),
    MetricInfo(["shards.ranges", "shards.active_shards"], .count, "ranges (range partitioning) and shards at the end"),
    MetricInfo(
      ["shards.shard.*.load_share"], .fraction, "the share of requests served by shard N (the first 16 shards)"),
    MetricInfo(["shards.shard.*.utilisation"], .fraction, "busy threads / threads of shard N"),
    MetricInfo(["shards.shard.*.latency_p99"], .duration, "p99 time in shard N (queue and service)"),
    MetricInfo(
      ["theory.moved_fraction"], .ratio,
      "expected keys moved / keys over the adds and removes: hash N/(N+1) per add, (N-1)/N per remove;"
        + " consistent 1/(N+1) per add, 1/N per remove"),
    MetricInfo(["shards.rebalancing"], .category, categories: [0: "no", 1: "yes"], "series: a rebalance is running"),
  ]

  public static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> ShardsParameters {
    try ShardsParameters.decode(&reader, input: input)
  }

  public static func run(_ parameters: ShardsParameters, context: RunContext) throws(ValueError) -> RunOutput {
    try runOnPlatform(parameters.platform, faults: parameters.faults, context: context) { simulator, platform in
      ShardedStoreWorkload(
        store: ShardedStore(parameters: parameters, platform: platform, simulator: simulator, context: context),
        horizon: context.duration)
    }
  }
}

/// Closed forms the simulation is checked against.
public enum ShardsTheory {
  /// The expected fraction of keys that change shard when going from `n` to `n + 1` shards (or
  /// back, `adding` false), for keys hashed uniformly: mod N keeps a key iff h mod N = h mod (N+1),
  /// 1 in N+1; a ring with random tokens gives the new shard 1/(N+1) of it.
  public static func movedFraction(_ scheme: Partitioning, shards n: Int, adding: Bool) -> Double? {
    switch (scheme, adding) {
    case (.hash, true): Double(n) / Double(n + 1)
    case (.hash, false): Double(n - 1) / Double(n)
    case (.consistent, true): 1 / Double(n + 1)
    case (.consistent, false): 1 / Double(n)
    case (.range, _): nil
    }
  }

  /// The sum over a run's adds and removes before `horizon`, in the order they happen.
  public static func movedFraction(_ p: ShardsParameters, horizon: SimTime) -> Double? {
    var events = p.addShard.map { ($0, true) } + p.removeShard.map { ($0, false) }
    events.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 && !$1.1) }
    var n = p.shards
    var total = 0.0
    for (time, adding) in events where time < horizon {
      guard let f = movedFraction(p.partitioning, shards: n, adding: adding) else { return nil }
      total += f
      n += adding ? 1 : -1
    }
    return total
  }
}

/// The store's metrics at the end of the run, and its steady-state signals.
final class ShardedStoreWorkload: PlatformWorkload {
  let store: ShardedStore
  let horizon: SimTime
  init(store: ShardedStore, horizon: SimTime) {
    self.store = store
    self.horizon = horizon
  }

  var timeseries: TimeSeries { store.series }

  func watchSteadyState(_ monitor: SteadyStateMonitor) {
    monitor.rate("shards.throughput") { [unowned store] in Double(store.succeededTotal) }
    monitor.mean(
      "shards.latency", sum: { [unowned store] in store.latencySumTotal },
      count: { [unowned store] in Double(store.succeededTotal) })
  }

  func metrics() -> Metrics {
    let s = store
    let p = s.p
    let now = s.simulator.now
    var m = Metrics()
    let h = s.latencyAll
    m.set("shards.latency_mean", h.count > 0 ? h.mean : .nan)
    m.set("shards.latency_p50", h.percentile(50))
    m.set("shards.latency_p99", h.percentile(99))
    m.set("shards.latency_p999", h.percentile(99.9))
    for (name, histogram) in [("during", s.latencyDuring), ("outside", s.latencyOutside)] {
      m.set("shards.latency_mean_\(name)_rebalance", histogram.count > 0 ? histogram.mean : .nan)
      m.set("shards.latency_p99_\(name)_rebalance", histogram.percentile(99))
    }
    let measured = max(1e-9, (now - min(now, s.warmup)).seconds)
    m.set("shards.throughput", Double(s.succeeded) / measured)
    let total = s.succeeded + s.failed
    m.set("shards.requests", Double(s.made))
    m.set("shards.requests_failed", Double(s.failed))
    m.set("shards.availability", total > 0 ? Double(s.succeeded) / Double(total) : .nan)
    // Load: each shard of the map at the end, its requests over the time it was in the map.
    let active = s.map.active
    let arrivals = active.map { Double(s.shardArrivals[Int($0)]) }
    let all = s.shardArrivals.reduce(0, +)
    let rates = active.map { shard in
      let from = max(s.activeFrom[Int(shard)] ?? now, s.warmup)
      return Double(s.shardArrivals[Int(shard)]) / max(1e-9, (now - min(now, from)).seconds)
    }
    m.set("shards.load_skew", s.skew(rates))
    m.set("shards.load_share_max", all > 0 ? arrivals.max()! / Double(all) : .nan)
    m.set("shards.load_share_min", all > 0 ? arrivals.min()! / Double(all) : .nan)
    let utilisation = active.map { s.pools[Int($0)].busyServers.average(until: now) / Double(p.threads) }
    m.set("shards.utilisation_max", utilisation.max()!)
    m.set("shards.utilisation_mean", utilisation.reduce(0, +) / Double(utilisation.count))
    var keys = [Double](repeating: 0, count: p.slots)
    for k in 0..<p.keys { keys[Int(s.owner[k])] += 1 }
    m.set("shards.keys_skew", s.skew(active.map { keys[Int($0)] }))
    m.set("shards.bytes_total", s.size.reduce(0, +))
    m.set("shards.keys_moved", Double(s.keysMoved))
    m.set("shards.keys_move_failed", Double(s.keysMoveFailed))
    m.set("shards.bytes_moved", s.bytesMoved)
    m.set("shards.moved_fraction", Double(s.keysMoved) / Double(p.keys))
    m.set("shards.streams_failed", Double(s.streamsFailed))
    m.set("shards.rebalances", Double(s.rebalances))
    let running = s.rebalanceStart.map { (now - $0).seconds } ?? 0
    m.set("shards.rebalance_seconds", s.rebalanceSeconds + running)
    m.set(
      "shards.rebalance_throughput",
      s.rebalanceSeconds + running > 0 ? s.bytesMoved / (s.rebalanceSeconds + running) : .nan)
    m.set("shards.splits", Double(s.splits))
    m.set("shards.ranges", Double(p.partitioning == .range ? s.map.rangeStart.count : active.count))
    m.set("shards.active_shards", Double(active.count))
    for shard in 0..<min(p.slots, ShardsModel.shardsReported) {
      m.set("shards.shard.\(shard).load_share", all > 0 ? Double(s.shardArrivals[shard]) / Double(all) : .nan)
      m.set("shards.shard.\(shard).utilisation", s.pools[shard].busyServers.average(until: now) / Double(p.threads))
      m.set("shards.shard.\(shard).latency_p99", s.shardLatency[shard].percentile(99))
    }
    if let theory = ShardsTheory.movedFraction(p, horizon: horizon) { m.set("theory.moved_fraction", theory) }
    return m
  }
}
