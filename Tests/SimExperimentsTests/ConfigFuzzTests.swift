import Foundation
import SimExperiments
import SimKernel
import Testing

/// Thousands of mutants of valid configs (keys deleted, duplicated, retyped, garbage values and
/// units, broken indentation, truncation, random and invalid bytes) must each be either accepted or
/// refused with a located ``ConfigError``. Nothing is run; a trap anywhere would crash the test.
@Suite struct ConfigFuzzTests {
  /// The shipped experiments, then inline configs that use what they do not (networks, routing,
  /// zip, exclude, swept durations, more distributions, outputs).
  static func baseConfigs() throws -> [(name: String, text: String)] {
    let directory = repositoryRoot().appendingPathComponent("experiments")
    let shipped = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }
      .sorted()
    var bases = try shipped.map { name in
      (name, try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8))
    }
    bases += inlineConfigs
    return bases
  }

  static let inlineConfigs: [(name: String, text: String)] = [
    (
      "network.yaml",
      """
      name: fuzz-network
      description: a web tier in front of a database
      model: queueing
      duration: 10m
      warmup: 1m
      seed: 3
      seeds: independent
      replications: 2
      params:
        sources:
          - name: users
            interarrival: "exp(mean: 100ms)"
            routing:
              - to: web
                probability: 0.9
        stations:
          - name: web
            servers: 4
            capacity: 40
            service: "lognormal(median: 20ms, sigma: 0.5)"
            routing:
              - to: db
                probability: 0.6
          - name: db
            servers: 2
            service: "gamma(shape: 2, mean: 10ms)"
      sweep:
        duration: [10m, 20m]
        zip:
          - params.stations.0.servers: [2, 4]
            params.stations.0.capacity: [20, 40]
        exclude:
          - {duration: 20m, params.stations.0.servers: 2}
      outputs:
        dir: results/fuzz-network
        timeseries_interval: 30s
        metrics:
          - network.*
          - station.web.utilisation

      """
    ),
    (
      "single.yaml",
      """
      name: fuzz-single
      model: queueing
      duration: 1h
      warmup: 5m
      params:
        arrival_rate: 5/s
        service: "mixture(0.9 * exp(10ms), 0.1 * uniform(low: 100ms, high: 200ms))"
        servers: 2
        capacity: 10
      sweep:
        params.servers:
          - 1
          - 2
          - 3
        params.arrival_rate: [1/s, 2/s]
      outputs:
        metrics: [station.station.wait_mean]

      """
    ),
    (
      "phold-small.yaml",
      """
      name: fuzz-phold
      model: phold
      duration: 100s
      replications: 2
      params:
        lps: 16
        events_per_lp: 4
        remote: 0.25
        lookahead: 10ms
        mean: 1s
      sweep:
        params.lookahead: [0s, 10ms, 1s]

      """
    ),
    (
      "distributions.yaml",
      """
      name: fuzz-distributions
      model: queueing
      duration: 30m
      params:
        interarrival: "erlang(k: 3, mean: 2s)"
        service: "empirical(samples: [100ms, 200ms, 1s])"
      sweep:
        params.service:
          - "pareto(shape: 2.5, mean: 1s)"
          - "weibull(shape: 1.5, scale: 1s)"
          - "normal(mean: 1s, sd: 100ms)"
          - const(1s)
          - "exp(rate: 2/s)"

      """
    ),
  ]

  /// 150 mutants of each base config (about 4,000 with the random files); 450 with
  /// `BDSIM_FUZZ_EXHAUSTIVE=1`.
  static let mutantsPerBase = ProcessInfo.processInfo.environment["BDSIM_FUZZ_EXHAUSTIVE"] == "1" ? 450 : 150
  static let randomFiles = 300

  @Test func theBaseConfigsAreValid() throws {
    let bases = try Self.baseConfigs()
    #expect(bases.count >= 7)
    let directory = scratchDirectory("fuzz-bases")
    for base in bases {
      let outcome = loadAndPlan(writeConfig(base.text, in: directory, name: base.name))
      if case .rejected(let error, _) = outcome { Issue.record("\(base.name) is not valid: \(error)") }
    }
  }

  /// Line endings and a byte-order mark are not mistakes.
  @Test func crlfLineEndingsAndAByteOrderMarkAreAccepted() throws {
    let directory = scratchDirectory("fuzz-formats")
    for base in try Self.baseConfigs() {
      let crlf = writeConfig(base.text.replacingOccurrences(of: "\n", with: "\r\n"), in: directory, name: "crlf.yaml")
      #expect(loadAndPlan(crlf).error == nil, "\(base.name) with CRLF: \(String(describing: loadAndPlan(crlf).error))")
      let bom = writeConfig("\u{FEFF}" + base.text, in: directory, name: "bom.yaml")
      #expect(loadAndPlan(bom).error == nil, "\(base.name) with a BOM: \(String(describing: loadAndPlan(bom).error))")
    }
  }

  @Test func mutantsAreAcceptedOrRefusedWithALocatedError() throws {
    let directory = scratchDirectory("fuzz-mutants")
    let path = directory + "/mutant.yaml"
    var mutator = Mutator(seed: 0xB05_1A7E)
    var judge = Judge()
    for base in try Self.baseConfigs() {
      let original = Array(base.text.utf8)
      for i in 0..<Self.mutantsPerBase {
        var bytes = original
        var steps: [String] = []
        for _ in 0..<mutator.pick([1, 1, 1, 2, 3]) {
          let step = mutator.mutate(&bytes)
          steps.append(step)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        judge.examine(loadAndPlan(path), path: path, bytes: bytes, label: "\(base.name) mutant \(i): \(steps)")
      }
    }
    // Files of random bytes: half of them any bytes, half printable text and line breaks.
    for i in 0..<Self.randomFiles {
      var bytes: [UInt8] = []
      for _ in 0..<mutator.below(200) {
        bytes.append(i % 2 == 0 ? mutator.byte() : mutator.pick([0x0A, 0x20, 0x20, UInt8(0x20 + mutator.below(95))]))
      }
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      judge.examine(loadAndPlan(path), path: path, bytes: bytes, label: "random file \(i)")
    }
    let total = judge.accepted + judge.rejected
    #expect(total >= 3000)
    // The mutations must bite, yet not only produce unreadable files.
    #expect(judge.rejected >= total / 2, "only \(judge.rejected) of \(total) mutants were refused")
    #expect(judge.accepted >= 100, "only \(judge.accepted) of \(total) mutants were accepted")
    #expect(judge.rejectedAfterParsing >= total / 4, "few mutants got past the YAML parser")
    judge.report()
  }
}

/// Applies one random mutation at a time to the bytes of a config, deterministically.
struct Mutator {
  var random: SplitMix64

  init(seed: UInt64) { random = SplitMix64(seed: seed) }

  mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(random.next() % UInt64(n)) }
  mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

  /// A byte, biased towards those that mean something to YAML, to UTF-8 or to C strings.
  mutating func byte() -> UInt8 {
    let special: [UInt8] = [
      0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1B, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xF0, 0xFE, 0xFF,
      UInt8(ascii: ":"), UInt8(ascii: "-"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"),
      UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "#"), UInt8(ascii: "&"), UInt8(ascii: "*"),
      UInt8(ascii: "!"), UInt8(ascii: "|"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "@"),
      UInt8(ascii: "`"), UInt8(ascii: "?"), UInt8(ascii: ","), UInt8(ascii: " "), UInt8(ascii: "("),
    ]
    switch below(3) {
    case 0: return pick(special)
    case 1: return UInt8(0x20 + below(95))  // printable ASCII
    default: return UInt8(truncatingIfNeeded: random.next())
    }
  }

  /// Values that are wrong somewhere: wrong types, signs, units, YAML syntax, sizes and scripts.
  static let garbage: [String] = [
    "-1", "0", "abc", "5 parsecs", "[]", "{}", "~", "1e999", "-1e999", "nan", "inf", "\"\"", "''",
    String(repeating: "x", count: 5000), String(repeating: "9", count: 400), "µs", "５s", "🙂", "e\u{301}",
    "\u{FEFF}", "1.5", "true", "0x10", "100%", "5ms", "2h", "-5ms", "1/s", "0/s", "5MiB", "1_0", "exp(mean: 1s)",
    "\"exp(mean: -1s)\"", "\"expo(1s)\"", "\"exp(\"", "\"mixture(1 * exp(1s)\"", "\"empirical(file: missing.csv)\"",
    "'unterminated", "\"unterminated", "*alias", "&anchor x", "!!binary x", "? x", "|", ">", "- 1", "@", "`", "%",
    "9223372036854775808", "-9223372036854775809", "[1, [2, [3]]]", "{a: {b: c}}", "[1, 2", "{a: 1",
    "queueing", "phold", "common", "independent", "params.servers", "a: b: c", "\t1", "1 # comment", "\"a\\nb\"",
  ]

  enum Kind {
    case deleteLine, duplicateLine, swapLines, garbageValue, retype, collapseBlock, misspellKey, indentation
    case truncate, insertBytes, randomLine
  }

  static let weightedKinds: [Kind] = [
    .deleteLine, .deleteLine, .duplicateLine, .swapLines, .garbageValue, .garbageValue, .garbageValue, .garbageValue,
    .garbageValue, .retype, .retype, .collapseBlock, .misspellKey, .misspellKey, .indentation, .truncate,
    .insertBytes, .insertBytes, .randomLine,
  ]

  /// Mutates `bytes` once; returns what it did.
  mutating func mutate(_ bytes: inout [UInt8]) -> String {
    var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
    let n = lines.count
    let l = below(n)
    // Weighted towards mutations that keep the YAML readable, so many mutants reach the config readers.
    switch pick(Self.weightedKinds) {
    case .deleteLine:
      lines.remove(at: l)
      bytes = joined(lines)
      return "delete line \(l + 1)"
    case .duplicateLine:
      lines.insert(lines[l], at: l)
      bytes = joined(lines)
      return "duplicate line \(l + 1)"
    case .swapLines:
      let m = below(n)
      lines.swapAt(l, m)
      bytes = joined(lines)
      return "swap lines \(l + 1), \(m + 1)"
    case .garbageValue:
      let value = pick(Self.garbage)
      lines[l] = replacingValue(lines[l], with: Array(value.utf8))
      bytes = joined(lines)
      return "line \(l + 1) value -> \(value.prefix(20))"
    case .retype:
      // Retype a scalar into a list or a mapping, or a flow list into its first item.
      guard let (head, value) = splitValue(lines[l]), !value.isEmpty else { return "retype (nothing)" }
      let text = String(decoding: value, as: UTF8.self)
      let retyped: String
      if text.hasPrefix("[") {
        retyped = String(text.dropFirst().prefix { $0 != "," && $0 != "]" })
      } else {
        retyped = pick(["[\(text)]", "{x: \(text)}", "[\(text), \(text)]", "- \(text)"])
      }
      lines[l] = head + Array(retyped.utf8)
      bytes = joined(lines)
      return "line \(l + 1) retype -> \(retyped.prefix(20))"
    case .collapseBlock:
      // Retype a block (mapping or list) into a scalar: 'key:' + its deeper lines -> 'key: garbage'.
      guard let header = (l..<n).first(where: { splitValue(lines[$0])?.1.isEmpty == true }) else {
        return "collapse (nothing)"
      }
      let indent = indentation(lines[header])
      var end = header + 1
      while end < n, lines[end].allSatisfy({ $0 == 0x20 }) || indentation(lines[end]) > indent { end += 1 }
      if end < n, lines[end].first == UInt8(ascii: "-"), indentation(lines[end]) == indent, indent == 0 {
        // A top-level block list at column 0 of its key.
        while end < n, lines[end].first == UInt8(ascii: "-") { end += 1 }
      }
      let value = pick(["1", "abc", "[]", "{}", "5s", "~"])
      lines.replaceSubrange(header..<end, with: [splitValue(lines[header])!.0 + Array(value.utf8)])
      bytes = joined(lines)
      return "collapse block at line \(header + 1) -> \(value)"
    case .misspellKey:
      // Misspell a key.
      guard let (head, value) = splitValue(lines[l]) else { return "misspell (nothing)" }
      var key = Array(head.drop { $0 == 0x20 || $0 == UInt8(ascii: "-") }.dropLast(2))
      let prefix = Array(head.prefix(head.count - key.count - 2))
      guard !key.isEmpty else { return "misspell (nothing)" }
      let i = below(key.count)
      switch below(4) {
      case 0: key.remove(at: i)
      case 1: key.insert(key[i], at: i)
      case 2: if i + 1 < key.count { key.swapAt(i, i + 1) } else { key.append(UInt8(ascii: "s")) }
      default: key[i] = UInt8(ascii: "a") + UInt8(below(26))
      }
      lines[l] = prefix + key + Array(": ".utf8) + value
      bytes = joined(lines)
      return "line \(l + 1) misspelt key"
    case .indentation:
      // Indentation: more, less, or a tab.
      let change = below(3)
      switch change {
      case 0: lines[l] = Array(repeating: 0x20, count: 1 + below(3)) + lines[l]
      case 1: lines[l] = Array(lines[l].dropFirst(min(indentation(lines[l]), 1 + below(2))))
      default: lines[l] = [0x09] + Array(lines[l].drop { $0 == 0x20 })
      }
      bytes = joined(lines)
      return "line \(l + 1) indentation \(["+", "-", "tab"][change])"
    case .truncate:
      let cut = below(bytes.count + 1)
      bytes = Array(bytes.prefix(cut))
      return "truncate at byte \(cut)"
    case .insertBytes:
      let at = below(bytes.count + 1)
      var inserted: [UInt8] = []
      for _ in 0...below(8) { inserted.append(byte()) }
      bytes.insert(contentsOf: inserted, at: at)
      return "insert \(inserted) at byte \(at)"
    case .randomLine:
      // Replace a line with random printable text.
      var line: [UInt8] = []
      for _ in 0..<below(40) { line.append(UInt8(0x20 + below(95))) }
      lines[l] = line
      bytes = joined(lines)
      return "line \(l + 1) -> random text"
    }
  }

  func joined(_ lines: [[UInt8]]) -> [UInt8] { Array(lines.joined(separator: [0x0A])) }

  func indentation(_ line: [UInt8]) -> Int { line.prefix { $0 == 0x20 }.count }

  /// Splits `key: value` (or `- value`) into the part up to and including ": " (or "- ") and the value.
  func splitValue(_ line: [UInt8]) -> ([UInt8], [UInt8])? {
    for i in line.indices where line[i] == UInt8(ascii: ":") {
      if i + 1 == line.count { return (line + [0x20], []) }
      if line[i + 1] == 0x20 { return (Array(line[...(i + 1)]), Array(line[(i + 2)...])) }
    }
    let indent = indentation(line)
    if line.count >= indent + 2, line[indent] == UInt8(ascii: "-"), line[indent + 1] == 0x20 {
      return (Array(line[..<(indent + 2)]), Array(line[(indent + 2)...]))
    }
    return nil
  }

  func replacingValue(_ line: [UInt8], with value: [UInt8]) -> [UInt8] {
    guard let (head, _) = splitValue(line) else { return value }
    return head + value
  }
}

/// Checks each outcome against the rules, and sorts what breaks them into known bugs and new failures.
struct Judge {
  var accepted = 0
  var rejected = 0
  var rejectedAfterParsing = 0
  /// Broken rules that are not known bugs, by rule.
  var unexpected: [String: [String]] = [:]
  var known: [String: (count: Int, example: String)] = [:]

  /// Known bugs, each reported once as a known issue (see the report of this test's author).
  static let knownBugs: [String: String] = [
    "exclude-without-line": "BUG: Sweep.init: \"'X' is not swept, so excluding on it means nothing\" has no location",
    "sweep-point-without-line":
      "BUG: ExperimentPlan.init: 'at sweep point N the warm-up ... is not shorter than the duration' has no location",
    "created-path-without-line":
      "BUG: a swept path that does not exist in the config (ConfigNode.set creates it) gives errors with no location",
    "multi-line-message": "BUG: messages quote values and keys raw, so a newline in one makes a multi-line error",
    "end-of-stream-line":
      "BUG: YAMLLoader passes on libyaml's end-of-stream mark, one line past the last line of a file without a final newline",
  ]

  mutating func examine(_ outcome: ConfigOutcome, path: String, bytes: [UInt8], label: String) {
    guard case .rejected(let error, let stage) = outcome else {
      accepted += 1
      return
    }
    rejected += 1
    if !error.message.hasPrefix("malformed YAML") && !error.message.contains("UTF-8")
      && !error.message.contains("NUL") && !error.message.hasPrefix("unreadable text")
    {
      rejectedAfterParsing += 1
    }
    let printed = error.description
    func fail(_ rule: String) { unexpected[rule, default: []].append("\(label) -- \(printed)") }
    func knownBug(_ name: String) {
      let entry = known[name] ?? (0, "\(label) -- \(printed)")
      known[name] = (entry.count + 1, entry.example)
    }

    // The file: every error names the config it is about.
    if error.file != path { fail("does not name the file") }
    // The line: every error is about a line of this file (an empty or non-text file: line 1).
    let line = error.location.line
    if line < 1 {
      if error.message.contains("is not swept, so excluding") {
        knownBug("exclude-without-line")
      } else if error.message.hasPrefix("at sweep point") {
        knownBug("sweep-point-without-line")
      } else if stage == .plan && error.keyPath.hasPrefix("params") && Self.sweepCreatesPath(in: bytes) {
        knownBug("created-path-without-line")
      } else {
        fail("no line")
      }
    } else {
      let lines = Self.lineCount(bytes)
      if line == lines + 1 && error.message.hasPrefix("malformed YAML") {
        knownBug("end-of-stream-line")
      } else if line > lines {
        fail("a line beyond the end of the file")
      }
      if error.location.column < 1 { fail("line without a column") }
    }
    if error.message.isEmpty { fail("empty message") }
    if printed.contains("\n") || printed.contains("\r") { knownBug("multi-line-message") }
  }

  /// Whether the sweep may name a key path absent from the config (so ConfigNode.set invents it).
  static func sweepCreatesPath(in bytes: [UInt8]) -> Bool {
    String(decoding: bytes, as: UTF8.self).contains("sweep")
  }

  /// Lines as YAML counts them (LF, CR LF, lone CR, NEL, LS, PS end a line), plus the line after the last break.
  static func lineCount(_ bytes: [UInt8]) -> Int {
    var count = 1
    var i = 0
    while i < bytes.count {
      switch bytes[i] {
      case 0x0A: count += 1
      case 0x0D: if i + 1 >= bytes.count || bytes[i + 1] != 0x0A { count += 1 }
      case 0xC2: if i + 1 < bytes.count, bytes[i + 1] == 0x85 { count += 1 }
      case 0xE2:
        if i + 2 < bytes.count, bytes[i + 1] == 0x80, bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9 { count += 1 }
      default: break
      }
      i += 1
    }
    return count
  }

  func report() {
    let bugs = known.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.count)" }.joined(separator: ", ")
    print(
      "ConfigFuzzTests: \(accepted + rejected) mutants: \(accepted) accepted, \(rejected) refused "
        + "(\(rejectedAfterParsing) past the YAML parser); known bugs hit: \(bugs)")
    for (rule, failures) in unexpected.sorted(by: { $0.key < $1.key }) {
      let examples = failures.prefix(5).joined(separator: "\n")
      Issue.record("\(failures.count) mutants: \(rule), e.g.\n\(examples)")
    }
    for (name, entry) in known.sorted(by: { $0.key < $1.key }) {
      withKnownIssue(Comment(rawValue: Self.knownBugs[name] ?? name)) {
        Issue.record("\(entry.count) mutants, e.g. \(entry.example)")
      }
    }
  }
}

/// The real binary: a broken config is one line on stderr, `FILE:LINE:COL: error: ...`, nothing
/// on stdout, and exit status 2.
@Suite struct ConfigCLITests {
  func binary() throws -> URL {
    let url = bdsimBinary()
    try #require(
      FileManager.default.isExecutableFile(atPath: url.path),
      "bdsim is not at \(url.path): build it next to the tests (swift build --build-tests)")
    return url
  }

  /// Checks the contract of a refused config; `lines` are the acceptable lines (any, if empty).
  func expectOneLineError(_ result: ProcessResult, path: String, lines: [Int], _ what: String) {
    #expect(result.exited, "\(what): bdsim crashed (status \(result.status)): \(result.stderr.prefix(300))")
    #expect(result.status == 2, "\(what): exit status \(result.status), expected 2")
    #expect(result.stdout.isEmpty, "\(what): wrote to stdout: \(result.stdout)")
    #expect(
      result.stderr.hasSuffix("\n") && result.stderr.filter { $0 == "\n" }.count == 1,
      "\(what): stderr is not exactly one line: \(result.stderr)")
    #expect(result.stderr.hasPrefix(path + ":"), "\(what): stderr does not start with the file: \(result.stderr)")
    #expect(result.stderr.contains(" error: "), "\(what): \(result.stderr)")
    if !lines.isEmpty {
      #expect(
        lines.contains { result.stderr.hasPrefix("\(path):\($0):") },
        "\(what): expected line \(lines): \(result.stderr)")
    }
  }

  /// A top-level key, a unit, the warm-up, a parameter, a sweep point's value, a tab, a choice.
  @Test(arguments: ["01-", "11-", "16-", "02-", "51-", "66-", "73-"])
  func aBrokenConfigIsOneLineOnStderrAndExitStatus2(_ prefix: String) throws {
    let bdsim = try binary()
    let fixture = try #require(BrokenFixture.named(prefix))
    let result = try runProcess(bdsim, ["validate", fixture.path])
    expectOneLineError(result, path: fixture.path, lines: fixture.lines, fixture.name)
  }

  @Test func runRefusesABrokenConfigTheSameWayAndWritesNothing() throws {
    let bdsim = try binary()
    let fixture = try #require(BrokenFixture.named("67-"))
    let directory = scratchDirectory("cli-run")
    let result = try runProcess(bdsim, ["run", fixture.path, "--quiet"], in: directory)
    expectOneLineError(result, path: fixture.path, lines: fixture.lines, "run " + fixture.name)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
  }

  @Test func aMissingFileIsExitStatus2() throws {
    let bdsim = try binary()
    let path = scratchDirectory("cli-missing") + "/absent.yaml"
    let result = try runProcess(bdsim, ["validate", path])
    #expect(result.exited && result.status == 2)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr == "\(path): error: no such file (check the path; configs live under experiments/)\n")
  }

  @Test func aDeeplyNestedDistributionIsExitStatus2NotACrash() throws {
    let bdsim = try binary()
    let path = writeConfig(deeplyNestedDistributionConfig, in: scratchDirectory("cli-nested"))
    let result = try runProcess(bdsim, ["validate", path])
    expectOneLineError(result, path: path, lines: [5], "nested distribution")
  }

  /// `empirical(file: samples.csv)` in `config.yaml`, run as `bdsim validate config.yaml` from its directory.
  @Test func anEmpiricalFileIsFoundNextToAConfigGivenWithoutADirectory() throws {
    let bdsim = try binary()
    let directory = scratchDirectory("cli-empirical")
    _ = writeConfig("1ms\n2ms\n3ms\n", in: directory, name: "samples.csv")
    _ = writeConfig(
      "name: empirical\nmodel: queueing\nduration: 100s\nparams:\n  service: \"empirical(file: samples.csv)\"\n",
      in: directory)
    let result = try runProcess(bdsim, ["validate", "config.yaml"], in: directory)
    #expect(result.status == 0, "\(result.stderr)")
  }
}

/// Deterministic operators of issue 14: each turns a valid config into every mutant of one kind.
/// ExtremeValueFuzzTests validates (and runs) them in a subprocess with limits.
extension Mutator {
  /// What every number of a config is set to, its unit kept: past Int64 and UInt64, past any
  /// physical quantity, near Double's end, 2^32 (an Int32 field), Int64's end (which a Double
  /// rounds up past it), nothing, and a sign.
  static let extremeNumbers = ["1e19", "1e30", "1e300", "4294967296", "9223372036854775807", "0", "-1"]

  /// One number written in a config, with or without a unit: `10Gbps`, `1KiB`, `5k/s`, `30s`, `3`, `0.5`.
  struct NumberSite {
    /// The line, 0-based.
    var line: Int
    /// Where the number (its sign included, its unit not) is in the line.
    var range: Range<String.Index>
  }

  /// Every number in a value of `text`: in block and flow values, lists and distribution specs; not in
  /// comments, keys such as `faults.0.partition` or names such as `rack1-host2`.
  static func numberSites(in text: String) -> [NumberSite] {
    var sites: [NumberSite] = []
    for (l, line) in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).enumerated() {
      var inQuotes = false
      var i = line.startIndex
      var previous: Character = " "
      while i < line.endIndex {
        let c = line[i]
        if c == "\"" { inQuotes.toggle() }
        if c == "#", !inQuotes, previous == " " { break }  // a comment
        let next = line.index(after: i)
        let startsNumber = c.isASCII && (c.isNumber || (c == "-" && next < line.endIndex && line[next].isNumber))
        guard startsNumber, " [{(,:\"'".contains(previous) else {
          previous = c
          i = next
          continue
        }
        var end = c == "-" ? next : i
        func skipDigits() {
          while end < line.endIndex, line[end].isASCII, line[end].isNumber { end = line.index(after: end) }
        }
        skipDigits()
        if end < line.endIndex, line[end] == ".", line.index(after: end) < line.endIndex,
          line[line.index(after: end)].isNumber
        {
          end = line.index(after: end)
          skipDigits()
        }
        if end < line.endIndex, line[end] == "e" || line[end] == "E" {
          var e = line.index(after: end)
          if e < line.endIndex, line[e] == "+" || line[e] == "-" { e = line.index(after: e) }
          if e < line.endIndex, line[e].isNumber {
            end = e
            skipDigits()
          }
        }
        var unitEnd = end
        while unitEnd < line.endIndex, line[unitEnd].isLetter || line[unitEnd] == "/" {
          unitEnd = line.index(after: unitEnd)
        }
        // A number ends a value: `rack1-host1`, `1.2.3` and `3x` are no numbers.
        if unitEnd == line.endIndex || " ,]})\"'".contains(line[unitEnd]) {
          sites.append(NumberSite(line: l, range: i..<end))
        }
        previous = unitEnd == line.endIndex ? " " : line[line.index(before: unitEnd)]
        i = unitEnd
      }
    }
    return sites
  }

  /// `text` with the number at `site` replaced by `number`; also the line before and after.
  static func setting(_ site: NumberSite, to number: String, in text: String) -> (
    text: String, before: String, after: String
  ) {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let before = lines[site.line]
    lines[site.line].replaceSubrange(site.range, with: number)
    return (lines.joined(separator: "\n"), before, lines[site.line])
  }

  /// YAML aliases: bombs (nested anchors, each level ten of the previous: 10^9 scalars), a node that
  /// contains itself, and a top-level mapping aliased where a scalar, a string or the root's keys go.
  static func aliasMutants(of text: String) -> [(label: String, text: String)] {
    let levels = 9
    func bomb(_ open: String, _ close: String, mapping: Bool) -> [String] {
      (0..<levels).map { k in
        let item = k == 0 ? "lol" : "*a\(k - 1)"
        let items = (0..<10).map { mapping ? "k\($0): \(item)" : item }.joined(separator: ", ")
        return "&a\(k) \(open)\(items)\(close)"
      }
    }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let withoutDescription = lines.filter { !$0.hasPrefix("description:") }.joined(separator: "\n")
    var mutants: [(String, String)] = [
      (
        "alias bomb of lists, 10^9 scalars, under unknown keys",
        bomb("[", "]", mapping: false).enumerated().map { "x\($0.offset): \($0.element)" }.joined(separator: "\n")
          + "\n" + text
      ),
      (
        "alias bomb of mappings, 10^9 scalars, under unknown keys",
        bomb("{", "}", mapping: true).enumerated().map { "x\($0.offset): \($0.element)" }.joined(separator: "\n")
          + "\n" + text
      ),
      (
        "alias bomb of lists, 10^9 scalars, as the description",
        "description: [" + bomb("[", "]", mapping: false).joined(separator: ", ") + "]\n" + withoutDescription
      ),
      ("a list that contains itself", "x: &s [1, *s]\n" + text),
      ("a mapping that contains itself", "x: &m {a: *m}\n" + text),
      ("a description that contains itself", "description: &s [*s]\n" + withoutDescription),
      ("an alias before its anchor", "description: *later\n" + withoutDescription + "\nx: &later text\n"),
    ]
    // A top-level mapping (params, else platform) anchored and aliased elsewhere.
    if let header = lines.firstIndex(where: { $0 == "params:" || $0 == "platform:" }) {
      var anchored = lines
      anchored[header] += " &m"
      let body = anchored.joined(separator: "\n")
      let key = String(lines[header].dropLast())
      mutants += [
        ("\(key) aliased under an unknown key", body + "\ncopy: *m\n"),
        ("\(key) merged into the root (<<)", body + "\n<<: *m\n"),
        (
          "\(key) aliased as the description",
          anchored.filter { !$0.hasPrefix("description:") }.joined(separator: "\n") + "\ndescription: *m\n"
        ),
        (
          "\(key) aliased as the duration",
          anchored.filter { !$0.hasPrefix("duration:") }.joined(separator: "\n") + "\nduration: *m\n"
        ),
      ]
    }
    return mutants
  }

  /// Each distribution of `text` (a quoted spec such as `"exp(mean: 1s)"`, or an unquoted block
  /// value such as `write: exp(10ms)`), one group a line: the config with that distribution replaced by
  /// `empirical(file: FILE)` for each file.
  static func empiricalFileMutants(of text: String, files: [String]) -> [[(label: String, text: String)]] {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var groups: [[(label: String, text: String)]] = []
    for (l, line) in lines.enumerated() where !line.drop(while: { $0 == " " }).hasPrefix("#") {
      var span: Range<String.Index>?
      var search = line.startIndex
      while span == nil, let quote = line[search...].firstIndex(of: "\"") {
        let name = line[line.index(after: quote)...].prefix { $0.isLetter }
        let close = line[line.index(after: quote)...].firstIndex(of: "\"")
        if !name.isEmpty, line[name.endIndex...].hasPrefix("("), let close, line[line.index(before: close)] == ")" {
          span = quote..<line.index(after: close)
        }
        search = close.map { line.index(after: $0) } ?? line.endIndex
      }
      if span == nil, let colon = line.range(of: ": "), !line.contains("["), !line.contains("{") {
        let value = line[colon.upperBound...]
        if value.first?.isLetter == true, value.contains("("), value.hasSuffix(")") {
          span = colon.upperBound..<line.endIndex
        }
      }
      guard let span else { continue }
      groups.append(
        files.map { file in
          var copy = lines
          copy[l] = line.replacingCharacters(in: span, with: "\"empirical(file: \(file))\"")
          return ("line \(l + 1): \(copy[l].trimmingCharacters(in: .whitespaces))", copy.joined(separator: "\n"))
        })
    }
    return groups
  }

  /// `text` with its sweep replaced by one of 10^7 points or more: durations and warm-ups (always
  /// valid for any model), and the config's first flow-list sweep key cycled to the same length.
  static func hugeSweepMutants(of text: String, duration: SimTime, warmup: SimTime) -> [(
    label: String, text: String
  )] {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var firstFlowKey: (key: String, items: [String])?
    if let start = lines.firstIndex(of: "sweep:") {
      var end = start + 1
      while end < lines.count, lines[end].hasPrefix(" ") || lines[end].isEmpty { end += 1 }
      for line in lines[(start + 1)..<end] where firstFlowKey == nil {
        let body = line.drop { $0 == " " }
        guard let colon = body.range(of: ": ["), body.hasSuffix("]"), line.prefix(while: { $0 == " " }).count == 2
        else { continue }
        let inner = body[colon.upperBound..<body.index(before: body.endIndex)]
        guard !inner.contains("["), !inner.contains("{") else { continue }
        let key = String(body[..<colon.lowerBound])
        guard key != "duration", key != "warmup" else { continue }
        firstFlowKey = (key, inner.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
      }
      lines.removeSubrange(start..<end)
    }
    let base = lines.joined(separator: "\n") + "\n"
    func durations(from time: SimTime, _ count: Int) -> String {
      "[" + (0..<Int64(count)).map { "\(time.nanoseconds + $0)ns" }.joined(separator: ", ") + "]"
    }
    var mutants = [
      (
        "sweep of 3163 durations x 3163 warm-ups (10,004,569 points)",
        base + "sweep:\n  duration: \(durations(from: duration, 3163))\n  warmup: \(durations(from: warmup, 3163))\n"
      )
    ]
    if let (key, items) = firstFlowKey, !items.isEmpty {
      let cycled = "[" + (0..<216).map { items[$0 % items.count] }.joined(separator: ", ") + "]"
      mutants.append(
        (
          "sweep of 216 durations x 216 warm-ups x 216 values of \(key) (10,077,696 points)",
          base + "sweep:\n  duration: \(durations(from: duration, 216))\n  warmup: \(durations(from: warmup, 216))\n"
            + "  \(key): \(cycled)\n"
        ))
    }
    return mutants
  }

  /// Names that would become paths outside results/ or hidden ones.
  static let pathNames = ["\"..\"", "\".\"", "a/b", "../escape", "/tmp/absolute", ".hidden", "\"a\\\\b\""]

  /// `text` with its `name:` set to each of ``pathNames``.
  static func pathNameMutants(of text: String) -> [(label: String, text: String)] {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let l = lines.firstIndex(where: { $0.hasPrefix("name:") }) else { return [] }
    return pathNames.map { name in
      var copy = lines
      copy[l] = "name: \(name)"
      return ("name: \(name)", copy.joined(separator: "\n"))
    }
  }
}
