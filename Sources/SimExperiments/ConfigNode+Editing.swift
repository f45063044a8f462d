import SimKernel

extension ConfigNode {
  /// Sets the value at a dotted path (`params.stations.0.servers`), creating mappings on the way.
  ///
  /// A numeric segment indexes a list. Fails if the path runs through a scalar or past a list's end.
  public mutating func set(_ path: [String], to newValue: ConfigNode, fullPath: String) throws(ConfigError) {
    guard let head = path.first else {
      self = newValue
      return
    }
    let rest = Array(path.dropFirst())
    switch value {
    case .null:
      // New mappings take the place of the value that caused them, so errors can point there.
      var child = ConfigNode(.null, at: newValue.location)
      try child.set(rest, to: newValue, fullPath: fullPath)
      value = .mapping([Entry(key: head, keyLocation: newValue.location, value: child)])
      if location == .unknown { location = newValue.location }
    case .mapping(var entries):
      if let index = entries.firstIndex(where: { $0.key == head }) {
        try entries[index].value.set(rest, to: newValue, fullPath: fullPath)
      } else {
        var child = ConfigNode(.null, at: newValue.location)
        try child.set(rest, to: newValue, fullPath: fullPath)
        entries.append(Entry(key: head, keyLocation: newValue.location, value: child))
      }
      value = .mapping(entries)
    case .sequence(var items):
      guard let index = Int(head), items.indices.contains(index) else {
        throw ConfigError(
          location: location, keyPath: fullPath,
          message: "'\(head)' is not an index of this list of \(items.count) (counting from 0)")
      }
      try items[index].set(rest, to: newValue, fullPath: fullPath)
      value = .sequence(items)
    case .scalar(let text):
      throw ConfigError(
        location: location, keyPath: fullPath,
        message: "cannot set '\(path.joined(separator: "."))' inside the value '\(text)'")
    }
  }

  /// Clears every location in the tree (for values that come from the command line).
  public mutating func forgetLocations() {
    location = .unknown
    switch value {
    case .sequence(var items):
      for i in items.indices { items[i].forgetLocations() }
      value = .sequence(items)
    case .mapping(var entries):
      for i in entries.indices {
        entries[i].keyLocation = .unknown
        entries[i].value.forgetLocations()
      }
      value = .mapping(entries)
    default: break
    }
  }

  /// The node at a dotted path, if there is one.
  public func value(at path: [String]) -> ConfigNode? {
    guard let head = path.first else { return self }
    switch value {
    case .mapping(let entries): return entries.first { $0.key == head }?.value.value(at: Array(path.dropFirst()))
    case .sequence(let items):
      guard let index = Int(head), items.indices.contains(index) else { return nil }
      return items[index].value(at: Array(path.dropFirst()))
    default: return nil
    }
  }

  /// Canonical JSON: keys in written order, scalars as strings, no whitespace. The same config
  /// always gives the same bytes, so it serves for hashing and for the manifest, and it is valid
  /// YAML, so it reads back as the same tree.
  public var canonicalJSON: String {
    var out = ""
    appendJSON(to: &out)
    return out
  }

  private func appendJSON(to out: inout String) {
    switch value {
    case .null: out += "null"
    case .scalar(let text): out += jsonString(text)
    case .sequence(let items):
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += "," }
        item.appendJSON(to: &out)
      }
      out += "]"
    case .mapping(let entries):
      out += "{"
      for (i, entry) in entries.enumerated() {
        if i > 0 { out += "," }
        out += jsonString(entry.key) + ":"
        entry.value.appendJSON(to: &out)
      }
      out += "}"
    }
  }

  /// A short form for tables and CSV cells: scalars as they are, anything else as JSON.
  public var compactText: String {
    if case .scalar(let text) = value { return text }
    if case .null = value { return "" }
    return canonicalJSON
  }
}

/// A JSON string literal.
public func jsonString(_ text: String) -> String {
  var out = "\""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    default:
      if scalar.value < 0x20 {
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
  }
  return out + "\""
}
