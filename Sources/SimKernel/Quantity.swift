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

  /// Every value of the kind lies in this range, in base units, whatever key it is read for; a
  /// key may narrow it (``ConfigReader/quantity(_:_:default:range:help:)``).
  ///
  /// - duration: 0 to 2^63-1 ns (about 292 years), the span of the Int64 nanosecond clock.
  /// - size: 0 to 2^60 B (1 EiB): any size converts to an Int64 byte count with 8x to spare, so
  ///   a size times a small count (replicas, copies) or a sum of a few sizes still fits.
  /// - rate: 0 to 1e9 per second: one event per nanosecond is the clock's resolution, and a rate
  ///   times the longest duration stays within an Int64 count.
  /// - bandwidth: 0 to 1e15 B/s (1 PB/s, 8 Pbps), a thousand times the fastest links and disks:
  ///   summed over 100,000 hosts or divided by an oversubscription of 0.001, every capacity
  ///   stays a finite Double.
  /// - number: any finite number; each key gives its own range.
  public var range: ClosedRange<Double> {
    switch self {
    case .duration: 0...Double(Int64.max) / 1e9
    case .size: 0...Quantity.maximumSize
    case .rate: 0...Quantity.maximumRate
    case .bandwidth: 0...Quantity.maximumBandwidth
    case .number: -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude
    }
  }

  /// The top of ``range`` as messages write it.
  public var maximumText: String {
    switch self {
    case .duration: "292 years"
    case .size: "1024PiB (2^60 B)"
    case .rate: "1G/s"
    case .bandwidth: "1PB/s (8000Tbps)"
    case .number: "\(Double.greatestFiniteMagnitude)"
    }
  }

  /// Why ``range`` ends where it does, for messages.
  var limitReason: String {
    switch self {
    case .duration: "the 292 years of the nanosecond clock"
    case .size: "byte counts must fit an Int64 with room for sums and copies"
    case .rate: "one event per nanosecond is the resolution of simulated time"
    case .bandwidth: "a thousand times the fastest links and disks"
    case .number: "numbers must be finite"
    }
  }
}

/// Parsing and printing of quantities with units: `5ms`, `128MiB`, `100k/s`, `0.25`.
public enum Quantity {
  /// The largest size, 2^60 bytes (1 EiB): see ``QuantityKind/range``.
  public static let maximumSize = 1_152_921_504_606_846_976.0
  /// The largest rate, 1e9 per second (one event per nanosecond).
  public static let maximumRate = 1e9
  /// The largest bandwidth, 1e15 bytes per second (1 PB/s, 8 Pbps).
  public static let maximumBandwidth = 1e15

  /// Reads `text` as a quantity of `kind`, in base units (seconds, bytes, per second), within
  /// the kind's ``QuantityKind/range``.
  public static func parse(_ text: String, as kind: QuantityKind) throws(ValueError) -> Double {
    let value = try parseUnbounded(text, as: kind)
    let range = kind.range
    guard value.isFinite, value <= range.upperBound else {
      throw ValueError(
        "\(kind.rawValue) '\(text.trimmingSpaces())' is more than the largest, \(kind.maximumText)",
        hint: kind.limitReason)
    }
    return value
  }

  static func parseUnbounded(_ text: String, as kind: QuantityKind) throws(ValueError) -> Double {
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
    ("Pbps", 1e15 / 8),
    ("b/s", 1.0 / 8), ("Kb/s", 1e3 / 8), ("Mb/s", 1e6 / 8), ("Gb/s", 1e9 / 8), ("Tb/s", 1e12 / 8),
    ("Pb/s", 1e15 / 8),
    ("B/s", 1), ("KB/s", 1e3), ("MB/s", 1e6), ("GB/s", 1e9), ("TB/s", 1e12), ("PB/s", 1e15),
    ("KiB/s", 1024), ("MiB/s", 1_048_576), ("GiB/s", 1_073_741_824), ("TiB/s", 1_099_511_627_776),
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
      // The shortest exact text: in bits a second (a link's 10Gbps), or in bytes a second, binary
      // or decimal (a disk's 200MB/s, a throttle's 24MiB/s); a tie goes to bits.
      var best: String?
      let bits = value * 8
      for (unit, factor) in [("Tbps", 1e12), ("Gbps", 1e9), ("Mbps", 1e6), ("Kbps", 1e3)] where bits >= factor {
        if (bits / factor * 1000).rounded() == bits / factor * 1000 {
          best = shortest(bits / factor) + unit
          break
        }
      }
      let bytes = format(value, as: .size) + "/s"
      if best == nil || bytes.count < best!.count { best = bytes }
      return best!
    }
  }

  /// The shortest decimal that reads back as the same Double (Swift's own printing).
  public static func shortest(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return "\(value)"
  }
}
