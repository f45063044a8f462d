import Foundation
import SimKernel
import SimModel

/// `outputs.trace`: which activities of a run on the platform to write one CSV row each for
/// (`DIR/traces/run-NNNNNN.csv`): `true` for all, a list of kinds (`[network, disk]`), or a
/// mapping `{kinds: [...], from: 10s, until: 20s}` keeping the activities that overlap the window.
public struct TraceSelection: Sendable, Equatable {
  public var kinds: Set<String>
  public var from: SimTime
  public var until: SimTime

  /// The file of run `run`'s trace inside the result directory.
  public static func path(run: Int, in directory: String) -> String {
    directory + "/traces/" + RunRecord.fileName(run: run, suffix: ".csv")
  }

  /// The file naming the selection the directory's traces were made with (`traces/selection`):
  /// `--resume` remakes every trace when the config now selects otherwise.
  public static func recordPath(in directory: String) -> String { directory + "/traces/selection" }

  /// One line saying what is traced: the kinds in order and the window, in seconds.
  public var record: String {
    let until = self.until == .max ? "end" : until.formatted
    return "kinds \(kinds.sorted().joined(separator: ",")) from \(from.formatted) until \(until)\n"
  }

  /// Whether the traces in `directory` were made with this selection.
  func madeTraces(in directory: String) -> Bool {
    FileManager.default.contents(atPath: Self.recordPath(in: directory)).map { String(decoding: $0, as: UTF8.self) }
      == record
  }

  /// Reads `outputs.trace` (nil if absent or false).
  static func decode(_ outputs: inout ConfigReader, model: AnyModel) throws(ConfigError) -> TraceSelection? {
    guard let node = outputs.node("trace") else { return nil }
    let kinds = ActivityTraceRequest.allKinds
    let example = "e.g. trace: true, trace: [network], or trace: {kinds: [disk], from: 10s, until: 20s}"
    var selection = TraceSelection(kinds: Set(kinds), from: .zero, until: .max)
    if let text = node.scalarText {
      switch text.lowercased() {
      case "true", "yes", "on": break
      case "false", "no", "off": return nil
      default:
        throw outputs.error("trace", "expected true, false, a list of kinds or a mapping, got '\(text)'", hint: example)
      }
    } else if node.items != nil {
      selection.kinds = try readKinds(node, path: "outputs.trace")
    } else {
      var reader = try outputs.mapping("trace")
      if let kindsNode = reader.node("kinds") {
        guard kindsNode.items != nil else {
          throw reader.error("kinds", "expected a list of kinds, found \(kindsNode.kindDescription)", hint: example)
        }
        selection.kinds = try readKinds(kindsNode, path: "outputs.trace.kinds")
      }
      selection.from = try reader.duration("from", default: .zero)
      selection.until = try reader.duration("until", default: .max)
      try reader.finish()
      guard selection.from <= selection.until else {
        throw reader.error(
          "until", "until (\(selection.until.formatted)) is before from (\(selection.from.formatted))",
          hint: "give a window with from <= until")
      }
    }
    guard model.usesPlatform else {
      throw outputs.error(
        "trace", "model '\(model.name)' does not run on the platform, so it has no activities to trace",
        hint: "remove outputs.trace")
    }
    return selection
  }

  private static func readKinds(_ list: ConfigNode, path: String) throws(ConfigError) -> Set<String> {
    let kinds = ActivityTraceRequest.allKinds
    let items = list.items ?? []
    guard !items.isEmpty else {
      throw ConfigError(
        location: list.location, keyPath: path, message: "the list of kinds to trace is empty",
        hint: "name some of \(kinds.joined(separator: ", ")), or remove outputs.trace")
    }
    var chosen = Set<String>()
    for (i, item) in items.enumerated() {
      guard let text = item.scalarText, kinds.contains(text) else {
        var hint = "kinds are: \(kinds.joined(separator: ", "))"
        if let text = item.scalarText, let near = closestMatch(to: text, among: kinds) {
          hint = "did you mean '\(near)'? " + hint
        }
        throw ConfigError(
          location: item.location, keyPath: "\(path).\(i)",
          message: "'\(item.scalarText ?? item.kindDescription)' is not a kind of activity", hint: hint)
      }
      chosen.insert(text)
    }
    return chosen
  }
}
