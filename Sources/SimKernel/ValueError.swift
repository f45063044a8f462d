/// A value a user gave that BDSim cannot accept, with what was wrong and how to fix it.
///
/// The kernel knows nothing of files; the experiments layer adds the file, line and key path.
/// `key` names the offending parameter (`mean`, `servers`) when there is one.
public struct ValueError: Error, Equatable, Sendable, CustomStringConvertible {
  /// What is wrong, in one sentence, quoting the offending value.
  public var message: String
  /// The parameter at fault, if the error is about one.
  public var key: String?
  /// How to fix it (an example of a valid value), if there is something useful to say.
  public var hint: String?

  public init(_ message: String, key: String? = nil, hint: String? = nil) {
    self.message = message
    self.key = key
    self.hint = hint
  }

  public var description: String {
    var text = message
    if let hint { text += " (\(hint))" }
    return text
  }
}
