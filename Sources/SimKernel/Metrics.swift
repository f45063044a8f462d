/// The named results of one run, in the order the model reports them.
///
/// Order is part of the output format (CSV columns follow it), so it is an array, never a
/// dictionary. Names are `snake_case`, with a dotted prefix for per-entity metrics
/// (`station.web.utilisation`).
public struct Metrics: Sendable, Equatable {
  public private(set) var entries: [(name: String, value: Double)] = []
  /// The names, for the uniqueness check only (a set is never iterated, so order cannot leak).
  private var known: Set<String> = []

  public init() {}

  /// Appends a metric; names must be unique.
  public mutating func set(_ name: String, _ value: Double) {
    precondition(known.insert(name).inserted, "metric \(name) reported twice")
    entries.append((name, value))
  }

  /// The value of a metric, if reported.
  public subscript(name: String) -> Double? {
    entries.first { $0.name == name }?.value
  }

  public var names: [String] { entries.map(\.name) }

  public static func == (a: Metrics, b: Metrics) -> Bool {
    a.entries.count == b.entries.count
      && zip(a.entries, b.entries).allSatisfy { $0.name == $1.name && $0.value.bitPattern == $1.value.bitPattern }
  }
}
