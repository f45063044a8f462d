import ArgumentParser
import Foundation
import SimExperiments
import SimKernel
import SimModel

struct ModelsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "models",
    abstract: "List the models, or describe one in full: its parameters, defaults, units and metrics.")

  @Argument(help: "A model name: describe it in full.") var name: String?

  func run() throws {
    let width = outputWidth()
    guard let name else {
      print(ModelsListing.list(width: width))
      return
    }
    let models = Models.registered
    guard let model = models.named(name) else {
      throw ExperimentError("unknown model '\(name)' (\(models.unknownModelHint(name)))")
    }
    print(ModelsListing.describe(model, width: width))
  }
}

/// The text of `bdsim models`: aligned columns, long cells wrapped under themselves, defaults in
/// units a person reads (`6.4GiB`, `30s`, `8Gbps`).
enum ModelsListing {
  static func list(width: Int) -> String {
    let models = Models.registered.all
    let nameWidth = (models.map(\.name.count).max() ?? 0) + 2
    var lines: [String] = []
    for model in models {
      let summary = wrap(model.summary, width: max(20, width - nameWidth))
      for (i, line) in summary.enumerated() {
        let lead = i == 0 ? model.name : ""
        lines.append(lead.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + line)
      }
    }
    lines.append("")
    lines.append(
      "bdsim models NAME describes one in full, and says where its documentation is (what it models and leaves out).")
    return lines.joined(separator: "\n")
  }

  static func describe(_ model: AnyModel, width: Int) -> String {
    var out = wrap("\(model.name): \(model.summary)", width: width).joined(separator: "\n")
    out += "\n\nParameters (under params:)\n"
    let parameters = model.parameterSchema().map { parameter in
      let shown = parameter.defaultValue.map { readableDefault($0, kind: QuantityKind(rawValue: parameter.kind)) }
      return [parameter.key, parameter.kind, shown ?? "(required)", parameter.help]
    }
    out += table(header: ["key", "kind", "default", "meaning"], rows: parameters, width: width)
    out += "\n\nMetrics\n"
    out += table(
      header: ["metric", "unit", "meaning"],
      rows: model.catalog.entries.map { [compactNames($0.names), unitText($0), $0.meaning] }, width: width)
    if let documentation = model.documentation { out += "\n\nMore: \(documentation)" }
    return out
  }

  /// Names after the first without what they share with it, up to a `_` or `.`:
  /// `mapreduce.bytes_read_hdfs, _spilled, _written_hdfs`.
  static func compactNames(_ names: [String]) -> String {
    guard let first = names.first else { return "" }
    let rest = names.dropFirst().map { name -> String in
      if first.hasPrefix(name) { return name }
      var shared = zip(first, name).prefix { $0 == $1 }.count
      while shared > 0, !"_.".contains(Array(name)[shared - 1]) { shared -= 1 }
      return shared > 0 ? String(name.dropFirst(shared - 1)) : name
    }
    return ([first] + rest).joined(separator: ", ")
  }

  /// A metric's kind and unit as `bdsim models` shows them: `duration (s)`, `rate (MB/s)`,
  /// `category: 0 none, 1 network`.
  static func unitText(_ info: MetricInfo) -> String {
    switch info.kind {
    case .category:
      return "category: "
        + info.categories.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
          separator: ", ")
    case .fraction, .ratio: return info.kind.rawValue
    default: return info.unit.isEmpty ? info.kind.rawValue : "\(info.kind.rawValue) (\(info.unit))"
    }
  }

  /// A table whose last column is wrapped to fit `width`, continuation lines under it; when that
  /// column would be narrower than 40 characters, each row's last cell is a block of its own
  /// under the row instead, indented, so that no column is squeezed into a few words a line.
  static func table(header: [String], rows: [[String]], width: Int) -> String {
    let fixed = header.indices.dropLast().map { column in
      max(header[column].count, rows.map { $0[column].count }.max() ?? 0)
    }
    let room = width - fixed.reduce(0, +) - 2 * fixed.count
    var lines: [[String]] = []
    if room >= 40 {
      for row in rows {
        for (i, line) in wrap(row[row.count - 1], width: room).enumerated() {
          lines.append(i == 0 ? Array(row.dropLast()) + [line] : Array(repeating: "", count: row.count - 1) + [line])
        }
      }
      return TextTable.render(header: header, rows: lines)
    }
    let leading = TextTable.render(header: Array(header.dropLast()), rows: rows.map { Array($0.dropLast()) })
      .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    // The header and its rule, then each row followed by its last cell, indented.
    var out = Array(leading.prefix(2))
    out[0] += "  (" + header[header.count - 1] + " below each)"
    for (row, line) in zip(rows, leading.dropFirst(2)) {
      out.append(line)
      out += wrap(row[row.count - 1], width: max(30, width - 4)).map { "    " + $0 }
    }
    return out.joined(separator: "\n")
  }

  /// `text` broken at spaces into lines of at most `width` characters (a longer word keeps its line).
  static func wrap(_ text: String, width: Int) -> [String] {
    var lines: [String] = []
    var line = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: true) {
      if line.isEmpty {
        line = String(word)
      } else if line.count + 1 + word.count <= width {
        line += " " + word
      } else {
        lines.append(line)
        line = String(word)
      }
    }
    lines.append(line)
    return lines
  }

  /// A default as a person reads it: sizes with the binary or decimal unit that shows them in the
  /// fewest digits (`6871947673.6B` is `6.4GiB`); other kinds are already in their units.
  static func readableDefault(_ text: String, kind: QuantityKind?) -> String {
    guard kind == .size, let bytes = try? Quantity.parse(text, as: .size), bytes > 0 else { return text }
    return readableSize(bytes)
  }
}

/// Bytes with the unit, binary or decimal, that shows them to three decimals in the fewest
/// characters (`6.4GiB`, `100MiB`, `1.5GB`), else to three significant digits in binary units.
func readableSize(_ bytes: Double) -> String {
  let units: [(String, Double)] = [
    ("B", 1), ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("PB", 1e15),
    ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
    ("PiB", 1_125_899_906_842_624),
  ]
  var best: String?
  for (unit, factor) in units where bytes >= factor {
    let scaled = bytes / factor
    let rounded = (scaled * 1000).rounded() / 1000
    guard abs(rounded - scaled) <= 1e-9 * scaled else { continue }
    let text = Quantity.shortest(rounded) + unit
    if best == nil || text.count < best!.count { best = text }
  }
  if let best { return best }
  let binary = units.filter { $0.0 == "B" || $0.0.hasSuffix("iB") }
  let (unit, factor) = binary.last { bytes >= $0.1 } ?? ("B", 1)
  return String(format: "%.3g", bytes / factor) + unit
}

/// Columns to fit: COLUMNS when set, else the terminal's width, else 100.
func outputWidth() -> Int {
  if let text = ProcessInfo.processInfo.environment["COLUMNS"], let columns = Int(text), columns >= 40 {
    return columns
  }
  var size = winsize()
  if isatty(1) == 1, ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col >= 40 { return Int(size.ws_col) }
  return 100
}
