import Foundation
import SimKernel
import Yams

/// Reads YAML text into a ``ConfigNode`` tree that remembers where every value was written.
public enum YAMLLoader {
  /// The most bytes a config file may have: a config is a few kilobytes, and 4 MiB of YAML is
  /// some 100,000 lines, beyond anything written by hand or generated for one experiment. The
  /// bound is what lets `validate` answer a device or a runaway file at once.
  public static let maximumFileBytes = 4 << 20

  /// The most values (scalars, lists and mappings) that aliases may add to a config, counted as
  /// they are copied. An alias repeats its anchor's value, so nested anchors multiply: eight levels
  /// of ten aliases each are 10^8 values from a few lines (a "billion laughs" document). Like
  /// SnakeYAML's `maxAliasesForCollections` and Go yaml.v3's alias ratio, this refuses such a
  /// document early; 100,000 is hundreds of times what the aliases of a real config add.
  public static let maximumAliasValues = 100_000

  /// Parses `text`; `file` names it in errors. Malformed YAML, duplicate keys and non-text keys
  /// are errors with a line and column. Anchors and aliases are YAML's own and are resolved: the
  /// value an alias stands for is located at the alias (what is inside it, at the anchor, where it
  /// is written), and aliases that would add more than ``maximumAliasValues`` values are an error.
  public static func parse(_ text: String, file: String) throws(ConfigError) -> ConfigNode {
    var counter = 0
    return try parse(text, file: file, aliasValues: &counter)
  }

  /// ``parse(_:file:)``, counting in `aliasValues` the values aliases added (what tests check).
  static func parse(_ text: String, file: String, aliasValues: inout Int) throws(ConfigError) -> ConfigNode {
    if let nul = text.utf8.firstIndex(of: 0) {
      let line = text.utf8[..<nul].filter { $0 == UInt8(ascii: "\n") }.count + 1
      throw ConfigError(
        file: file, location: SourceLocation(line: line, column: 1),
        message: "the file is not text (it contains NUL bytes)")
    }
    let aliases = AliasFinder(text)
    if let key = aliases.firstKey() {
      throw ConfigError(
        file: file, location: key.location, message: "an alias (*\(key.name)) cannot be a key",
        hint: "a key must be plain text: write it out")
    }
    let root: Node?
    // The parser owns the anchors (nodes hold them weakly): it stays alive while the tree is
    // converted, so that an alias is known by its anchor.
    let parser: Yams.Parser
    do {
      parser = try Yams.Parser(yaml: text)
      root = try parser.singleRoot()
    } catch let error as YamlError {
      throw convert(error, file: file, text: text)
    } catch {
      throw ConfigError(file: file, message: "cannot parse YAML: \(error)")
    }
    guard let root else { return ConfigNode(.null, at: SourceLocation(line: 1, column: 1)) }
    var composer = Composer(file: file, aliases: aliases)
    defer {
      aliasValues = composer.aliasValues
      withExtendedLifetime(parser) {}
    }
    return try composer.convert(root, keyPath: "", alias: nil)
  }

  /// Reads and parses a file.
  public static func load(path: String) throws(ConfigError) -> ConfigNode {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw ConfigError(file: path, message: "no such file", hint: "check the path; configs live under experiments/")
    }
    guard !isDirectory.boolValue else { throw ConfigError(file: path, message: "is a directory, not a config file") }
    let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
    if type == .typeCharacterSpecial || type == .typeBlockSpecial || type == .typeSocket {
      throw ConfigError(file: path, message: "is a device, not a config file", hint: "give the path of a YAML file")
    }
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw ConfigError(file: path, message: "cannot read the file (permission denied?)")
    }
    defer { try? handle.close() }
    // One byte more than the bound tells a file at the bound from a longer one, without reading
    // the rest.
    let data: Data
    do { data = try handle.read(upToCount: maximumFileBytes + 1) ?? Data() } catch {
      throw ConfigError(file: path, message: "cannot read the file: \(error.localizedDescription)")
    }
    guard data.count <= maximumFileBytes else {
      throw ConfigError(
        file: path, message: "the file is larger than the \(maximumFileBytes >> 20) MiB a config may have",
        hint: "a config is a few kilobytes of YAML: is this the right file?")
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

  /// Turns Yams' tree into ``ConfigNode``s, expanding aliases under a budget.
  ///
  /// Yams resolves an alias to its anchor's node itself (shared, so composing is cheap), which
  /// leaves no mark of the alias: a node whose anchor (an object of its own for each `&NAME`
  /// written) is seen for the second time is an alias, and ``AliasFinder`` finds where the alias is written.
  struct Composer {
    let file: String
    var aliases: AliasFinder
    var seenAnchors: Set<ObjectIdentifier> = []
    var aliasValues = 0

    mutating func convert(
      _ node: Node, keyPath: String, alias: (name: String, location: SourceLocation, keyPath: String)?
    )
      throws(ConfigError) -> ConfigNode
    {
      var alias = alias
      var nodeLocation = YAMLLoader.location(node.mark)
      if alias == nil, let anchor = node.anchor, let mark = node.mark,
        !seenAnchors.insert(ObjectIdentifier(anchor)).inserted
      {
        nodeLocation = aliases.next(anchor.rawValue, after: mark) ?? nodeLocation
        alias = (anchor.rawValue, nodeLocation, keyPath)
      }
      if let alias {
        aliasValues += 1
        if aliasValues > YAMLLoader.maximumAliasValues {
          throw ConfigError(
            file: file, location: alias.location, keyPath: alias.keyPath,
            message:
              "the aliases of this config add more than \(YAMLLoader.maximumAliasValues) values (here *\(alias.name)): nested aliases multiply",
            hint: "write the repeated values out, or alias a value that has no aliases inside it")
        }
      }
      func child(_ key: String) -> String { keyPath.isEmpty ? key : keyPath + "." + key }
      switch node {
      case .scalar(let scalar):
        let text = scalar.string
        // An empty plain scalar or '~'/null is YAML's null; a quoted empty string is text.
        if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(text) {
          return ConfigNode(.null, at: nodeLocation)
        }
        return ConfigNode(.scalar(text), at: nodeLocation)
      case .sequence(let sequence):
        var items: [ConfigNode] = []
        for (i, item) in sequence.enumerated() {
          items.append(try convert(item, keyPath: child(String(i)), alias: alias))
        }
        return ConfigNode(.sequence(items), at: nodeLocation)
      case .mapping(let mapping):
        var entries: [ConfigNode.Entry] = []
        for (key, value) in mapping {
          guard case .scalar(let keyScalar) = key else {
            throw ConfigError(
              file: file, location: YAMLLoader.location(key.mark),
              message: "a key must be plain text, not \(key.mapping != nil ? "a mapping" : "a list")")
          }
          if entries.contains(where: { $0.key == keyScalar.string }) {
            throw ConfigError(
              file: file, location: YAMLLoader.location(keyScalar.mark), keyPath: keyScalar.string,
              message: "duplicate key '\(keyScalar.string)'", hint: "each key may appear once in a mapping")
          }
          entries.append(
            ConfigNode.Entry(
              key: keyScalar.string, keyLocation: YAMLLoader.location(keyScalar.mark),
              value: try convert(value, keyPath: child(keyScalar.string), alias: alias)))
        }
        return ConfigNode(.mapping(entries), at: nodeLocation)
      case .alias(let alias):
        // Yams resolves aliases while composing; an unresolved one is an error, not a crash.
        throw ConfigError(
          file: file, location: YAMLLoader.location(alias.mark), message: "YAML alias that refers to nothing")
      }
    }
  }

  /// Finds where aliases are written: the next `*NAME` token after the anchor and after the alias
  /// found before (aliases are met in the order they are written). Comments and quoted text are
  /// skipped; a token it cannot find leaves the value located at its anchor.
  struct AliasFinder {
    let scalars: [Unicode.Scalar]
    /// The index of the first scalar of each line.
    let lineStarts: [Int]
    var cursor = 0
    var lost = false

    init(_ text: String) {
      scalars = Array(text.unicodeScalars)
      var starts = [0]
      for (i, scalar) in scalars.enumerated() where scalar == "\n" { starts.append(i + 1) }
      lineStarts = starts
    }

    /// libyaml's anchor characters.
    static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
      scalar.isASCII
        && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_")
    }

    /// Whether the scalar before `index` ends a token (so a `*`, `#` or quote there starts one).
    func separates(_ index: Int) -> Bool {
      index < 0 || " \t\r\n[{,:-?".unicodeScalars.contains(scalars[index])
    }

    /// The next alias token at or after `start`: where its `*` is and the range of its name.
    func nextAlias(from start: Int) -> (star: Int, name: Range<Int>)? {
      var i = start
      while i < scalars.count {
        let scalar = scalars[i]
        if scalar == "#", separates(i - 1) {
          while i < scalars.count, scalars[i] != "\n" { i += 1 }
          continue
        }
        if scalar == "\"" || scalar == "'", separates(i - 1) {
          // A quoted scalar: '' is a quote inside single quotes, \" inside double quotes.
          i += 1
          while i < scalars.count {
            if scalar == "\"", scalars[i] == "\\" {
              i += 2
              continue
            }
            if scalars[i] == scalar {
              if scalar == "'", i + 1 < scalars.count, scalars[i + 1] == "'" {
                i += 2
                continue
              }
              break
            }
            i += 1
          }
          i += 1
          continue
        }
        if scalar == "*", separates(i - 1) {
          var end = i + 1
          while end < scalars.count, Self.isNameCharacter(scalars[end]) { end += 1 }
          if end > i + 1 { return (i, (i + 1)..<end) }
        }
        i += 1
      }
      return nil
    }

    /// The location of the scalar at `index`.
    func location(of index: Int) -> SourceLocation {
      var low = 0
      var high = lineStarts.count - 1
      while low < high {
        let middle = (low + high + 1) / 2
        if lineStarts[middle] <= index { low = middle } else { high = middle - 1 }
      }
      return SourceLocation(line: low + 1, column: index - lineStarts[low] + 1)
    }

    mutating func next(_ name: String, after mark: Mark) -> SourceLocation? {
      let name = Array(name.unicodeScalars)
      guard !lost, mark.line >= 1, mark.line <= lineStarts.count else { return nil }
      var i = max(cursor, lineStarts[mark.line - 1] + max(0, mark.column - 1))
      while let token = nextAlias(from: i) {
        i = token.name.upperBound
        if Array(scalars[token.name]) == name {
          cursor = i
          return location(of: token.star)
        }
      }
      // Lost (the alias is written in a way this scan does not follow): stop looking, so that
      // later aliases cost nothing and are located at their anchors.
      lost = true
      return nil
    }

    /// The first alias written as a mapping key (`*a: 1`, `? *a`), and its name. Yams hashes
    /// every key to find duplicates, so an alias key of nested aliases would take exponential time
    /// before any value is counted: such keys are refused before Yams sees the text.
    func firstKey() -> (location: SourceLocation, name: String)? {
      var i = 0
      while let token = nextAlias(from: i) {
        i = token.name.upperBound
        var after = i
        while after < scalars.count, scalars[after] == " " || scalars[after] == "\t" { after += 1 }
        let colon =
          after < scalars.count && scalars[after] == ":"
          && (after + 1 == scalars.count || " \t\r\n,}]".unicodeScalars.contains(scalars[after + 1]))
        var before = token.star - 1
        while before >= 0, scalars[before] == " " || scalars[before] == "\t" { before -= 1 }
        let question = before >= 0 && scalars[before] == "?" && separates(before - 1)
        if colon || question {
          return (location(of: token.star), String(String.UnicodeScalarView(scalars[token.name])))
        }
      }
      return nil
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
