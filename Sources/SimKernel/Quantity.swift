/// What a number in a config measures, and so which units it may carry.
///
/// Values are held in base units: seconds for durations, bytes for sizes, events per second
/// for rates. A pure number carries no unit.
public enum QuantityKind: String, Sendable, CaseIterable {
  case duration
  case size
  case rate
  /// Bytes per second: `10Gbps`, `500MB/s`.
  case bandwidth
  case number

  /// An example a message can offer, e.g. "5ms".
  public var example: String {
    switch self {
    case .duration: "250us, 5ms, 1.5s, 2m or 1h"
    case .size: "512B, 64KiB, 128MiB or 1GB"
    case .rate: "200/s, 100k/s or 5/ms"
    case .bandwidth: "10Gbps, 1Gb/s, 500MB/s or 200MiB/s"
    case .number: "0.5 or 3"
    }
  }
}

/// Parsing and printing of quantities with units: `5ms`, `128MiB`, `100k/s`, `0.25`.
public enum Quantity {
  /// Reads `text` as a quantity of `kind`, in base units (seconds, bytes, per second).
  public static func parse(_ text: String, as kind: QuantityKind) throws(ValueError) -> Double {
    let trimmed = text.trimmingSpaces()
    switch kind {
    case .duration:
      return try SimTime(parsing: trimmed).seconds
    case .number:
      guard let value = Double(trimmed), value.isFinite else {
        throw ValueError("'\(text)' is not a number", hint: "write e.g. \(kind.example)")
      }
      return value
    case .size:
      return try parseSize(trimmed, original: text)
    case .rate:
      return try parseRate(trimmed, original: text)
    case .bandwidth:
      return try parseBandwidth(trimmed, original: text)
    }
  }

  /// Bits per second (decimal prefixes, as networks are quoted) and bytes per second.
  static let bandwidthUnits: [(String, Double)] = [
    ("bps", 1.0 / 8), ("Kbps", 1e3 / 8), ("Mbps", 1e6 / 8), ("Gbps", 1e9 / 8), ("Tbps", 1e12 / 8),
    ("b/s", 1.0 / 8), ("Kb/s", 1e3 / 8), ("Mb/s", 1e6 / 8), ("Gb/s", 1e9 / 8), ("Tb/s", 1e12 / 8),
    ("B/s", 1), ("KB/s", 1e3), ("MB/s", 1e6), ("GB/s", 1e9), ("TB/s", 1e12),
    ("KiB/s", 1024), ("MiB/s", 1_048_576), ("GiB/s", 1_073_741_824),
  ]

  static func parseBandwidth(_ text: String, original: String) throws(ValueError) -> Double {
    let hint = "write e.g. \(QuantityKind.bandwidth.example) (b is bits, B is bytes)"
    let (number, unit) = splitNumber(text)
    guard let value = Double(number), value.isFinite else {
      throw ValueError("'\(original)' is not a bandwidth", hint: hint)
    }
    guard value >= 0 else { throw ValueError("bandwidth '\(original)' is negative") }
    guard let factor = bandwidthUnits.first(where: { $0.0 == unit })?.1 else {
      throw ValueError(
        unit.isEmpty ? "bandwidth '\(original)' has no unit" : "unknown bandwidth unit '\(unit)' in '\(original)'",
        hint: hint)
    }
    return value * factor
  }

  static let sizeUnits: [(String, Double)] = [
    ("B", 1), ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("PB", 1e15),
    ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
    ("PiB", 1_125_899_906_842_624),
  ]

  static func parseSize(_ text: String, original: String) throws(ValueError) -> Double {
    let (number, unit) = splitNumber(text)
    guard let value = Double(number), value.isFinite else {
      throw ValueError("'\(original)' is not a size", hint: "write e.g. \(QuantityKind.size.example)")
    }
    guard value >= 0 else { throw ValueError("size '\(original)' is negative") }
    if unit.isEmpty {
      guard value == 0 else {
        throw ValueError("size '\(original)' has no unit", hint: "write e.g. \(QuantityKind.size.example)")
      }
      return 0
    }
    guard let factor = sizeUnits.first(where: { $0.0 == unit })?.1 else {
      throw ValueError(
        "unknown size unit '\(unit)' in '\(original)'", hint: "units are B, KB, MB, GB, TB, KiB, MiB, GiB, TiB")
    }
    return value * factor
  }

  static func parseRate(_ text: String, original: String) throws(ValueError) -> Double {
    let hint = "write e.g. \(QuantityKind.rate.example)"
    let parts = text.split(separator: "/", maxSplits: 1)
    guard parts.count == 2 else { throw ValueError("rate '\(original)' needs a time unit", hint: hint) }
    let (number, multiplier) = splitNumber(String(parts[0]).trimmingSpaces())
    let scale: Double
    switch multiplier {
    case "": scale = 1
    case "k", "K": scale = 1e3
    case "M": scale = 1e6
    case "G": scale = 1e9
    default: throw ValueError("unknown multiplier '\(multiplier)' in rate '\(original)'", hint: hint)
    }
    guard let value = Double(number), value.isFinite else {
      throw ValueError("'\(original)' is not a rate", hint: hint)
    }
    guard value >= 0 else { throw ValueError("rate '\(original)' is negative") }
    let per = String(parts[1]).trimmingSpaces()
    guard let unit = SimTime.units.first(where: { $0.symbol == per }) else {
      throw ValueError("unknown time unit '\(per)' in rate '\(original)'", hint: hint)
    }
    return value * scale / (Double(unit.nanoseconds) / 1e9)
  }

  /// Splits "12.5MiB" into ("12.5", "MiB").
  static func splitNumber(_ text: String) -> (String, String) {
    var index = text.startIndex
    while index < text.endIndex {
      let c = text[index]
      let isNumberPart = c.isASCII && (c.isNumber || c == "." || c == "-" || c == "+" || c == "e" || c == "E")
      // An 'e' only belongs to the number when a digit or sign follows (1e3), not in "1EB".
      if c == "e" || c == "E" {
        let next = text.index(after: index)
        guard next < text.endIndex, text[next].isNumber || text[next] == "-" || text[next] == "+" else { break }
      }
      if !isNumberPart { break }
      index = text.index(after: index)
    }
    return (String(text[..<index]), String(text[index...]).trimmingSpaces())
  }

  /// A value in base units printed with a unit: seconds as a duration, bytes with a binary or
  /// decimal prefix when exact, rates per second.
  public static func format(_ value: Double, as kind: QuantityKind) -> String {
    switch kind {
    case .number: return shortest(value)
    case .duration:
      let time = SimTime(seconds: value)
      if time.seconds == value { return time.formatted }
      return shortest(value) + "s"
    case .size:
      // The unit, binary or decimal, that shows the value exactly with the fewest digits.
      var best = (shortest(value), "B")
      for (unit, factor) in sizeUnits where value >= factor && value.truncatingRemainder(dividingBy: factor) == 0 {
        let text = shortest(value / factor)
        if text.count < best.0.count { best = (text, unit) }
      }
      return best.0 + best.1
    case .rate:
      return shortest(value) + "/s"
    case .bandwidth:
      let bits = value * 8
      for (unit, factor) in [("Tbps", 1e12), ("Gbps", 1e9), ("Mbps", 1e6), ("Kbps", 1e3)] where bits >= factor {
        if (bits / factor * 1000).rounded() == bits / factor * 1000 { return shortest(bits / factor) + unit }
      }
      return shortest(value) + "B/s"
    }
  }

  /// The shortest decimal that reads back as the same Double (Swift's own printing).
  public static func shortest(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return "\(value)"
  }
}
