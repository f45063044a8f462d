/// A mistake in a config, located: file, line, column, the dotted key path, what was expected,
/// and how to fix it.
///
/// Printed as `FILE:LINE:COLUMN: error: at KEY.PATH: MESSAGE (HINT)`, the shape compilers use, so
/// editors can jump to it.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The config file, or empty when not known yet (see ``inFile(_:)``).
  public var file: String
  /// Line and column of the value (or key) at fault; ``SourceLocation/unknown`` when there is none.
  public var location: SourceLocation
  /// The dotted path of the key at fault (`params.stations.0.servers`), or empty.
  public var keyPath: String
  /// What is wrong, in one sentence, quoting the value.
  public var message: String
  /// How to fix it (a valid example, the nearest known key), if there is something useful to say.
  public var hint: String?

  /// An error with whatever of its location is known; a model usually makes one with
  /// ``ConfigReader/error(_:_:hint:)``, which fills in the location and key path.
  public init(
    file: String = "", location: SourceLocation = .unknown, keyPath: String = "", message: String, hint: String? = nil
  ) {
    self.file = file
    self.location = location
    self.keyPath = keyPath
    self.message = message
    self.hint = hint
  }

  /// The error as one line: `FILE:LINE:COLUMN: error: at KEY.PATH: MESSAGE (HINT)`.
  public var description: String { rendered(as: "error") }

  /// `FILE:LINE:COLUMN: SEVERITY: at KEY.PATH: MESSAGE (HINT)`, each part present only if known.
  public func rendered(as severity: String) -> String {
    var text = file.isEmpty ? "" : file + ":"
    if location.line > 0 { text += "\(location.line):\(location.column):" }
    text += (text.isEmpty ? "" : " ") + severity + ": "
    if !keyPath.isEmpty { text += "at \(displayable(keyPath)): " }
    text += displayable(message)
    if let hint { text += " (\(displayable(hint)))" }
    return text
  }

  /// The same error attributed to a file (the reader does not know which file it reads).
  public func inFile(_ file: String) -> ConfigError {
    var copy = self
    if copy.file.isEmpty { copy.file = file }
    return copy
  }
}
