import Foundation
import SimExperiments
import SimKernel
import Testing

/// Bad input is an answer: every broken config of Fixtures/broken must be refused with a
/// ``ConfigError`` that names the line, the key, what is wrong and how to fix it, as the fixture's
/// header says (see ``BrokenFixture``).
///
/// A fixture with a `# bug:` line describes what BDSim does wrong today; its check runs as a known
/// issue, so the suite stays green until the source is fixed, and then reports "known issue was not
/// recorded": delete the `# bug:` line at that point.
@Suite struct ConfigCorpusTests {
  @Test func theCorpusIsLargeAndEveryFixtureSaysWhatItExpects() throws {
    let fixtures = BrokenFixture.all
    #expect(fixtures.count >= 30, "expected at least 30 broken configs in Fixtures/broken, found \(fixtures.count)")
    var numbers: Set<Int> = []
    for fixture in fixtures {
      let number = Int(fixture.name.prefix(while: \.isNumber))
      #expect(
        number != nil && fixture.name.drop(while: \.isNumber).hasPrefix("-"),
        "\(fixture.name): name it NN-short-name.yaml")
      if let number { #expect(numbers.insert(number).inserted, "\(fixture.name): number \(number) is used twice") }
      #expect(!fixture.lines.isEmpty, "\(fixture.name): no '# expect-line:'")
    }
  }

  @Test(arguments: BrokenFixture.all)
  func brokenConfigIsRefusedWithItsExpectedError(_ fixture: BrokenFixture) {
    if let bug = fixture.bug {
      withKnownIssue("BUG: \(bug)") { Self.check(fixture) }
    } else {
      Self.check(fixture)
    }
  }

  static func check(_ fixture: BrokenFixture) {
    guard case .rejected(let error, _) = loadAndPlan(fixture.path) else {
      Issue.record("\(fixture.name): the config was accepted; expected a ConfigError")
      return
    }
    let printed = error.description
    if !fixture.lines.isEmpty {
      #expect(
        fixture.lines.contains(error.location.line),
        "\(fixture.name): error at line \(error.location.line), expected line \(fixture.lines): \(printed)")
    }
    if error.location.line >= 1 {
      #expect(error.location.column >= 1, "\(fixture.name): line without a column: \(printed)")
    }
    if let key = fixture.key {
      #expect(
        error.keyPath == key || error.keyPath.hasPrefix(key + "."),
        "\(fixture.name): key path '\(error.keyPath)', expected '\(key)': \(printed)")
    }
    for fragment in fixture.messages {
      #expect(error.message.contains(fragment), "\(fixture.name): message lacks '\(fragment)': \(printed)")
    }
    for fragment in fixture.hints {
      #expect(error.hint?.contains(fragment) == true, "\(fixture.name): hint lacks '\(fragment)': \(printed)")
    }
    for fragment in fixture.absent {
      #expect(!printed.contains(fragment), "\(fixture.name): misleading '\(fragment)' in: \(printed)")
    }
    #expect(!error.message.isEmpty, "\(fixture.name): empty message")
    #expect(
      !printed.contains("\n") && !printed.contains("\r"), "\(fixture.name): the error is not one line: \(printed)")
  }

  /// The CLI prints `error.description`: it must start with the file, whichever step found the error
  /// (loading, or expanding the sweep and decoding each point's params).
  @Test func everyErrorNamesTheFile() {
    for fixture in BrokenFixture.all {
      guard case .rejected(let error, let stage) = loadAndPlan(fixture.path) else { continue }
      #expect(
        error.file == fixture.path,
        "\(fixture.name): the error (from \(stage.rawValue)) names file '\(error.file)', not the config: \(error)")
    }
  }

  @Test func theErrorPrintsAsFileLineColumnKeyMessageHint() throws {
    let fixture = try #require(BrokenFixture.named("01-"))
    let error = try #require(loadAndPlan(fixture.path).error)
    #expect(
      error.description
        == "\(fixture.path):9:1: error: at replicaton: unknown key 'replicaton' (did you mean 'replications'?)")
  }

  // MARK: Errors about the whole file

  @Test func aMissingFileIsNamedWithAHint() throws {
    let path = scratchDirectory("corpus-missing") + "/no-such-config.yaml"
    let error = try #require(loadAndPlan(path).error)
    #expect(error.file == path)
    #expect(error.message.contains("no such file"))
    #expect(error.hint?.contains("check the path") == true)
    #expect(error.description.hasPrefix(path + ": error: "))
  }

  @Test func aDirectoryIsNotAConfig() throws {
    let path = scratchDirectory("corpus-directory")
    let error = try #require(loadAndPlan(path).error)
    #expect(error.file == path)
    #expect(error.message.contains("is a directory"))
  }

  @Test(arguments: ["", "\n\n", "   \n", "# only a comment\n", "---\n", "~\n"])
  func anEmptyFileIsAnEmptyConfig(_ text: String) throws {
    // One directory per case: the cases run in parallel.
    let directory = scratchDirectory("corpus-empty-" + text.utf8.map { String($0) }.joined(separator: "-"))
    let path = writeConfig(text, in: directory, name: "empty.yaml")
    let error = try #require(loadAndPlan(path).error)
    #expect(error.file == path)
    #expect(error.location.line == 1)
    #expect(error.message.contains("the config is empty"))
    #expect(error.hint?.contains("quickstart.yaml") == true)
  }

  // MARK: Crashes

  /// The distribution parser is recursive descent: without its depth limit, ~5000 nested calls
  /// overflowed the stack (SIGSEGV). ConfigCLITests runs the same input through the binary.
  @Test func aDeeplyNestedDistributionIsAnErrorNotACrash() throws {
    let path = writeConfig(deeplyNestedDistributionConfig, in: scratchDirectory("corpus-nested"))
    let error = try #require(loadAndPlan(path).error)
    #expect(error.location.line == 5)
    #expect(error.keyPath == "params.service")
  }
}

/// A config whose service distribution nests 10,000 calls (a 40 KB line).
let deeplyNestedDistributionConfig =
  "name: nested\nmodel: queueing\nduration: 100s\nparams:\n  service: \""
  + String(repeating: "exp(", count: 10_000) + "\"\n"
