/// What a metric measures and in what unit: how a table prints it, which statistics mean
/// something for it, and what `outputs.metrics` may name.
public struct MetricInfo: Sendable, Equatable {
  /// The kinds of quantity a metric can be.
  public enum Kind: String, Sendable, Equatable {
    /// Seconds.
    case duration
    /// Bytes (or a multiple of them: `unit`).
    case bytes
    /// Something per second: bytes (`B/s`, `MB/s`) or things (`records/s`).
    case rate
    /// A share between 0 and 1 (utilisation, availability, hit ratio).
    case fraction
    /// A dimensionless ratio that is not a share (skew, speed-up).
    case ratio
    /// Things counted: a whole number in every run.
    case count
    /// The time-average of a count (partitions under-replicated on average): not a whole number.
    case level
    /// A code naming one of a few outcomes (`categories`); 0/1 flags are categories too.
    case category
  }

  /// The metric's names; `*` in a name matches any run of characters (a station's name, a time).
  public var names: [String]
  /// What kind of quantity the metric is: decides how it is printed and which statistics apply.
  public var kind: Kind
  /// The unit of the value as reported: `s`, `B`, `MB` (10^6 bytes), `B/s`, `MB/s`, `records/s`,
  /// `records`, `1` (a fraction or ratio), or `` for a category.
  public var unit: String
  /// For a category: the name of each code.
  public var categories: [Int: String]
  /// One sentence on what the metric measures, for `bdsim models NAME` and the docs.
  public var meaning: String

  /// Describes the metrics called `names` (`*` matches any run of characters).
  ///
  /// - Parameters:
  ///   - names: The names this entry covers, such as `station.*.utilisation`.
  ///   - kind: The kind of quantity.
  ///   - unit: The unit as reported; nil takes the kind's own (`s`, `B`, `B/s`, `1`, or none for
  ///     counts and levels). A category never has one, whatever is given.
  ///   - categories: For a ``Kind/category``, the name of each code.
  ///   - meaning: One sentence on what it measures.
  public init(_ names: [String], _ kind: Kind, unit: String? = nil, categories: [Int: String] = [:], _ meaning: String)
  {
    self.names = names
    self.kind = kind
    self.categories = categories
    self.meaning = meaning
    switch kind {
    case .duration: self.unit = unit ?? "s"
    case .bytes: self.unit = unit ?? "B"
    case .rate: self.unit = unit ?? "B/s"
    case .fraction, .ratio: self.unit = unit ?? "1"
    case .count, .level: self.unit = unit ?? ""
    case .category: self.unit = ""
    }
  }

  /// A 0/1 outcome: 1 is `yes` (the job failed, the run was steady).
  public static func flag(_ names: [String], _ meaning: String) -> MetricInfo {
    MetricInfo(names, .category, categories: [0: "no", 1: "yes"], meaning)
  }

  /// Whether `name` is one of this entry's names.
  public func matches(_ name: String) -> Bool { names.contains { MetricInfo.glob($0, name) } }

  /// Whether a pattern of `outputs.metrics` (`*` anywhere) can select a metric of this entry.
  public func canBeSelected(by pattern: String) -> Bool {
    names.contains { name in
      MetricInfo.glob(name, pattern) || MetricInfo.glob(pattern, String(name.map { $0 == "*" ? "x" : $0 }))
    }
  }

  /// Matches `*` as any run of characters; everything else literally.
  public static func glob(_ pattern: String, _ text: String) -> Bool {
    let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map { Array($0.utf8) }
    let text = Array(text.utf8)
    if parts.count == 1 { return parts[0] == text }
    guard text.starts(with: parts[0]) else { return false }
    var position = parts[0].count
    for part in parts.dropFirst().dropLast() {
      guard let found = find(part, in: text, from: position) else { return false }
      position = found + part.count
    }
    let last = parts.last!
    return text.count - position >= last.count && text[(text.count - last.count)...].elementsEqual(last)
  }

  static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
    guard !needle.isEmpty else { return start }
    var i = start
    while i + needle.count <= haystack.count {
      if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
      i += 1
    }
    return nil
  }
}

/// The metrics a run may report: the model's, the platform's, the kernel's. The first entry
/// whose names match a metric describes it.
public struct MetricCatalog: Sendable {
  /// The entries in order; the first that matches a name describes it, so put specific patterns first.
  public var entries: [MetricInfo]

  /// A catalog of `entries`, in the order they are matched.
  public init(_ entries: [MetricInfo]) { self.entries = entries }

  /// The first entry whose names match `name`, or nil if the catalog does not know it.
  ///
  /// - Complexity: O(entries x names per entry x name length).
  public func info(_ name: String) -> MetricInfo? { entries.first { $0.matches(name) } }

  /// Whether a pattern of `outputs.metrics` can select any metric of the catalog.
  public func canSelect(_ pattern: String) -> Bool { entries.contains { $0.canBeSelected(by: pattern) } }

  /// Every name of the catalog, in order.
  public var names: [String] { entries.flatMap(\.names) }

  /// Names to suggest for a name the catalog does not know: every literal name, and each
  /// pattern filled in from `text` segment by segment (`station.*.wait_*` for
  /// `station.web.wiat_p99` gives `station.web.wait_p99`).
  public func suggestions(for text: String) -> [String] {
    let segments = text.split(separator: ".", omittingEmptySubsequences: false)
    return names.map { name in
      guard name.contains("*") else { return name }
      let parts = name.split(separator: ".", omittingEmptySubsequences: false)
      guard parts.count == segments.count else { return name }
      return zip(parts, segments).map { part, segment -> String in
        if part == "*" { return String(segment) }
        guard part.hasSuffix("*") else { return String(part) }
        let tail = segment.split(separator: "_").last.map(String.init) ?? String(segment)
        return part.dropLast() + tail
      }.joined(separator: ".")
    }
  }

  /// The steady-state verdict every run of a model with steady-state signals reports
  /// (``SteadyStateMonitor``), and the warm-up `warmup: auto` chose.
  public static let steadyState: [MetricInfo] = [
    .flag(["steady_state.ok"], "1 when every steady-state signal settled before half-way and none has a trend"),
    MetricInfo(
      ["steady_state.truncation_s", "steady_state.warmup_s", "steady_state.*.truncation_s"], .duration,
      "MSER-5 truncation point (the latest over the signals, or one signal's), and the warm-up warmup: auto used"),
    MetricInfo(
      ["steady_state.*.trend"], .category, categories: [-1: "falling", 0: "none", 1: "rising"],
      "a signal's trend at the end of the run: +1 rising, -1 falling, 0 none"),
  ]
}
