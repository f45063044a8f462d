import SimKernel

/// A grid of parameter values: every combination of the swept keys, with `zip` groups whose
/// keys vary together, minus the `exclude`d combinations.
///
///     sweep:
///       params.utilisation: [0.5, 0.7, 0.9]     # a dimension
///       params.servers: [1, 2]                  # another: 3 x 2 = 6 points
///       zip:                                    # keys that vary in lockstep form one dimension
///         - {params.service: [exp(1s), const(1s)], params.capacity: [10, 20]}
///       exclude:
///         - {params.utilisation: 0.9, params.servers: 1}
///
/// Points are numbered in row-major order: the first dimension varies slowest.
public struct Sweep: Sendable {
  /// One axis of the grid: one or more keys (a zip group) and their values, level by level.
  public struct Dimension: Sendable {
    public var paths: [String]
    public var levels: [[ConfigNode]]  // levels[i][k]: the value of paths[k] at level i
  }

  /// One point of the grid: which value each swept key takes.
  public struct Point: Sendable {
    public var index: Int
    public var assignments: [(path: String, value: ConfigNode)]
  }

  /// The most points a sweep may have, counted before exclusions (from the lengths of its lists,
  /// so a huge grid is refused before it is made). Every point is decoded by `validate` and runs
  /// at least once; 10,000 points is a fine grid of four parameters at ten levels each, and
  /// decoding them stays within a second.
  public static let maximumPoints = 10_000

  public private(set) var dimensions: [Dimension] = []
  private var exclusions: [[(path: String, keyLocation: SourceLocation, value: ConfigNode)]] = []

  /// Every swept key, in order: the extra columns of runs.csv.
  public var paths: [String] { dimensions.flatMap(\.paths) }

  public init(_ node: ConfigNode, root: ConfigNode) throws(ConfigError) {
    if node.isNull { return }
    guard let entries = node.entries else {
      throw ConfigError(
        location: node.location, keyPath: "sweep",
        message: "expected a mapping of key paths to lists of values, found \(node.kindDescription)",
        hint: "e.g. sweep: {params.servers: [1, 2, 4]}")
    }
    for entry in entries {
      switch entry.key {
      case "zip":
        guard let groups = entry.value.items else {
          throw ConfigError(
            location: entry.value.location, keyPath: "sweep.zip",
            message: "expected a list of groups, each a mapping of key paths to equally long lists")
        }
        for (g, group) in groups.enumerated() {
          guard let members = group.entries, !members.isEmpty else {
            throw ConfigError(
              location: group.location, keyPath: "sweep.zip.\(g)", message: "expected a mapping of key paths to lists")
          }
          var paths: [String] = []
          var columns: [[ConfigNode]] = []
          for member in members {
            try Self.checkPath(member.key, location: member.keyLocation, root: root)
            paths.append(member.key)
            columns.append(try Self.values(member.value, keyPath: "sweep.zip.\(g).\(member.key)"))
          }
          guard Set(columns.map(\.count)).count == 1 else {
            throw ConfigError(
              location: group.location, keyPath: "sweep.zip.\(g)",
              message:
                "zipped lists must be equally long, got lengths \(columns.map { String($0.count) }.joined(separator: ", "))"
            )
          }
          let levels = (0..<columns[0].count).map { i in columns.map { $0[i] } }
          try add(Dimension(paths: paths, levels: levels), location: group.location)
        }
      case "exclude":
        guard let items = entry.value.items else {
          throw ConfigError(
            location: entry.value.location, keyPath: "sweep.exclude",
            message: "expected a list of mappings from key path to value")
        }
        for (e, item) in items.enumerated() {
          guard let members = item.entries, !members.isEmpty else {
            throw ConfigError(
              location: item.location, keyPath: "sweep.exclude.\(e)",
              message: "expected a mapping from swept key path to value")
          }
          exclusions.append(members.map { ($0.key, $0.keyLocation, $0.value) })
        }
      default:
        try Self.checkPath(entry.key, location: entry.keyLocation, root: root)
        let values = try Self.values(entry.value, keyPath: "sweep.\(entry.key)")
        try add(Dimension(paths: [entry.key], levels: values.map { [$0] }), location: entry.keyLocation)
      }
    }
    for (e, exclusion) in exclusions.enumerated() {
      for rule in exclusion {
        guard let dimension = dimensions.first(where: { $0.paths.contains(rule.path) }) else {
          throw ConfigError(
            location: rule.keyLocation, keyPath: "sweep.exclude.\(e).\(rule.path)",
            message: "'\(rule.path)' is not swept, so excluding on it means nothing",
            hint: "swept keys: \(paths.joined(separator: ", "))")
        }
        // A value the sweep never takes excludes nothing: most likely a typo.
        let k = dimension.paths.firstIndex(of: rule.path)!
        let values = dimension.levels.map { $0[k].compactText }
        guard values.contains(rule.value.compactText) else {
          throw ConfigError(
            location: rule.value.location, keyPath: "sweep.exclude.\(e).\(rule.path)",
            message: "'\(rule.path)' never takes the value '\(rule.value.compactText)'",
            hint: "its values are: \(values.joined(separator: ", "))")
        }
      }
    }
    // The grid's size from the lists' lengths, before a point is made (exclusions only remove).
    var size = 1
    for dimension in dimensions {
      let (product, overflow) = size.multipliedReportingOverflow(by: dimension.levels.count)
      size = overflow ? Int.max : product
    }
    if size > Self.maximumPoints {
      throw ConfigError(
        location: node.location, keyPath: "sweep",
        message:
          "the sweep has \(size == Int.max ? "more than \(Int.max)" : String(size)) points "
          + "(\(dimensions.map { String($0.levels.count) }.joined(separator: " x "))), more than the \(Self.maximumPoints) a sweep may have",
        hint: "sweep fewer values, zip keys that vary together, or split the study into several experiments")
    }
    if points().isEmpty {
      let location = entries.first { $0.key == "exclude" }?.keyLocation ?? node.location
      throw ConfigError(location: location, keyPath: "sweep.exclude", message: "every point of the sweep is excluded")
    }
  }

  private mutating func add(_ dimension: Dimension, location: SourceLocation) throws(ConfigError) {
    for path in dimension.paths where paths.contains(path) {
      throw ConfigError(location: location, keyPath: "sweep.\(path)", message: "'\(path)' is swept twice")
    }
    dimensions.append(dimension)
  }

  static func checkPath(_ path: String, location: SourceLocation, root: ConfigNode) throws(ConfigError) {
    let segments = path.split(separator: ".", omittingEmptySubsequences: false)
    let wellFormed = !segments.contains { $0.isEmpty }
    let sweepable =
      path == "duration" || path == "warmup" || path == "faults"
      || ((path.hasPrefix("params.") || path.hasPrefix("platform.") || path.hasPrefix("faults.")
        || path.hasPrefix("cost."))
        && segments.count >= 2)
    guard wellFormed, sweepable else {
      var hint = "a sweep varies params.NAME, platform.NAME, cost.NAME, faults, duration or warmup"
      let topLevel = ExperimentConfig.topLevelKeys
      if !path.contains("."), !topLevel.contains(path) {
        if let near = closestMatch(to: path, among: ["duration", "warmup"]) {
          hint = "did you mean '\(near)'?"
        } else {
          hint = "did you mean 'params.\(path)'? " + hint
        }
      }
      throw ConfigError(location: location, keyPath: "sweep.\(path)", message: "cannot sweep '\(path)'", hint: hint)
    }
  }

  static func values(_ node: ConfigNode, keyPath: String) throws(ConfigError) -> [ConfigNode] {
    guard let items = node.items else {
      throw ConfigError(
        location: node.location, keyPath: keyPath, message: "expected a list of values, found \(node.kindDescription)",
        hint: "e.g. [1, 2, 4]")
    }
    guard !items.isEmpty else {
      throw ConfigError(
        location: node.location, keyPath: keyPath, message: "the list of values is empty",
        hint: "give at least one value, or remove the key")
    }
    return items
  }

  /// Every point not excluded, numbered from 0 in row-major order. No sweep gives one empty point.
  public func points() -> [Point] {
    var result: [Point] = []
    var levels = [Int](repeating: 0, count: dimensions.count)
    while true {
      var assignments: [(path: String, value: ConfigNode)] = []
      for (d, dimension) in dimensions.enumerated() {
        for (k, path) in dimension.paths.enumerated() { assignments.append((path, dimension.levels[levels[d]][k])) }
      }
      let excluded = exclusions.contains { exclusion in
        exclusion.allSatisfy { rule in
          assignments.contains { $0.path == rule.path && $0.value.compactText == rule.value.compactText }
        }
      }
      if !excluded { result.append(Point(index: result.count, assignments: assignments)) }
      // Advance the odometer, last dimension fastest.
      var d = dimensions.count - 1
      while d >= 0 {
        levels[d] += 1
        if levels[d] < dimensions[d].levels.count { break }
        levels[d] = 0
        d -= 1
      }
      if d < 0 { return result }
    }
  }
}
