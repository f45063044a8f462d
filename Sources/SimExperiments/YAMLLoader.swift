import Foundation
import SimKernel
import Yams

/// Reads YAML text into a ``ConfigNode`` tree that remembers where every value was written.
public enum YAMLLoader {
  /// Parses `text`; `file` names it in errors. Malformed YAML, duplicate keys and non-text keys
  /// are errors with a line and column. Anchors and aliases are YAML's own and are resolved (an
  /// error in an aliased value is reported at the anchor, where the value is written).
  public static func parse(_ text: String, file: String) throws(ConfigError) -> ConfigNode {
    if let nul = text.utf8.firstIndex(of: 0) {
      let line = text.utf8[..<nul].filter { $0 == UInt8(ascii: "\n") }.count + 1
      throw ConfigError(
        file: file, location: SourceLocation(line: line, column: 1),
        message: "the file is not text (it contains NUL bytes)")
    }
    let root: Node?
    do {
      root = try Yams.compose(yaml: text)
    } catch let error as YamlError {
      throw convert(error, file: file, text: text)
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
      throw ConfigError(
        file: path, location: SourceLocation(line: firstInvalidUTF8Line(Array(data)), column: 1),
        message: "the file is not UTF-8 text", hint: "save it as UTF-8")
    }
    return try parse(text, file: path)
  }

  /// The line of the first byte that is not valid UTF-8.
  static func firstInvalidUTF8Line(_ bytes: [UInt8]) -> Int {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    var line = 1
    while true {
      switch decoder.decode(&iterator) {
      case .scalarValue(let scalar): if scalar == "\n" { line += 1 }
      case .emptyInput: return line
      case .error: return line
      }
    }
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
      // Yams resolves aliases while composing; an unresolved one is an error, not a crash.
      throw ConfigError(file: file, location: location(alias.mark), message: "YAML alias that refers to nothing")
    }
  }

  static func yamlText(_ error: YamlError) -> String {
    switch error {
    case .scanner(_, _, _, let yaml), .parser(_, _, _, let yaml), .composer(_, _, _, let yaml): return yaml
    default: return ""
    }
  }

  static func convert(_ error: YamlError, file: String, text: String) -> ConfigError {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    // libyaml puts end-of-stream one line past the last when there is no final newline.
    let lastLine = max(1, text.hasSuffix("\n") ? lines.count - 1 : lines.count)
    func located(_ mark: Mark) -> SourceLocation {
      mark.line > lastLine
        ? SourceLocation(line: lastLine, column: max(1, lines[lastLine - 1].count + 1))
        : SourceLocation(line: mark.line, column: mark.column)
    }
    switch error {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      var message = "malformed YAML: \(problem)"
      var location = located(mark)
      if let context {
        // An unclosed quote is reported where the text ends; where it opened is what helps.
        if context.text.contains("quoted scalar") {
          location = located(context.mark)
          message += " (\(context.text) that is never closed)"
        } else {
          message += " (\(context.text) at line \(context.mark.line))"
        }
      }
      var hint = "check indentation, colons and brackets"
      let line = location.line >= 1 && location.line <= lines.count ? lines[location.line - 1] : ""
      if problem.contains("mapping values are not allowed"), line.contains("(") {
        hint = "a value with 'name: value' inside parentheses must be quoted, e.g. service: \"exp(mean: 5ms)\""
      } else if line.contains("\t") {
        hint = "this line contains a tab: YAML indentation must use spaces"
      }
      return ConfigError(file: file, location: location, message: message, hint: hint)
    case .duplicatedKeysInMapping(let duplicates, let context):
      let key = duplicates.first ?? ""
      // Yams reports the first occurrence; point at the second, at the same indentation.
      var location = located(context.mark)
      var seen = 0
      for (index, line) in lines.enumerated() where index + 1 >= context.mark.line {
        let indentation = line.prefix { $0 == " " }.count
        let rest = line.dropFirst(indentation)
        let isKey =
          rest.hasPrefix(key + ":") || rest.hasPrefix("\"\(key)\":") || rest.hasPrefix("'\(key)':")
          || rest.hasPrefix("- " + key + ":")
        guard isKey, indentation + 1 == context.mark.column || rest.hasPrefix("- ") else { continue }
        seen += 1
        if seen == 2 {
          location = SourceLocation(line: index + 1, column: indentation + 1)
          break
        }
      }
      return ConfigError(
        file: file, location: location, keyPath: key, message: "duplicate key '\(key)'",
        hint: "each key may appear once in a mapping")
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
