/// Reads one mapping of a config into typed values, and rejects keys nobody asked for.
///
/// A model's parameters are read by asking for each key in turn (`int("servers", default: 1)`),
/// then calling ``finish()``: any key in the mapping that was never asked for is an error that
/// suggests the nearest known key, so a typo is never silently ignored. Every error carries the
/// location and the dotted key path of the value at fault.
///
/// When a ``ParameterSchema`` is attached, every key asked for is recorded with its kind, default
/// and help text: that is how `bdsim models NAME` describes a model without a second list.
///
/// A model reads its parameters in one function, in the same order every time (the schema lists
/// them in that order), and checks every range where it reads the value, so that bad input is a
/// located ``ConfigError`` rather than a precondition later in the run:
///
/// ```swift
/// var reader = try ConfigReader(params, path: "params")
/// let servers = try reader.int("servers", default: 1, range: 1...10_000, help: "servers at the station")
/// let service = try reader.distribution("service", .duration, help: "service time")
/// var network = try reader.mapping("network")
/// let latency = try network.duration("latency", default: .microseconds(50))
/// try network.finish()
/// try reader.finish()
/// ```
public struct ConfigReader {
  /// The mapping being read (or a null node for an absent one).
  public let node: ConfigNode
  /// The dotted path of this mapping in the config (`params`, `params.stations.0`), for messages.
  public let path: String
  private var asked: [String] = []
  /// Where the keys asked for are recorded, if anywhere (`bdsim models NAME`).
  public let schema: ParameterSchema?

  /// Reads `node`, which must be a mapping (or empty); `path` names it in messages ("params").
  public init(_ node: ConfigNode, path: String, schema: ParameterSchema? = nil) throws(ConfigError) {
    guard node.entries != nil || node.isNull else {
      throw ConfigError(
        location: node.location, keyPath: path,
        message: "expected a mapping of keys to values, found \(node.kindDescription)")
    }
    self.node = node
    self.path = path
    self.schema = schema
  }

  /// The dotted path of `key` in this mapping.
  public func keyPath(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

  /// Whether the mapping has `key` (asking counts as knowing the key).
  public mutating func has(_ key: String) -> Bool {
    if !asked.contains(key) { asked.append(key) }
    guard let value = node[key] else { return false }
    return !value.isNull
  }

  /// The raw node under `key`, if present and not null.
  public mutating func node(_ key: String) -> ConfigNode? {
    if !asked.contains(key) { asked.append(key) }
    guard let value = node[key], !value.isNull else { return nil }
    return value
  }

  /// An error about the value of `key` (or about this mapping if `key` is nil).
  public func error(_ key: String?, _ message: String, hint: String? = nil) -> ConfigError {
    let location = key.flatMap { k in node.entries?.first { $0.key == k }?.value.location } ?? node.location
    return ConfigError(location: location, keyPath: key.map(keyPath) ?? path, message: message, hint: hint)
  }

  /// The scalar text under `key`; nil if absent. A list or mapping where a value belongs is an error.
  mutating func scalar(_ key: String, expected: String) throws(ConfigError) -> String? {
    guard let value = node(key) else { return nil }
    guard let text = value.scalarText else {
      throw error(key, "expected \(expected), found \(value.kindDescription)")
    }
    return text
  }

  mutating func required<T>(_ key: String, _ value: T?, expected: String, example: String) throws(ConfigError) -> T {
    if let value { return value }
    // Present with no value: say so where it stands.
    if let entry = node.entries?.first(where: { $0.key == key }) {
      throw ConfigError(
        location: entry.keyLocation, keyPath: keyPath(key), message: "'\(key)' has no value (expected \(expected))",
        hint: "e.g. '\(key): \(example)'")
    }
    // A misspelt key is likelier than a forgotten one: name the typo, where it stands.
    let unread = (node.entries ?? []).filter { !asked.contains($0.key) }
    if let typo = unread.min(by: { editDistance($0.key, key) < editDistance($1.key, key) }),
      editDistance(typo.key, key) <= 2
    {
      throw ConfigError(
        location: typo.keyLocation, keyPath: keyPath(typo.key), message: "unknown key '\(typo.key)'",
        hint: "did you mean '\(key)'?")
    }
    throw error(nil, "missing required key '\(key)' (\(expected))", hint: "add e.g. '\(key): \(example)'")
  }

  func record(_ key: String, kind: String, defaultValue: String?, help: String) {
    schema?.add(.init(key: keyPath(key), kind: kind, defaultValue: defaultValue, help: help))
  }

  // MARK: Typed values

  /// A whole number within `range`.
  public mutating func int(
    _ key: String, default defaultValue: Int? = nil, range: ClosedRange<Int> = Int.min...Int.max, help: String = ""
  ) throws(ConfigError) -> Int {
    record(key, kind: "integer", defaultValue: defaultValue.map(String.init), help: help)
    guard let text = try scalar(key, expected: "a whole number") else {
      return try required(key, defaultValue, expected: "a whole number", example: "\(max(range.lowerBound, 1))")
    }
    let cleaned = text.replacingUnderscores()
    guard let value = Int(cleaned) ?? Double(cleaned).flatMap({ $0 == $0.rounded() && abs($0) < 9e15 ? Int($0) : nil })
    else {
      throw error(key, "expected a whole number, got '\(text)'")
    }
    guard range.contains(value) else {
      throw error(key, "\(value) is out of range: expected \(describe(range))")
    }
    return value
  }

  /// A whole number, or nil when the key is absent (an optional setting such as a capacity).
  public mutating func optionalInt(_ key: String, range: ClosedRange<Int> = Int.min...Int.max, help: String = "")
    throws(ConfigError) -> Int?
  {
    guard has(key) else {
      record(key, kind: "integer", defaultValue: "none", help: help)
      return nil
    }
    return try int(key, range: range, help: help)
  }

  /// Records a key in the schema without reading it (alternatives documented elsewhere).
  public func describe(_ key: String, kind: String, help: String) {
    record(key, kind: kind, defaultValue: "none", help: help)
  }

  /// A real number within `range`.
  public mutating func double(
    _ key: String, default defaultValue: Double? = nil,
    range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude,
    help: String = ""
  ) throws(ConfigError) -> Double {
    record(key, kind: "number", defaultValue: defaultValue.map(Quantity.shortest), help: help)
    guard let text = try scalar(key, expected: "a number") else {
      return try required(key, defaultValue, expected: "a number", example: "1")
    }
    guard let value = Double(text.replacingUnderscores()), value.isFinite else {
      throw error(key, "expected a number, got '\(text)'")
    }
    guard range.contains(value) else {
      throw error(key, "\(Quantity.shortest(value)) is out of range: expected \(describe(range))")
    }
    return value
  }

  /// A probability in [0, 1].
  public mutating func probability(_ key: String, default defaultValue: Double? = nil, help: String = "")
    throws(ConfigError)
    -> Double
  {
    try double(key, default: defaultValue, range: 0...1, help: help)
  }

  /// true/false (also yes/no, on/off).
  public mutating func bool(_ key: String, default defaultValue: Bool? = nil, help: String = "") throws(ConfigError)
    -> Bool
  {
    record(key, kind: "boolean", defaultValue: defaultValue.map { $0 ? "true" : "false" }, help: help)
    guard let text = try scalar(key, expected: "true or false") else {
      return try required(key, defaultValue, expected: "true or false", example: "true")
    }
    switch text.lowercased() {
    case "true", "yes", "on": return true
    case "false", "no", "off": return false
    default: throw error(key, "expected true or false, got '\(text)'")
    }
  }

  /// Free text.
  public mutating func string(_ key: String, default defaultValue: String? = nil, help: String = "") throws(ConfigError)
    -> String
  {
    record(key, kind: "text", defaultValue: defaultValue, help: help)
    guard let text = try scalar(key, expected: "text") else {
      return try required(key, defaultValue, expected: "text", example: "name")
    }
    return text
  }

  /// One of a fixed set of words.
  public mutating func choice(
    _ key: String, _ choices: [String], default defaultValue: String? = nil, help: String = ""
  )
    throws(ConfigError) -> String
  {
    record(key, kind: "one of " + choices.joined(separator: ", "), defaultValue: defaultValue, help: help)
    guard let text = try scalar(key, expected: "one of \(choices.joined(separator: ", "))") else {
      return try required(key, defaultValue, expected: "one of \(choices.joined(separator: ", "))", example: choices[0])
    }
    guard choices.contains(text) else {
      var hint = "expected one of: \(choices.joined(separator: ", "))"
      if let near = closestMatch(to: text, among: choices) { hint = "did you mean '\(near)'? " + hint }
      throw error(key, "'\(text)' is not a valid choice", hint: hint)
    }
    return text
  }

  /// A duration with a unit (`5ms`, `1.5s`, `2h`), within `range` (any duration the clock holds,
  /// 0 to about 292 years, unless narrowed).
  public mutating func duration(
    _ key: String, default defaultValue: SimTime? = nil, range: ClosedRange<SimTime> = .zero...SimTime.max,
    help: String = ""
  )
    throws(ConfigError)
    -> SimTime
  {
    record(key, kind: "duration", defaultValue: defaultValue?.formatted, help: help)
    guard let text = try scalar(key, expected: "a duration") else {
      return try required(key, defaultValue, expected: "a duration", example: "10s")
    }
    let value: SimTime
    do { value = try SimTime(parsing: text) } catch { throw self.error(key, error.message, hint: error.hint) }
    guard range.contains(value) else {
      throw self.error(key, "\(value.formatted) is out of range: expected \(describe(range))")
    }
    return value
  }

  /// The shortest period a repeating timer (a heartbeat, a poll, a flush, a check) may have: each
  /// period is an event, so 1 ms bounds a timer to a thousand events per simulated second. Real
  /// systems configure these in milliseconds or coarser (Kafka's `*.ms`, HDFS's seconds).
  public static let shortestPeriod = SimTime.milliseconds(1)

  /// The period of a repeating timer: at least ``shortestPeriod``.
  public mutating func period(_ key: String, default defaultValue: SimTime? = nil, help: String = "")
    throws(ConfigError) -> SimTime
  {
    try optionalPeriod(key, default: defaultValue, zeroMeans: nil, help: help)!
  }

  /// The period of a repeating timer that 0 turns off (`zeroMeans`, e.g. "no checkpoints"):
  /// nil for 0, else at least ``shortestPeriod``.
  public mutating func optionalPeriod(
    _ key: String, default defaultValue: SimTime? = nil, zeroMeans: String?, help: String = ""
  ) throws(ConfigError) -> SimTime? {
    let value = try duration(key, default: defaultValue, help: help)
    if value == .zero, zeroMeans != nil { return nil }
    guard value >= Self.shortestPeriod else {
      throw error(
        key, "a period of \(value.formatted) is shorter than \(Self.shortestPeriod.formatted)",
        hint: "each period is an event; give 1ms or more" + (zeroMeans.map { ", or 0 for \($0)" } ?? ""))
    }
    return value
  }

  /// A quantity in base units: a size in bytes, a rate per second, a plain number, within
  /// `range` (in base units; the whole of ``QuantityKind/range`` unless narrowed).
  public mutating func quantity(
    _ key: String, _ kind: QuantityKind, default defaultValue: Double? = nil, range: ClosedRange<Double>? = nil,
    help: String = ""
  )
    throws(ConfigError) -> Double
  {
    record(key, kind: kind.rawValue, defaultValue: defaultValue.map { Quantity.format($0, as: kind) }, help: help)
    guard let text = try scalar(key, expected: "a \(kind.rawValue)") else {
      return try required(
        key, defaultValue, expected: "a \(kind.rawValue)", example: String(kind.example.split(separator: ",")[0]))
    }
    let value: Double
    do { value = try Quantity.parse(text, as: kind) } catch { throw self.error(key, error.message, hint: error.hint) }
    if let range, !range.contains(value) {
      throw self.error(key, "\(text.trimmingSpaces()) is out of range: expected \(describe(range, as: kind))")
    }
    return value
  }

  /// A distribution (`exp(mean: 5ms)`), its values measured as `kind`.
  public mutating func distribution(
    _ key: String, _ kind: QuantityKind, default defaultValue: Distribution? = nil, baseDirectory: String? = nil,
    help: String = ""
  ) throws(ConfigError) -> Distribution {
    record(key, kind: "distribution of \(kind.rawValue)", defaultValue: defaultValue?.formatted(as: kind), help: help)
    guard let text = try scalar(key, expected: "a distribution such as exp(mean: 5ms)") else {
      return try required(key, defaultValue, expected: "a distribution", example: "exp(mean: 5ms)")
    }
    do { return try Distribution.parse(text, as: kind, baseDirectory: baseDirectory) } catch {
      throw self.error(key, error.message, hint: error.hint)
    }
  }

  /// A nested mapping, read by its own reader (empty if absent).
  public mutating func mapping(_ key: String, help: String = "") throws(ConfigError) -> ConfigReader {
    record(key, kind: "mapping", defaultValue: "{}", help: help)
    let value = node(key) ?? ConfigNode(.null, at: node.location)
    return try ConfigReader(value, path: keyPath(key), schema: schema)
  }

  /// A list (empty if absent). A single value where a list belongs is an error.
  public mutating func list(_ key: String, help: String = "") throws(ConfigError) -> [ConfigNode] {
    record(key, kind: "list", defaultValue: "[]", help: help)
    guard let value = node(key) else { return [] }
    guard let items = value.items else { throw error(key, "expected a list, found \(value.kindDescription)") }
    return items
  }

  /// Ends reading: any key never asked for is an error naming the nearest known key.
  public func finish() throws(ConfigError) {
    for entry in node.entries ?? [] where !asked.contains(entry.key) {
      var hint: String?
      if let near = closestMatch(to: entry.key, among: asked) {
        hint = "did you mean '\(near)'?"
      } else if !asked.isEmpty {
        hint = "known keys here: \(asked.joined(separator: ", "))"
      }
      throw ConfigError(
        location: entry.keyLocation, keyPath: keyPath(entry.key), message: "unknown key '\(entry.key)'", hint: hint)
    }
  }

  private func describe(_ range: ClosedRange<Int>) -> String {
    if range.upperBound == Int.max { return ">= \(range.lowerBound)" }
    return "\(range.lowerBound) to \(range.upperBound)"
  }

  private func describe(_ range: ClosedRange<SimTime>) -> String {
    if range.upperBound == .max { return ">= \(range.lowerBound.formatted)" }
    return "\(range.lowerBound.formatted) to \(range.upperBound.formatted)"
  }

  private func describe(_ range: ClosedRange<Double>, as kind: QuantityKind) -> String {
    if kind == .number { return describe(range) }
    let top = range.upperBound >= kind.range.upperBound ? kind.maximumText : Quantity.format(range.upperBound, as: kind)
    return "\(Quantity.format(range.lowerBound, as: kind)) to \(top)"
  }

  private func describe(_ range: ClosedRange<Double>) -> String {
    if range.upperBound == .greatestFiniteMagnitude { return ">= \(Quantity.shortest(range.lowerBound))" }
    return "\(Quantity.shortest(range.lowerBound)) to \(Quantity.shortest(range.upperBound))"
  }
}

extension String {
  /// `100_000` reads as `100000`.
  fileprivate func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}

/// The parameters a model reads, recorded as they are asked for: its self-description.
///
/// A class, so that the readers of nested mappings (``ConfigReader/mapping(_:help:)`` passes it
/// on) add to one list. It is not synchronised: one reading fills it at a time.
public final class ParameterSchema: @unchecked Sendable {
  /// One parameter as it was asked for.
  public struct Parameter: Sendable, Equatable {
    /// Its dotted key path (`params.stations.0.servers`).
    public var key: String
    /// What it reads as (`integer`, `duration`, `distribution of duration`).
    public var kind: String
    /// Its default as text (`none` for an optional setting), or nil when it is required.
    public var defaultValue: String?
    /// The help text the model gave.
    public var help: String
  }

  /// The parameters in the order first asked for (each key once).
  public private(set) var parameters: [Parameter] = []

  /// An empty schema, to attach to a ``ConfigReader`` reading an empty mapping.
  public init() {}

  func add(_ parameter: Parameter) {
    if !parameters.contains(where: { $0.key == parameter.key }) { parameters.append(parameter) }
  }
}
