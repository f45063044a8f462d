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

  /// An error saying `message`, about parameter `key`, with a `hint` on how to fix it.
  public init(_ message: String, key: String? = nil, hint: String? = nil) {
    self.message = message
    self.key = key
    self.hint = hint
  }

  /// The message with its hint in parentheses, made one displayable line (see ``displayable(_:)``).
  public var description: String {
    var text = message
    if let hint { text += " (\(hint))" }
    return displayable(text)
  }
}

/// A message made safe for one line of a terminal: control characters escaped (`\n`), and any
/// single-quoted value longer than 60 characters cut to its first 57 and `...`.
///
/// Messages quote what the user wrote, which can be a block of text or 20 KB of garbage; the
/// error must still be one readable line.
public func displayable(_ message: String) -> String {
  var out = ""
  var segment = ""
  var inQuotes = false
  func flush() {
    out += segment.count > 60 ? String(segment.prefix(57)) + "..." : segment
    segment = ""
  }
  for scalar in message.unicodeScalars {
    var piece: String
    switch scalar {
    case "\n": piece = "\\n"
    case "\r": piece = "\\r"
    case "\t": piece = "\\t"
    default:
      piece = scalar.value < 0x20 || scalar.value == 0x7f ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
    }
    if scalar == "'" {
      if inQuotes { flush() }
      inQuotes.toggle()
      out += "'"
      continue
    }
    if inQuotes { segment += piece } else { out += piece }
  }
  if inQuotes { out += segment } else { flush() }
  return out
}
