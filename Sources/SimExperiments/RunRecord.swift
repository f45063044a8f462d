import Foundation
import SimKernel
import SimModel

/// The result of one run on disk: written whole (to a temporary file, then renamed), so a crash
/// or a kill never leaves a torn record, and read back exactly (floats in shortest round-trip form).
///
///     bdsim-run-record 1
///     spec <sha256>  run <i>  point <p>  replication <r>  seed <s>  wall_s <seconds>   (one per line)
///     bdsim <commit>          (the build that made it; absent from records written before it was kept)
///     m <metric>\t<value>
///     t <time_ns>\t<metric>\t<value>
///     end
public struct RunRecord: Sendable, Equatable {
  public var specHash: String
  public var run: Int
  public var point: Int
  public var replication: Int
  public var seed: UInt64
  public var wallSeconds: Double
  /// The commit of the bdsim build that made the record (``BDSimVersion/commit``); nil for a
  /// record written before records kept it.
  public var bdsimCommit: String?
  public var output: RunOutput

  public init(run: ExperimentPlan.Run, output: RunOutput, wallSeconds: Double) {
    specHash = run.specHash
    self.run = run.index
    point = run.point
    replication = run.replication
    seed = run.seed
    self.wallSeconds = wallSeconds
    bdsimCommit = BDSimVersion.commit
    self.output = output
  }

  /// The record's file name inside `DIR/runs/` (with another `suffix`, a file of the run's
  /// elsewhere: its trace, `run-NNNNNN.csv`).
  public static func fileName(run: Int, suffix: String = ".rec") -> String {
    let digits = String(run)
    return "run-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + suffix
  }

  public var text: String {
    var out = "bdsim-run-record 1\nspec \(specHash)\nrun \(run)\npoint \(point)\nreplication \(replication)\n"
    out += "seed \(seed)\nwall_s \(wallSeconds)\n"
    if let commit = bdsimCommit { out += "bdsim \(commit)\n" }
    for (name, value) in output.metrics.entries { out += "m \(name)\t\(formatNumber(value))\n" }
    for sample in output.timeseries.samples {
      out += "t \(sample.time.nanoseconds)\t\(sample.metric)\t\(formatNumber(sample.value))\n"
    }
    return out + "end\n"
  }

  /// Parses a record; nil if it is not a complete record.
  public init?(text: String) { self.init(bytes: Array(text.utf8)) }

  /// Parses a record from its bytes (the fast path: aggregation reads every record).
  public init?(bytes: [UInt8]) {
    var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    if lines.last?.isEmpty == true { lines.removeLast() }
    guard lines.count >= 8, lines.first.map(utf8Text) == "bdsim-run-record 1", lines.last.map(utf8Text) == "end" else {
      return nil
    }
    func field(_ i: Int, _ name: String) -> String? {
      let line = utf8Text(lines[i])
      guard line.hasPrefix(name + " ") else { return nil }
      return String(line.dropFirst(name.count + 1))
    }
    guard let spec = field(1, "spec"), let run = field(2, "run").flatMap({ Int($0) }),
      let point = field(3, "point").flatMap({ Int($0) }),
      let replication = field(4, "replication").flatMap({ Int($0) }),
      let seed = field(5, "seed").flatMap({ UInt64($0) }), let wall = field(6, "wall_s").flatMap({ Double($0) })
    else { return nil }
    var metrics = Metrics()
    var series = TimeSeries()
    let tab = UInt8(ascii: "\t")
    var first = 7
    bdsimCommit = nil
    if let commit = field(7, "bdsim") {
      bdsimCommit = commit
      first = 8
    }
    for line in lines[first..<(lines.count - 1)] {
      guard line.count > 2, line[line.startIndex + 1] == UInt8(ascii: " ") else { return nil }
      let body = line.dropFirst(2)
      let parts = body.split(separator: tab, omittingEmptySubsequences: false)
      switch line[line.startIndex] {
      case UInt8(ascii: "m"):
        guard parts.count == 2, let value = parseNumber(utf8Text(parts[1])) else { return nil }
        metrics.set(utf8Text(parts[0]), value)
      case UInt8(ascii: "t"):
        guard parts.count == 3, let ns = Int64(utf8Text(parts[0])), let value = parseNumber(utf8Text(parts[2])) else {
          return nil
        }
        series.append(time: SimTime(nanoseconds: ns), metric: utf8Text(parts[1]), value: value)
      default:
        return nil
      }
    }
    specHash = spec
    self.run = run
    self.point = point
    self.replication = replication
    self.seed = seed
    wallSeconds = wall
    output = RunOutput(metrics: metrics, timeseries: series)
  }

  /// Writes the record into `directory/runs/` atomically.
  public func write(to directory: String) throws(ExperimentError) {
    try writeAtomically(text, to: directory + "/runs/" + Self.fileName(run: run))
  }

  /// Reads the record of run `run`, if there is a complete one.
  public static func read(run: Int, from directory: String) -> RunRecord? {
    guard let data = FileManager.default.contents(atPath: directory + "/runs/" + fileName(run: run)) else { return nil }
    return RunRecord(bytes: Array(data))
  }
}

/// Shortest round-trip text of a Double (`0.1`, `5.0`, `1e-05`, `nan`, `inf`): the same bytes on
/// every machine, and it reads back as the same bits.
public func formatNumber(_ value: Double) -> String {
  if value.isNaN { return "nan" }
  if value.isInfinite { return value > 0 ? "inf" : "-inf" }
  return "\(value)"
}

func parseNumber<S: StringProtocol>(_ text: S) -> Double? {
  switch text {
  case "nan": return .nan
  case "inf": return .infinity
  case "-inf": return -.infinity
  default: return Double(String(text))
  }
}

/// The UTF-8 text of a slice of bytes.
private func utf8Text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
