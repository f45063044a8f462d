#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension Distribution {
  /// The names configs may use, with their canonical spelling.
  public static let names: [String: String] = [
    "const": "const", "constant": "const", "fixed": "const",
    "uniform": "uniform",
    "exp": "exp", "exponential": "exp",
    "normal": "normal", "gaussian": "normal",
    "lognormal": "lognormal",
    "pareto": "pareto",
    "weibull": "weibull",
    "gamma": "gamma",
    "erlang": "erlang",
    "mixture": "mixture", "mix": "mixture",
    "empirical": "empirical",
  ]

  /// Reads a distribution written as in a config, e.g. `exp(mean: 5ms)` or `lognormal(median: 2ms, sigma: 1)`.
  ///
  /// Parameters that measure the quantity itself (mean, scale, low, ...) carry `kind`'s units;
  /// shape parameters are plain numbers. `baseDirectory` resolves `empirical(file: ...)`.
  /// Every error names the parameter at fault and says what would be accepted.
  public static func parse(_ text: String, as kind: QuantityKind, baseDirectory: String? = nil) throws(ValueError)
    -> Distribution
  {
    var parser = SpecParser(text: text)
    let value = try parser.parseValue()
    try parser.expectEnd()
    let distribution = try interpret(value, kind: kind, baseDirectory: baseDirectory, source: text)
    try distribution.validate(as: kind)
    return distribution
  }

  private static func interpret(_ value: SpecValue, kind: QuantityKind, baseDirectory: String?, source: String)
    throws(ValueError) -> Distribution
  {
    switch value {
    case .atom(let text):
      if let first = text.first, first.isLetter {
        throw unknownName(text, source: source)
      }
      return .constant(try Quantity.parse(text, as: kind))
    case .string, .list, .weighted:
      throw ValueError("'\(source)' is not a distribution", hint: "write e.g. exp(mean: 5ms) or 5ms")
    case .call(let rawName, let arguments):
      guard let name = names[rawName.lowercased()] else { throw unknownName(rawName, source: source) }
      var args = Arguments(distribution: name, arguments: arguments, kind: kind)
      let result: Distribution
      switch name {
      case "const":
        result = .constant(try args.quantity(["value"]))
      case "uniform":
        let low = try args.quantity(["low", "min"])
        let high = try args.quantity(["high", "max"])
        result = .uniform(low: low, high: high)
      case "exp":
        if args.has("rate") {
          let rate = try args.inverse("rate")
          guard rate > 0 else { throw ValueError("exp: 'rate' must be > 0", key: "rate") }
          result = .exponential(mean: 1 / rate)
        } else {
          result = .exponential(mean: try args.quantity(["mean"]))
        }
      case "normal":
        let mean = try args.quantity(["mean", "mu"])
        let sd = try args.quantity(["sd", "stddev", "sigma"])
        result = .normal(mean: mean, standardDeviation: sd)
      case "lognormal":
        try args.requireNamed("median and sigma, mean and cv, or mu and sigma")
        if args.has("median") {
          let median = try args.quantity(["median"])
          guard median > 0 else { throw ValueError("lognormal: 'median' must be > 0", key: "median") }
          result = .lognormal(mu: log(median), sigma: try args.number(["sigma"]))
        } else if args.has("cv") {
          let mean = try args.quantity(["mean"])
          let cv = try args.number(["cv"])
          guard mean > 0 else { throw ValueError("lognormal: 'mean' must be > 0", key: "mean") }
          guard cv >= 0 else { throw ValueError("lognormal: 'cv' must be >= 0", key: "cv") }
          let sigma2 = log(1 + cv * cv)
          result = .lognormal(mu: log(mean) - sigma2 / 2, sigma: sigma2.squareRoot())
        } else {
          result = .lognormal(mu: try args.number(["mu"]), sigma: try args.number(["sigma"]))
        }
      case "pareto":
        let shape = try args.number(["shape", "alpha"])
        if args.has("mean") {
          let mean = try args.quantity(["mean"])
          guard shape > 1 else {
            throw ValueError("pareto: a finite 'mean' needs 'shape' > 1, got \(Quantity.shortest(shape))", key: "shape")
          }
          result = .pareto(shape: shape, scale: mean * (shape - 1) / shape)
        } else {
          result = .pareto(shape: shape, scale: try args.quantity(["scale", "min"]))
        }
      case "weibull":
        let shape = try args.number(["shape"])
        result = .weibull(shape: shape, scale: try args.quantity(["scale"]))
      case "gamma":
        let shape = try args.number(["shape"])
        if args.has("mean") {
          result = .gamma(shape: shape, scale: try args.quantity(["mean"]) / max(shape, .leastNonzeroMagnitude))
        } else {
          result = .gamma(shape: shape, scale: try args.quantity(["scale"]))
        }
      case "erlang":
        let k = try args.number(["k"])
        guard k == k.rounded(), k >= 1, k <= 1e6 else {
          throw ValueError("erlang: 'k' must be a whole number from 1 to 1e6, got \(Quantity.shortest(k))", key: "k")
        }
        result = .erlang(k: Int(k), mean: try args.quantity(["mean"]))
      case "mixture":
        var components: [MixtureComponent] = []
        for argument in arguments {
          guard argument.key == nil, case .weighted(let weightText, let inner) = argument.value else {
            throw ValueError(
              "mixture: each component is 'weight * distribution'", key: argument.key,
              hint: "write e.g. mixture(0.9 * exp(1ms), 0.1 * exp(100ms))")
          }
          guard let weight = Double(weightText) else {
            throw ValueError("mixture: weight '\(weightText)' is not a number", key: "weight")
          }
          let distribution = try interpret(inner, kind: kind, baseDirectory: baseDirectory, source: source)
          components.append(MixtureComponent(weight: weight, distribution: distribution))
        }
        args.consumeAll()
        result = .mixture(components)
      case "empirical":
        if args.has("file") {
          let path = try args.string("file")
          result = .empirical(try EmpiricalSamples.load(path: path, kind: kind, baseDirectory: baseDirectory))
        } else {
          result = .empirical(try args.list(["samples"]))
        }
      default:
        throw unknownName(rawName, source: source)
      }
      try args.rejectLeftovers()
      return result
    }
  }

  private static func unknownName(_ name: String, source: String) -> ValueError {
    let known = Set(names.values).sorted()
    var hint = "known distributions: \(known.joined(separator: ", "))"
    if let near = closestMatch(to: name.lowercased(), among: Array(names.keys)) {
      hint = "did you mean '\(near)'? " + hint
    }
    return ValueError("unknown distribution '\(name)' in '\(source)'", key: name, hint: hint)
  }
}

/// The arguments of one distribution call, consumed by name or position as they are read.
private struct Arguments {
  let distribution: String
  var arguments: [SpecArgument]
  let kind: QuantityKind
  var used: [Bool]
  var nextPositional = 0

  init(distribution: String, arguments: [SpecArgument], kind: QuantityKind) {
    self.distribution = distribution
    self.arguments = arguments
    self.kind = kind
    self.used = Array(repeating: false, count: arguments.count)
  }

  func has(_ key: String) -> Bool { arguments.contains { $0.key == key } }

  mutating func consumeAll() { used = used.map { _ in true } }

  func requireNamed(_ combinations: String) throws(ValueError) {
    if arguments.contains(where: { $0.key == nil }) {
      throw ValueError("\(distribution): name its parameters: \(combinations)")
    }
  }

  /// Finds the argument for a parameter: by any of its names, else the next positional one.
  mutating func take(_ keys: [String]) throws(ValueError) -> SpecValue {
    if let index = arguments.indices.first(where: { !used[$0] && arguments[$0].key.map(keys.contains) == true }) {
      used[index] = true
      return arguments[index].value
    }
    while nextPositional < arguments.count {
      let index = nextPositional
      nextPositional += 1
      if arguments[index].key == nil && !used[index] {
        used[index] = true
        return arguments[index].value
      }
    }
    // A misspelt name is the likelier mistake than a missing parameter: say so first.
    if let stray = arguments.indices.first(where: { !used[$0] && arguments[$0].key != nil }) {
      let key = arguments[stray].key!
      var hint = "expected '\(keys[0])'"
      if editDistance(key, keys[0]) <= 2 { hint = "did you mean '\(keys[0])'?" }
      throw ValueError("\(distribution): unknown parameter '\(key)'", key: key, hint: hint)
    }
    throw ValueError("\(distribution): missing parameter '\(keys[0])'", key: keys[0])
  }

  mutating func atom(_ keys: [String]) throws(ValueError) -> String {
    guard case .atom(let text) = try take(keys) else {
      throw ValueError("\(distribution): '\(keys[0])' must be a single value", key: keys[0])
    }
    return text
  }

  mutating func quantity(_ keys: [String]) throws(ValueError) -> Double {
    let text = try atom(keys)
    do {
      return try Quantity.parse(text, as: kind)
    } catch {
      throw ValueError("\(distribution): '\(keys[0])': \(error.message)", key: keys[0], hint: error.hint)
    }
  }

  mutating func number(_ keys: [String]) throws(ValueError) -> Double {
    let text = try atom(keys)
    guard let value = Double(text), value.isFinite else {
      throw ValueError("\(distribution): '\(keys[0])' must be a plain number, got '\(text)'", key: keys[0])
    }
    return value
  }

  /// A parameter measured in 1/kind: a rate for durations.
  mutating func inverse(_ key: String) throws(ValueError) -> Double {
    let text = try atom([key])
    do {
      return kind == .duration ? try Quantity.parse(text, as: .rate) : try Quantity.parse(text, as: .number)
    } catch {
      throw ValueError("\(distribution): '\(key)': \(error.message)", key: key, hint: error.hint)
    }
  }

  mutating func string(_ key: String) throws(ValueError) -> String {
    switch try take([key]) {
    case .string(let text), .atom(let text): return text
    default: throw ValueError("\(distribution): '\(key)' must be a file name in quotes", key: key)
    }
  }

  mutating func list(_ keys: [String]) throws(ValueError) -> [Double] {
    guard case .list(let items) = try take(keys) else {
      throw ValueError("\(distribution): '\(keys[0])' must be a list such as [1ms, 2ms]", key: keys[0])
    }
    var values: [Double] = []
    for item in items {
      do {
        values.append(try Quantity.parse(item, as: kind))
      } catch {
        throw ValueError("\(distribution): sample '\(item)': \(error.message)", key: keys[0], hint: error.hint)
      }
    }
    return values
  }

  func rejectLeftovers() throws(ValueError) {
    for (index, argument) in arguments.enumerated() where !used[index] {
      if let key = argument.key {
        throw ValueError("\(distribution): unknown parameter '\(key)'", key: key)
      }
      throw ValueError("\(distribution): too many parameters")
    }
  }
}

/// Samples for an empirical distribution, from a file of numbers (one per line or comma-separated).
///
/// Only a regular file of at most ``maximumFileSize`` bytes is read (never a device, a FIFO or a
/// directory, which could block or never end), and it may hold at most
/// ``Distribution/maximumEmpiricalSamples`` values; both are checked before the values are kept.
public enum EmpiricalSamples {
  /// The largest file read for an empirical distribution: 4 MiB, room for the 100,000 samples
  /// allowed with units, comments and a header.
  public static let maximumFileSize = 4 * 1_048_576

  /// The samples in the file at `path` (relative paths resolved against `baseDirectory`), each read as
  /// a quantity of `kind` and returned in base units, in file order.
  ///
  /// - Throws: A ``ValueError`` naming the path (and the line of a bad value) when the file cannot be
  ///   read, is not a regular file, is larger than ``maximumFileSize``, holds a value that is not a
  ///   valid `kind`, holds no value, or more than ``Distribution/maximumEmpiricalSamples`` of them.
  public static func load(path: String, kind: QuantityKind, baseDirectory: String?) throws(ValueError) -> [Double] {
    let resolved = path.hasPrefix("/") || baseDirectory == nil ? path : baseDirectory! + "/" + path
    let bytes = try contents(of: resolved)
    var samples: [Double] = []
    var lineNumber = 0
    var lineStart = 0
    // Fields are split on commas and newlines as the bytes are walked, without a copy of the text.
    while lineStart <= bytes.count {
      var lineEnd = lineStart
      while lineEnd < bytes.count, bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
      var fieldStart = lineStart
      while fieldStart <= lineEnd {
        var fieldEnd = fieldStart
        while fieldEnd < lineEnd, bytes[fieldEnd] != UInt8(ascii: ",") { fieldEnd += 1 }
        let item = String(decoding: bytes[fieldStart..<fieldEnd], as: UTF8.self).trimmingSpaces()
        fieldStart = fieldEnd + 1
        if item.isEmpty || item.hasPrefix("#") { continue }
        do {
          samples.append(try Quantity.parse(item, as: kind))
        } catch {
          // A header row is allowed on the first line.
          if lineNumber == 0, Double(item) == nil, item.first?.isLetter == true { continue }
          throw ValueError("empirical: \(resolved):\(lineNumber + 1): \(error.message)", key: "file", hint: error.hint)
        }
        guard samples.count <= Distribution.maximumEmpiricalSamples else {
          throw ValueError(
            "empirical: '\(resolved)' holds more than \(Distribution.maximumEmpiricalSamples) samples", key: "file",
            hint: "thin the samples or fit a distribution to them")
        }
      }
      lineStart = lineEnd + 1
      lineNumber += 1
    }
    guard !samples.isEmpty else { throw ValueError("empirical: no samples in '\(resolved)'", key: "file") }
    return samples
  }

  /// The bytes of a regular file of at most ``maximumFileSize`` bytes; anything else is an error
  /// naming the file. The file is opened without blocking (a FIFO would wait for a writer) and
  /// checked on the open descriptor, so what is checked is what is read.
  static func contents(of path: String) throws(ValueError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_NONBLOCK)
    guard fd >= 0 else {
      throw ValueError(
        "empirical: cannot read file '\(path)'", key: "file", hint: "check the path; it is relative to the config file")
    }
    defer { close(fd) }
    var status = stat()
    guard fstat(fd, &status) == 0 else { throw ValueError("empirical: cannot read file '\(path)'", key: "file") }
    let type = status.st_mode & S_IFMT
    guard type == S_IFREG else {
      let what =
        type == S_IFDIR
        ? "a directory"
        : type == S_IFCHR || type == S_IFBLK ? "a device" : type == S_IFIFO ? "a FIFO" : "not a regular file"
      throw ValueError(
        "empirical: '\(path)' is \(what), not a file of samples", key: "file",
        hint: "give a regular file of numbers, one per line or comma-separated")
    }
    let tooLarge = ValueError(
      "empirical: '\(path)' is larger than \(maximumFileSize / 1_048_576) MiB", key: "file",
      hint: "thin the samples (at most \(Distribution.maximumEmpiricalSamples)) or fit a distribution to them")
    guard status.st_size <= maximumFileSize else { throw tooLarge }
    // One byte more than fstat said: a file that grew since is refused, not read whole.
    var bytes = [UInt8](repeating: 0, count: Int(status.st_size) + 1)
    var count = 0
    while count < bytes.count {
      let n = bytes.withUnsafeMutableBytes { buffer in read(fd, buffer.baseAddress! + count, buffer.count - count) }
      if n < 0 && errno == EINTR { continue }
      guard n >= 0 else { throw ValueError("empirical: cannot read file '\(path)'", key: "file") }
      if n == 0 { break }
      count += n
    }
    guard count < bytes.count else {
      throw ValueError(
        "empirical: '\(path)' changed while it was read", key: "file", hint: "read a file that is not being written")
    }
    bytes.removeLast(bytes.count - count)
    return bytes
  }
}

// MARK: - The small grammar of distribution specs

struct SpecArgument {
  var key: String?
  var value: SpecValue
}

indirect enum SpecValue {
  case atom(String)
  case string(String)
  case list([String])
  case call(String, [SpecArgument])
  case weighted(String, SpecValue)
}

/// Recursive-descent reader of `name(key: value, ...)`, lists `[a, b]`, strings and `w * dist`.
struct SpecParser {
  let text: String
  let characters: [Character]
  var position = 0

  init(text: String) {
    self.text = text
    self.characters = Array(text)
  }

  mutating func skipSpaces() {
    while position < characters.count, characters[position].isWhitespace { position += 1 }
  }

  func error(_ message: String) -> ValueError {
    ValueError("\(message) at column \(position + 1) of '\(text)'", hint: "write e.g. exp(mean: 5ms)")
  }

  mutating func expectEnd() throws(ValueError) {
    skipSpaces()
    if position < characters.count { throw error("unexpected '\(characters[position])'") }
  }

  mutating func expect(_ c: Character) throws(ValueError) {
    skipSpaces()
    guard position < characters.count, characters[position] == c else {
      throw error(
        position < characters.count ? "expected '\(c)' but found '\(characters[position])'" : "expected '\(c)'")
    }
    position += 1
  }

  /// A run of characters up to a delimiter: a name, a number with units, or a rate like 100k/s.
  mutating func token() throws(ValueError) -> String {
    skipSpaces()
    let start = position
    while position < characters.count, !",()[]*:\"".contains(characters[position]) {
      position += 1
    }
    let token = String(characters[start..<position]).trimmingSpaces()
    if token.isEmpty {
      throw error(position < characters.count ? "unexpected '\(characters[position])'" : "missing value")
    }
    return token
  }

  /// Calls and mixtures nest; past this depth the text is an error, not a stack overflow.
  static let maximumDepth = 16
  var depth = 0

  mutating func parseValue() throws(ValueError) -> SpecValue {
    depth += 1
    defer { depth -= 1 }
    guard depth <= Self.maximumDepth else {
      throw error("distributions nested more than \(Self.maximumDepth) deep")
    }
    skipSpaces()
    guard position < characters.count else { throw error("missing value") }
    if characters[position] == "[" { return try parseList() }
    if characters[position] == "\"" { return .string(try parseString()) }
    let word = try token()
    skipSpaces()
    if position < characters.count, characters[position] == "(" {
      position += 1
      return .call(word, try parseArguments())
    }
    if position < characters.count, characters[position] == "*" {
      position += 1
      return .weighted(word, try parseValue())
    }
    return .atom(word)
  }

  mutating func parseArguments() throws(ValueError) -> [SpecArgument] {
    var arguments: [SpecArgument] = []
    skipSpaces()
    if position < characters.count, characters[position] == ")" {
      position += 1
      return arguments
    }
    while true {
      let save = position
      skipSpaces()
      var key: String?
      if position < characters.count, characters[position].isLetter {
        var end = position
        while end < characters.count, characters[end].isLetter || characters[end].isNumber || characters[end] == "_" {
          end += 1
        }
        var after = end
        while after < characters.count, characters[after].isWhitespace { after += 1 }
        if after < characters.count, characters[after] == ":" {
          key = String(characters[position..<end]).lowercased()
          position = after + 1
        }
      }
      if key == nil { position = save }
      arguments.append(SpecArgument(key: key, value: try parseValue()))
      skipSpaces()
      guard position < characters.count else { throw error("missing ')'") }
      if characters[position] == "," {
        position += 1
        continue
      }
      try expect(")")
      return arguments
    }
  }

  mutating func parseList() throws(ValueError) -> SpecValue {
    try expect("[")
    var items: [String] = []
    skipSpaces()
    if position < characters.count, characters[position] == "]" {
      position += 1
      return .list(items)
    }
    while true {
      items.append(try token())
      skipSpaces()
      guard position < characters.count else { throw error("missing ']'") }
      if characters[position] == "," {
        position += 1
        continue
      }
      try expect("]")
      return .list(items)
    }
  }

  mutating func parseString() throws(ValueError) -> String {
    try expect("\"")
    let start = position
    while position < characters.count, characters[position] != "\"" { position += 1 }
    guard position < characters.count else { throw error("unterminated string") }
    let value = String(characters[start..<position])
    position += 1
    return value
  }
}

/// The candidate within edit distance 2 of `word` (nearest first), for "did you mean" hints.
public func closestMatch(to word: String, among candidates: [String]) -> String? {
  var best: (String, Int)?
  for candidate in candidates.sorted() {
    let distance = editDistance(word, candidate)
    if distance <= 2, distance < (best?.1 ?? Int.max) { best = (candidate, distance) }
  }
  return best?.0
}

/// Levenshtein distance between two strings.
public func editDistance(_ a: String, _ b: String) -> Int {
  let a = Array(a)
  let b = Array(b)
  if a.isEmpty { return b.count }
  if b.isEmpty { return a.count }
  var previous = Array(0...b.count)
  var current = Array(repeating: 0, count: b.count + 1)
  for i in 1...a.count {
    current[0] = i
    for j in 1...b.count {
      current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
    }
    swap(&previous, &current)
  }
  return previous[b.count]
}
