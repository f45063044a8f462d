/// The named results of one run, in the order the model reports them.
///
/// Order is part of the output format (CSV columns follow it), so it is an array, never a
/// dictionary. Names are `snake_case`, with a dotted prefix for per-entity metrics
/// (`station.web.utilisation`).
///
/// A model sets its metrics once, at the end of the run, from its accumulators; every name
/// should also be described in the model's ``MetricCatalog``.
///
/// ```swift
/// var metrics = Metrics()
/// metrics.set("throughput", Double(completed) / context.measuredSeconds)
/// metrics.set("response_time_mean", responseTimes.mean)
/// ```
public struct Metrics: Sendable, Equatable {
  /// The metrics in the order they were set: the order of the CSV columns.
  public private(set) var entries: [(name: String, value: Double)] = []
  /// The names, for the uniqueness check only (a set is never iterated, so order cannot leak).
  private var known: Set<String> = []

  /// No metrics yet.
  public init() {}

  /// Appends a metric; names must be unique.
  ///
  /// - Precondition: no metric called `name` was set before (a model's own bug, not user input).
  public mutating func set(_ name: String, _ value: Double) {
    precondition(known.insert(name).inserted, "metric \(name) reported twice")
    entries.append((name, value))
  }

  /// The value of a metric, if reported.
  ///
  /// - Complexity: O(number of metrics).
  public subscript(name: String) -> Double? {
    entries.first { $0.name == name }?.value
  }

  /// The names, in order.
  public var names: [String] { entries.map(\.name) }

  /// Equal when names and order match and values are equal bit for bit.
  public static func == (a: Metrics, b: Metrics) -> Bool {
    a.entries.count == b.entries.count
      && zip(a.entries, b.entries).allSatisfy { $0.name == $1.name && $0.value.bitPattern == $1.value.bitPattern }
  }
}

/// One field of a CSV row, quoted as RFC 4180 says when it holds a comma, a quote or a line
/// break (a quote inside doubled); as it is otherwise.
public func csvField(_ field: String) -> String {
  // Bytes, not characters: ',', '"', LF and CR are ASCII, and reading bytes skips grapheme breaking.
  guard field.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return field }
  var quoted = "\""
  for c in field {
    if c == "\"" { quoted.append("\"") }
    quoted.append(c)
  }
  return quoted + "\""
}
