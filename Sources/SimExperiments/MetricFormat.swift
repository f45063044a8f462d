import Foundation
import SimKernel

/// How a table prints a metric's value over a point's replications, by what the metric is
/// (``MetricInfo``): durations, bytes and rates in a human unit (`0.725 ± 0.020 ms`, `1.24 GB`,
/// `312 MB/s`, `41.2k records/s`), counts as whole numbers with their range instead of an
/// interval (`8`, `4 (0–16)`), categories by name (`disk`, `disk 2, network 1`), the rest as
/// four significant digits with the interval. Bytes are SI (1 MB = 10^6 B), as the metrics'
/// `_mb` are.
public enum MetricFormat {
  /// One table cell.
  public static func cell(
    _ info: MetricInfo?, interval ci: ConfidenceInterval, range: (minimum: Double, maximum: Double),
    categories: [Double: Int] = [:]
  ) -> String {
    guard ci.count > 0, ci.mean.isFinite else { return "-" }
    guard let info else { return plain(ci) }
    switch info.kind {
    case .category:
      let named = categories.sorted { ($0.value, -$0.key) > ($1.value, -$1.key) }.map { code, runs in
        (info.categories[Int(exactly: code) ?? Int.min] ?? SummaryTable.significant(code), runs)
      }
      if named.count == 1 { return named[0].0 }
      return named.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
    case .count:
      let whole = { (x: Double) in abs(x) < 1e7 ? String(format: "%.0f", x.rounded()) : SummaryTable.significant(x) }
      if range.minimum == range.maximum { return whole(range.minimum) }
      return "\(SummaryTable.significant(ci.mean)) (\(whole(range.minimum))–\(whole(range.maximum)))"
    case .duration where info.unit == "s": return scaled(ci, by: durationUnit(ci.mean))
    case .bytes, .rate:
      if let base = byteScale[info.unit] {
        let suffix = info.kind == .rate ? "/s" : ""
        return scaled(ci, by: siUnit(ci.mean * base, base: base, unit: "B", suffix: suffix))
      }
      if info.kind == .rate, info.unit.hasSuffix("/s") {
        // Things per second: an SI prefix on the number, the unit after it.
        let (factor, prefix) = siPrefix(ci.mean)
        return scaled(ci, by: (factor, (prefix.isEmpty ? "" : prefix + " ") + info.unit))
      }
      return plain(ci) + (info.unit.isEmpty ? "" : " " + info.unit)
    case .fraction:
      // Shares near 1 (availability) get the digits that tell them apart: 0.99990, not 1.000.
      if ci.mean > 0.999, ci.mean < 1 {
        let digits = min(9, Int((-log10(1 - ci.mean) - 1e-9).rounded(.up)) + 1)
        let text = String(format: "%.\(digits)f", ci.mean)
        return ci.halfWidth.isFinite ? text + " ± " + String(format: "%.\(digits)f", ci.halfWidth) : text
      }
      return plain(ci)
    default:
      return plain(ci) + (info.unit.isEmpty || info.unit == "1" ? "" : " " + info.unit)
    }
  }

  /// A metric's kind, unit and category names as JSON (`null` for a metric no catalog knows):
  /// what the manifest and the plot spec say of each metric.
  static func json(_ info: MetricInfo?) -> String {
    guard let info else { return "null" }
    var fields = "\"kind\": \(jsonString(info.kind.rawValue)), \"unit\": \(jsonString(info.unit))"
    if !info.categories.isEmpty {
      let codes = info.categories.sorted { $0.key < $1.key }.map {
        "\(jsonString(String($0.key))): \(jsonString($0.value))"
      }
      fields += ", \"categories\": {\(codes.joined(separator: ", "))}"
    }
    return "{\(fields)}"
  }

  /// Mean ± half-width without a unit (as ``scaled(_:by:)``), or four significant digits of a
  /// mean with no interval.
  static func plain(_ ci: ConfidenceInterval) -> String { scaled(ci, by: (1, "")) }

  /// Mean and half-width divided by `unit.scale`, the half-width to two significant digits and
  /// the mean to the same decimal place, then the unit: `0.725 ± 0.020 ms`.
  static func scaled(_ ci: ConfidenceInterval, by unit: (scale: Double, name: String)) -> String {
    let mean = ci.mean / unit.scale
    let half = ci.halfWidth / unit.scale
    let name = unit.name.isEmpty ? "" : " " + unit.name
    guard half.isFinite, half > 0, abs(mean) < 1e7, half > 1e-6 * abs(mean) else {
      return SummaryTable.significant(mean) + name
    }
    let decimals = max(0, min(6, 1 - Int(floor(log10(half)))))
    return String(format: "%.\(decimals)f ± %.\(decimals)f", mean, half) + name
  }

  /// The unit a duration of about `seconds` reads best in.
  static func durationUnit(_ seconds: Double) -> (scale: Double, name: String) {
    let magnitude = abs(seconds)
    if magnitude == 0 { return (1, "s") }
    if magnitude < 1e-6 { return (1e-9, "ns") }
    if magnitude < 1e-3 { return (1e-6, "µs") }
    if magnitude < 1 { return (1e-3, "ms") }
    if magnitude < 600 { return (1, "s") }
    if magnitude < 36_000 { return (60, "min") }
    return (3600, "h")
  }

  /// Bytes in each unit a metric may be reported in.
  static let byteScale: [String: Double] = ["B": 1, "B/s": 1, "MB": 1e6, "MB/s": 1e6]

  /// The SI multiple of `unit` for `bytes` (already in bytes), as a divisor of the metric's own
  /// value (which is in `base` bytes).
  static func siUnit(_ bytes: Double, base: Double, unit: String, suffix: String) -> (scale: Double, name: String) {
    let (factor, prefix) = siPrefix(bytes)
    return (factor / base, prefix + unit + suffix)
  }

  /// The SI prefix (k, M, G, T, P) that puts `value` between 1 and 1000.
  static func siPrefix(_ value: Double) -> (factor: Double, prefix: String) {
    let magnitude = abs(value)
    for (factor, prefix) in [(1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")] where magnitude >= factor {
      return (factor, prefix)
    }
    return (1, "")
  }
}
