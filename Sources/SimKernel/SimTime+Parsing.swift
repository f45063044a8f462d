extension SimTime {
  /// The duration units BDSim reads and writes, with their length in nanoseconds.
  ///
  /// `m` is minutes (never metres or milli-anything); `us` and `µs` are microseconds.
  public static let units: [(symbol: String, nanoseconds: Int64)] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("min", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
  ]

  /// Reads a duration written with a unit: `250us`, `5ms`, `1.5s`, `2m`, `1h`, `0`.
  ///
  /// Decimal fractions are read exactly (`0.1s` is 100,000,000 ns, not a float approximation).
  /// A negative duration, a missing or unknown unit, a value finer than a nanosecond and a
  /// value beyond the ~292 years an Int64 of nanoseconds holds are errors, never traps.
  public init(parsing text: String) throws(ValueError) {
    let trimmed = text.trimmingSpaces()
    let hint = "write a duration with a unit, e.g. 250us, 5ms, 1.5s, 2m or 1h"
    guard !trimmed.isEmpty else { throw ValueError("empty duration", hint: hint) }
    if trimmed.hasPrefix("-") {
      throw ValueError("duration '\(text)' is negative; durations must be >= 0", hint: hint)
    }
    let scalars = Array(trimmed.unicodeScalars)
    var index = 0
    while index < scalars.count, scalars[index] == "+" || scalars[index] == "." || ("0"..."9").contains(scalars[index])
    {
      index += 1
    }
    let number = String(String.UnicodeScalarView(scalars[0..<index]))
    let unit = String(String.UnicodeScalarView(scalars[index...])).trimmingSpaces()
    let unitNanoseconds: Int64
    if unit.isEmpty {
      // A bare zero needs no unit; any other bare number is ambiguous.
      guard let value = Double(number), value == 0 else {
        throw ValueError("duration '\(text)' has no unit", hint: hint)
      }
      unitNanoseconds = 1
    } else if let known = SimTime.units.first(where: { $0.symbol == unit }) {
      unitNanoseconds = known.nanoseconds
    } else {
      throw ValueError("unknown duration unit '\(unit)' in '\(text)'", hint: "units are ns, us, ms, s, m, h, d")
    }
    guard let ns = exactDecimalProduct(number, unitNanoseconds) else {
      throw ValueError("'\(text)' is not a number followed by a unit", hint: hint)
    }
    switch ns {
    case .value(let value): self.init(nanoseconds: value)
    case .overflow:
      throw ValueError("duration '\(text)' is longer than the 292 years BDSim can represent")
    case .tooFine:
      throw ValueError("duration '\(text)' is finer than the 1ns resolution of simulated time")
    }
  }

  /// The duration in the largest unit that shows it exactly: `1.5s`, `250us`, `2m`, `1h`.
  public var formatted: String {
    if nanoseconds == 0 { return "0s" }
    if nanoseconds == Int64.max { return "max" }
    let sign = nanoseconds < 0 ? "-" : ""
    let magnitude = nanoseconds.magnitude
    let candidates: [(String, UInt64)] = [
      ("d", 86_400_000_000_000), ("h", 3_600_000_000_000), ("m", 60_000_000_000),
    ]
    for (symbol, size) in candidates where magnitude % size == 0 {
      return "\(sign)\(magnitude / size)\(symbol)"
    }
    let scaled: [(String, UInt64, Int)] = [
      ("s", 1_000_000_000, 9), ("ms", 1_000_000, 6), ("us", 1_000, 3),
    ]
    for (symbol, size, digits) in scaled where magnitude >= size {
      return sign + decimal(magnitude, scale: size, digits: digits) + symbol
    }
    return "\(sign)\(magnitude)ns"
  }
}

extension SimTime: CustomStringConvertible {
  /// The same text as ``formatted``: `1.5s`, `250us`, `max`.
  public var description: String { formatted }
}

/// `whole.fraction` with trailing zeros of the fraction dropped.
private func decimal(_ value: UInt64, scale: UInt64, digits: Int) -> String {
  let whole = value / scale
  var fraction = String(value % scale)
  if fraction == "0" { return String(whole) }
  fraction = String(repeating: "0", count: digits - fraction.count) + fraction
  while fraction.hasSuffix("0") { fraction.removeLast() }
  return "\(whole).\(fraction)"
}

enum ExactProduct: Equatable {
  case value(Int64)
  case overflow
  case tooFine
}

/// `number * unit` computed exactly from the decimal digits of `number` (e.g. "1.5" x 1e9).
///
/// Returns nil if `number` is not a plain non-negative decimal.
func exactDecimalProduct(_ number: String, _ unit: Int64) -> ExactProduct? {
  var text = Substring(number)
  if text.hasPrefix("+") { text = text.dropFirst() }
  let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
  let wholeDigits = parts[0]
  var fractionDigits = parts.count > 1 ? parts[1] : ""
  guard !(wholeDigits.isEmpty && fractionDigits.isEmpty) else { return nil }
  let isDigits = { (s: Substring) in s.allSatisfy { $0.isASCII && $0.isNumber } }
  guard isDigits(wholeDigits), isDigits(fractionDigits) else { return nil }
  while fractionDigits.hasSuffix("0") { fractionDigits = fractionDigits.dropLast() }

  var total: Int64 = 0
  for digit in wholeDigits {
    let (times10, o1) = total.multipliedReportingOverflow(by: 10)
    let (plus, o2) = times10.addingReportingOverflow(Int64(digit.wholeNumberValue!))
    if o1 || o2 { return .overflow }
    total = plus
  }
  let (wholePart, o3) = total.multipliedReportingOverflow(by: unit)
  if o3 { return .overflow }
  // Each fraction digit must land on a whole nanosecond: divide the unit down digit by digit.
  var fractionPart: Int64 = 0
  var place = unit
  for digit in fractionDigits {
    let d = Int64(digit.wholeNumberValue!)
    // Trailing zeros were dropped, so a digit left below 1ns means a non-zero remainder.
    guard place % 10 == 0 else { return .tooFine }
    place /= 10
    fractionPart += d * place
  }
  let (sum, o4) = wholePart.addingReportingOverflow(fractionPart)
  return o4 ? .overflow : .value(sum)
}

extension StringProtocol {
  /// The string without leading and trailing spaces, tabs and newlines.
  func trimmingSpaces() -> String {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
    guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
      return ""
    }
    return String(self[first...last])
  }
}
