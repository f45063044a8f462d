import Foundation
import Testing

@Suite struct TestTierTests {
  /// Every name in Tests/heavy-tests.txt (what `make test` skips and `make test-heavy` runs) is
  /// a test function of the suite: a renamed or deleted test must leave the list, or the long
  /// check would silently move into `make test` and out of `make test-heavy`.
  @Test func everyHeavyTestNameIsATestOfTheSuite() throws {
    let tests = repositoryRoot().appendingPathComponent("Tests")
    let list = try String(contentsOf: tests.appendingPathComponent("heavy-tests.txt"), encoding: .utf8)
    let names = list.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
    #expect(names.count >= 20)
    var sources = ""
    let files = FileManager.default.enumerator(atPath: tests.path)
    while let file = files?.nextObject() as? String {
      guard file.hasSuffix(".swift") else { continue }
      sources += try String(contentsOf: tests.appendingPathComponent(file), encoding: .utf8)
    }
    for name in names {
      #expect(name.allSatisfy { $0.isLetter || $0.isNumber }, "\(name): one function name, no pattern")
      #expect(sources.contains("func \(name)("), "\(name) is no test function in Tests/")
    }
  }
}
