import Foundation
import SimKernel
import SimModel
import SimPlatform

/// Edge caching in a content delivery network: `model: cdn`.
public enum CDNModel: SimulationModel {
  public static let name = "cdn"
  public static let documentation: String? = "docs/models/cdn.md"
  public static let summary =
    "CDN edge caching: client regions, edge PoPs with LRU/LFU/FIFO caches and TTL, an origin; hit ratio, origin offload, Che's approximation"
  public static let headlineMetrics = ["cdn.hit_ratio", "cdn.byte_hit_ratio", "cdn.origin_offload", "cdn.latency_p99"]
  public static let metrics: [MetricInfo] = [
    MetricInfo(
      ["cdn.requests", "cdn.hits", "cdn.misses", "cdn.failed"], .count, unit: "requests", "after the warm-up"),
    MetricInfo(
      ["cdn.hit_ratio", "cdn.byte_hit_ratio", "cdn.hit_ratio.*", "cdn.byte_hit_ratio.*"], .fraction,
      "requests (bytes) served from an edge's cache / requests (bytes) served; .EDGE for one edge"),
    MetricInfo(
      ["cdn.origin_offload", "cdn.origin_byte_offload"], .fraction, "1 - origin requests (bytes) / requests (bytes)"),
    MetricInfo(
      ["cdn.latency_mean", "cdn.latency_p50", "cdn.latency_p99", "cdn.latency_*.*"], .duration,
      "request to last byte at the client; _STAT.REGION for one region"),
    MetricInfo(
      ["cdn.origin_rate", "cdn.origin_load"], .rate, unit: "requests/s",
      "origin fetches per second (series: origin_load)"),
    MetricInfo(["cdn.hit_ratio_series"], .fraction, "hit ratio over each time-series interval"),
    MetricInfo(["cdn.origin_utilisation"], .fraction, "time-average share of the origin's servers busy"),
    MetricInfo(
      ["cdn.bytes_served", "cdn.bytes_from_cache", "cdn.bytes_from_origin"], .bytes, "bytes of answered requests"),
    MetricInfo(
      ["theory.che_hit_ratio", "theory.fifo_hit_ratio"], .fraction,
      "Che's approximation of LRU (FIFO: Dan-Towsley) under the independent reference model, one region, one edge, no churn or TTL"
    ),
  ]

  public static let usesPlatform = true

  public static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> CDNParameters {
    try CDNParameters.decode(&reader, input: input)
  }

  public static func run(_ parameters: CDNParameters, context: RunContext) throws(ValueError) -> RunOutput {
    try runOnPlatform(parameters.platform, faults: parameters.faults, context: context) { simulator, platform in
      CDNSimulation(parameters, context: context, simulator: simulator, platform: platform)
    }
  }
}

/// Closed forms for caches under the independent reference model (IRM).
public enum CacheTheory {
  /// Che's approximation for LRU (fifo: false) or the Dan-Towsley / Che form for FIFO: the
  /// characteristic time T with sum_i s_i h_i(T) = capacity, then sum_i q_i h_i(T), where
  /// h_i = 1 - exp(-q_i T) (LRU) or q_i T / (1 + q_i T) (FIFO). 1 if everything fits.
  public static func hitRatio(popularity q: [Double], sizes s: [Double], capacity: Double, fifo: Bool = false) -> Double
  {
    let total = s.reduce(0, +)
    guard capacity < total else { return 1 }
    guard capacity > 0 else { return 0 }
    func h(_ qi: Double, _ t: Double) -> Double { fifo ? qi * t / (1 + qi * t) : -expm1(-qi * t) }
    func occupancy(_ t: Double) -> Double {
      var sum = 0.0
      for i in q.indices { sum += s[i] * h(q[i], t) }
      return sum
    }
    var high = 1.0
    var steps = 0
    while occupancy(high) < capacity, steps < 1100 {
      high *= 2
      steps += 1
    }
    var low = 0.0
    for _ in 0..<80 {
      let mid = (low + high) / 2
      if occupancy(mid) < capacity { low = mid } else { high = mid }
    }
    let t = (low + high) / 2
    var hit = 0.0
    for i in q.indices { hit += q[i] * h(q[i], t) }
    return hit
  }

  /// Zipf popularity over ranks 1...n with exponent `alpha`, normalised.
  public static func zipf(_ n: Int, _ alpha: Double) -> [Double] {
    let w = (0..<n).map { pow(Double($0 + 1), -alpha) }
    let sum = w.reduce(0, +)
    return w.map { $0 / sum }
  }
}
