import Foundation
import SimKernel
import Yams

/// Reads YAML text into a ``ConfigNode`` tree that remembers where every value was written.
public enum YAMLLoader {
  /// Parses `text`; `file` names it in errors. Malformed YAML, duplicate keys, anchors and
  /// non-text keys are errors with a line and column.
  public static func parse(_ text: String, file: String) throws(ConfigError) -> ConfigNode {
    if text.utf8.contains(0) {
      throw ConfigError(
        file: file, location: SourceLocation(line: 1, column: 1),
        message: "the file is not text (it contains NUL bytes)")
    }
    let root: Node?
    do {
      root = try Yams.compose(yaml: text)
    } catch let error as YamlError {
      throw convert(error, file: file)
    } catch {
      throw ConfigError(file: file, message: "cannot parse YAML: \(error)")
    }
    guard let root else { return ConfigNode(.null, at: SourceLocation(line: 1, column: 1)) }
    return try convert(root, file: file)
  }

  /// Reads and parses a file.
  public static func load(path: String) throws(ConfigError) -> ConfigNode {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw ConfigError(file: path, message: "no such file", hint: "check the path; configs live under experiments/")
    }
    guard !isDirectory.boolValue else { throw ConfigError(file: path, message: "is a directory, not a config file") }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ConfigError(file: path, message: "cannot read the file (permission denied?)")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw ConfigError(file: path, location: SourceLocation(line: 1, column: 1), message: "the file is not UTF-8 text")
    }
    return try parse(text, file: path)
  }

  static func location(_ mark: Mark?) -> SourceLocation {
    guard let mark else { return .unknown }
    return SourceLocation(line: mark.line, column: mark.column)
  }

  static func convert(_ node: Node, file: String) throws(ConfigError) -> ConfigNode {
    switch node {
    case .scalar(let scalar):
      let text = scalar.string
      // An empty plain scalar or '~'/null is YAML's null; a quoted empty string is text.
      if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(text) {
        return ConfigNode(.null, at: location(scalar.mark))
      }
      return ConfigNode(.scalar(text), at: location(scalar.mark))
    case .sequence(let sequence):
      var items: [ConfigNode] = []
      for item in sequence { items.append(try convert(item, file: file)) }
      return ConfigNode(.sequence(items), at: location(sequence.mark))
    case .mapping(let mapping):
      var entries: [ConfigNode.Entry] = []
      for (key, value) in mapping {
        guard case .scalar(let keyScalar) = key else {
          throw ConfigError(
            file: file, location: location(key.mark),
            message: "a key must be plain text, not \(key.mapping != nil ? "a mapping" : "a list")")
        }
        if entries.contains(where: { $0.key == keyScalar.string }) {
          throw ConfigError(
            file: file, location: location(keyScalar.mark), keyPath: keyScalar.string,
            message: "duplicate key '\(keyScalar.string)'", hint: "each key may appear once in a mapping")
        }
        entries.append(
          ConfigNode.Entry(
            key: keyScalar.string, keyLocation: location(keyScalar.mark), value: try convert(value, file: file)))
      }
      return ConfigNode(.mapping(entries), at: location(mapping.mark))
    case .alias(let alias):
      throw ConfigError(
        file: file, location: location(alias.mark), message: "YAML anchors and aliases are not supported",
        hint: "write the value out, or use a sweep")
    }
  }

  static func yamlText(_ error: YamlError) -> String {
    switch error {
    case .scanner(_, _, _, let yaml), .parser(_, _, _, let yaml), .composer(_, _, _, let yaml): return yaml
    default: return ""
    }
  }

  static func convert(_ error: YamlError, file: String) -> ConfigError {
    switch error {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      var message = "malformed YAML: \(problem)"
      if let context { message += " (\(context.text) at line \(context.mark.line))" }
      var hint = "check indentation, colons and brackets"
      let lines = yamlText(error).split(separator: "\n", omittingEmptySubsequences: false)
      if problem.contains("mapping values are not allowed"), mark.line >= 1, mark.line <= lines.count,
        lines[mark.line - 1].contains("(")
      {
        hint = "a value with 'name: value' inside parentheses must be quoted, e.g. service: \"exp(mean: 5ms)\""
      }
      return ConfigError(
        file: file, location: SourceLocation(line: mark.line, column: mark.column), message: message, hint: hint)
    case .duplicatedKeysInMapping(let duplicates, let context):
      return ConfigError(
        file: file, location: SourceLocation(line: context.mark.line, column: context.mark.column),
        message: "duplicate key '\(duplicates.first ?? "")'", hint: "each key may appear once in a mapping")
    case .reader(let problem, let offset, _, let yaml):
      let line = offset.map { yaml.utf8.prefix($0).filter { $0 == UInt8(ascii: "\n") }.count + 1 } ?? 1
      return ConfigError(
        file: file, location: SourceLocation(line: line, column: 1), message: "unreadable text: \(problem)")
    default:
      return ConfigError(
        file: file, location: SourceLocation(line: 1, column: 1), message: "cannot parse YAML: \(error)")
    }
  }
}
