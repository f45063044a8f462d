/// Where something stands in a config file: 1-based line and column (0 when unknown).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
  /// The line, from 1 (0 when unknown).
  public var line: Int
  /// The column, from 1 (0 when unknown).
  public var column: Int
  /// A location at `line` and `column`, both counted from 1.
  public init(line: Int, column: Int) {
    self.line = line
    self.column = column
  }
  /// No known location (a value made in code, not read from a file).
  public static let unknown = SourceLocation(line: 0, column: 0)
  /// `LINE:COLUMN`.
  public var description: String { "\(line):\(column)" }
}

/// A config value as written: a tree of scalars (kept as their text), ordered mappings and
/// sequences, each with the place it came from.
///
/// Scalars keep their text; what a scalar means (a number, a duration, a distribution) is decided
/// by the reader that asks for it, so `5ms` and `"5ms"` read the same. Mappings keep the order
/// they were written in, which makes printing and hashing deterministic.
public struct ConfigNode: Sendable, Hashable {
  /// What a node holds: nothing (`~`, or an empty value), a scalar's text, a list or a mapping.
  public enum Value: Sendable, Hashable {
    case null
    case scalar(String)
    case sequence([ConfigNode])
    case mapping([Entry])
  }

  /// One key of a mapping, with the location of the key itself.
  public struct Entry: Sendable, Hashable {
    /// The key as written.
    public var key: String
    /// Where the key stands (errors about a key that has no value, or is unknown, point here).
    public var keyLocation: SourceLocation
    /// The value under the key.
    public var value: ConfigNode
    /// An entry of `key` (written at `keyLocation`) and `value`.
    public init(key: String, keyLocation: SourceLocation = .unknown, value: ConfigNode) {
      self.key = key
      self.keyLocation = keyLocation
      self.value = value
    }
  }

  /// What the node holds.
  public var value: Value
  /// Where the value stands in its file.
  public var location: SourceLocation

  /// A node holding `value`, from `location`.
  public init(_ value: Value, at location: SourceLocation = .unknown) {
    self.value = value
    self.location = location
  }

  /// A scalar with the text `text` (its meaning is decided by the reader that asks for it).
  public static func scalar(_ text: String, at location: SourceLocation = .unknown) -> ConfigNode {
    ConfigNode(.scalar(text), at: location)
  }

  /// A mapping of `entries`, in the order given; each key takes its value's location.
  public static func mapping(_ entries: [(String, ConfigNode)], at location: SourceLocation = .unknown) -> ConfigNode {
    ConfigNode(.mapping(entries.map { Entry(key: $0.0, keyLocation: $0.1.location, value: $0.1) }), at: location)
  }

  /// The entries of a mapping, in the order written; nil if the node is not a mapping.
  public var entries: [Entry]? {
    if case .mapping(let entries) = value { return entries }
    return nil
  }

  /// The items of a list; nil if the node is not a list.
  public var items: [ConfigNode]? {
    if case .sequence(let items) = value { return items }
    return nil
  }

  /// The text of a scalar; nil if the node is not a scalar.
  public var scalarText: String? {
    if case .scalar(let text) = value { return text }
    return nil
  }

  /// True for a null node (`~`, `null`, or a key with no value), which readers treat as absent.
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
