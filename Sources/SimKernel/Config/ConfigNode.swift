/// Where something stands in a config file: 1-based line and column (0 when unknown).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
  public var line: Int
  public var column: Int
  public init(line: Int, column: Int) {
    self.line = line
    self.column = column
  }
  public static let unknown = SourceLocation(line: 0, column: 0)
  public var description: String { "\(line):\(column)" }
}

/// A config value as written: a tree of scalars (kept as their text), ordered mappings and
/// sequences, each with the place it came from.
///
/// Scalars keep their text; what a scalar means (a number, a duration, a distribution) is decided
/// by the reader that asks for it, so `5ms` and `"5ms"` read the same. Mappings keep the order
/// they were written in, which makes printing and hashing deterministic.
public struct ConfigNode: Sendable, Hashable {
  public enum Value: Sendable, Hashable {
    case null
    case scalar(String)
    case sequence([ConfigNode])
    case mapping([Entry])
  }

  /// One key of a mapping, with the location of the key itself.
  public struct Entry: Sendable, Hashable {
    public var key: String
    public var keyLocation: SourceLocation
    public var value: ConfigNode
    public init(key: String, keyLocation: SourceLocation = .unknown, value: ConfigNode) {
      self.key = key
      self.keyLocation = keyLocation
      self.value = value
    }
  }

  public var value: Value
  public var location: SourceLocation

  public init(_ value: Value, at location: SourceLocation = .unknown) {
    self.value = value
    self.location = location
  }

  public static func scalar(_ text: String, at location: SourceLocation = .unknown) -> ConfigNode {
    ConfigNode(.scalar(text), at: location)
  }

  public static func mapping(_ entries: [(String, ConfigNode)], at location: SourceLocation = .unknown) -> ConfigNode {
    ConfigNode(.mapping(entries.map { Entry(key: $0.0, keyLocation: $0.1.location, value: $0.1) }), at: location)
  }

  public var entries: [Entry]? {
    if case .mapping(let entries) = value { return entries }
    return nil
  }

  public var items: [ConfigNode]? {
    if case .sequence(let items) = value { return items }
    return nil
  }

  public var scalarText: String? {
    if case .scalar(let text) = value { return text }
    return nil
  }

  public var isNull: Bool {
    if case .null = value { return true }
    return false
  }

  /// The value under `key` of a mapping.
  public subscript(key: String) -> ConfigNode? {
    entries?.first { $0.key == key }?.value
  }

  /// What kind of node this is, for messages ("a mapping", "a list", "the value '5ms'").
  public var kindDescription: String {
    switch value {
    case .null: "nothing"
    case .scalar(let text): "the value '\(text)'"
    case .sequence: "a list"
    case .mapping: "a mapping"
    }
  }
}
