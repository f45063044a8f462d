import Foundation
import Testing

/// The examples of issue 14, through the real binary: each crashed bdsim, ran away with its memory
/// or was accepted silently. Each must now be one located line on stderr and exit status 2 from
/// `bdsim validate` (or, where it is legal, exit 0 with a located warning), in bounded memory.
///
/// The memory bound is the (200 MB, measured as the child's peak resident set by `wait4`);
/// time is bounded only loosely (10 s of wall time for what must answer in well under a second in
/// a release build), because the machine is shared: a runaway takes minutes, not seconds.
@Suite struct HardeningCLITests {
  struct Example: Sendable, CustomTestStringConvertible {
    var name: String
    var text: String
    /// A fragment the error's key path must contain (`at KEY:`).
    var key: String
    var testDescription: String { name }
  }

  static let examples: [Example] = [
    Example(
      name: "spark-input-size", text: "name: x\nmodel: spark\nduration: 10m\nparams:\n  input_size: 1e30GiB\n",
      key: "params.input_size"),
    Example(
      name: "mapreduce-input-size", text: "name: x\nmodel: mapreduce\nduration: 10m\nparams:\n  input_size: 1e30GiB\n",
      key: "params.input_size"),
    Example(
      name: "lambda-kappa-event-size",
      text:
        "name: x\nmodel: lambda-kappa\nduration: 10m\nparams:\n  events: {rate: 1k/s, size: 1e30KiB, history: 24h}\n",
      key: "params.events"),
    Example(
      name: "host-link", text: "name: x\nmodel: transfer\nduration: 10m\nplatform:\n  host_link: 1e300Gbps\n",
      key: "platform.host_link"),
    Example(
      name: "disk-write", text: "name: x\nmodel: hdfs\nduration: 1m\nplatform:\n  disk_write: 1e300GB/s\n",
      key: "platform.disk_write"),
    Example(
      name: "no-disks-hdfs", text: "name: x\nmodel: hdfs\nduration: 1m\nplatform: {disks: 0}\n",
      key: "platform.disks"),
    Example(
      name: "no-disks-stream", text: "name: x\nmodel: stream\nduration: 1m\nplatform: {disks: 0}\n",
      key: "platform.disks"),
    Example(
      name: "no-disks-lambda-kappa", text: "name: x\nmodel: lambda-kappa\nduration: 1m\nplatform: {disks: 0}\n",
      key: "platform.disks"),
    Example(
      name: "stream-arrival-delay",
      text:
        "name: x\nmodel: stream\nduration: 1m\nparams:\n  events: {arrival_delay: \"lognormal(median: 5ms, sigma: 1e6)\"}\n",
      key: "params.events.arrival_delay"),
    Example(
      name: "stream-event-rate",
      text: "name: x\nmodel: stream\nduration: 1m\nparams:\n  events: {rate: 4294967296k/s}\n",
      key: "params.events.rate"),
    Example(
      name: "serving-query-rate",
      text: "name: x\nmodel: stream\nduration: 1m\nparams:\n  serving: {query_rate: 1e19/s}\n",
      key: "params.serving.query_rate"),
    Example(
      name: "quorum-client-rate",
      text:
        "name: x\nmodel: quorum\nduration: 1m\nplatform: {racks: 2, hosts_per_rack: 4}\nparams:\n  nodes: 5\n  clients:\n"
        + "    - {name: c, hosts: [rack2-host4], rate: 1e19k/s}\n",
      key: "params.clients.0.rate"),
    Example(
      name: "queueing-arrival-rate",
      text:
        "name: x\nmodel: queueing\nduration: 1m\nparams:\n  service: \"exp(mean: 1s)\"\n  arrival_rate: 1e300/s\n",
      key: "params.arrival_rate"),
    Example(
      name: "empirical-dev-zero",
      text:
        "name: x\nmodel: queueing\nduration: 1m\nparams:\n  service: \"empirical(file: /dev/zero)\"\n  arrival_rate: 1/s\n",
      key: "params.service"),
    Example(
      name: "random-faults-mttf",
      text:
        "name: x\nmodel: transfer\nduration: 10m\nfaults:\n  - {random: hosts, mttf: 1ns, mttr: 1ns}\n",
      key: "faults.0"),
    Example(
      name: "name-dot-dot",
      text:
        "name: \"..\"\nmodel: queueing\nduration: 1m\nparams:\n  service: \"exp(mean: 1s)\"\n  arrival_rate: 0.5/s\n",
      key: "name"),
    Example(
      name: "partition-group-without-hosts",
      text:
        "name: x\nmodel: transfer\nduration: 1m\nfaults:\n  - {at: 10s, partition: [[rack1-host1], []], for: 10s}\n",
      key: "faults.0.partition"),
    Example(
      name: "mixture-weights",
      text:
        "name: x\nmodel: queueing\nduration: 1m\nparams:\n"
        + "  service: \"mixture(0.1 * exp(mean: 1s), 0.2 * exp(mean: 2s))\"\n  arrival_rate: 0.1/s\n",
      key: "params.service"),
    Example(
      name: "metric-indented-into-the-previous",
      text:
        "name: x\nmodel: queueing\nduration: 1m\nparams:\n  service: \"exp(mean: 1s)\"\n  arrival_rate: 0.5/s\n"
        + "outputs:\n  metrics:\n    - station.station.response_mean\n      - station.station.response_p99\n",
      key: "outputs.metrics"),
    Example(
      name: "duration-at-the-limit-of-int64",
      text:
        "name: x\nmodel: queueing\nduration: 9223372036854775807ns\nparams:\n  service: \"exp(mean: 1s)\"\n"
        + "  arrival_rate: 0.5/s\n",
      key: "duration"),
    Example(name: "alias-bomb", text: aliasBomb, key: ""),
    Example(name: "sweep-of-ten-million-points", text: hugeSweep, key: "sweep"),
  ]

  /// Nested anchors, each level ten aliases of the one before: 10^9 scalars once expanded.
  static let aliasBomb: String = {
    var lines = ["name: x", "model: queueing", "duration: 1m", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in 1...8 {
      lines.append(
        "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]")
    }
    lines.append("params: {servers: *a8}")
    return lines.joined(separator: "\n") + "\n"
  }()

  /// Five swept keys of 25 values: 9,765,625 points.
  static let hugeSweep: String = {
    var text =
      "name: x\nmodel: queueing\nduration: 1m\nparams: {service: \"exp(mean: 1s)\", arrival_rate: 0.5/s}\nsweep:\n"
    let values = Array(1...25)
    text += "  params.servers: [" + values.map { "\($0)" }.joined(separator: ", ") + "]\n"
    text += "  params.capacity: [" + values.map { "\(100 + $0)" }.joined(separator: ", ") + "]\n"
    text += "  params.arrival_rate: [" + values.map { "\($0)/h" }.joined(separator: ", ") + "]\n"
    text += "  warmup: [" + values.map { "\($0)s" }.joined(separator: ", ") + "]\n"
    text += "  duration: [" + values.map { "\($0)h" }.joined(separator: ", ") + "]\n"
    return text
  }()

  @Test(arguments: examples)
  func validateAnswersWithOneLocatedLineInBoundedMemory(_ example: Example) throws {
    let path = writeConfig(example.text, in: scratchDirectory("hardening-\(example.name)"))
    let result = runLimited(bdsimBinary().path, ["validate", path], memoryKB: 4_000_000, seconds: 60)
    #expect(
      result.signal == nil && !result.killed,
      "\(example.name): bdsim died of signal \(result.status): \(result.stderr.prefix(300))")
    #expect(
      result.status == 2, "\(example.name): exit status \(result.status), expected 2: \(result.stderr.prefix(300))")
    #expect(result.stdout.isEmpty, "\(example.name): wrote to stdout: \(result.stdout.prefix(300))")
    let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(
      lines.count == 2 && lines[1].isEmpty, "\(example.name): stderr is not one line: \(result.stderr.prefix(600))")
    let located = try Regex("^\(NSRegularExpression.escapedPattern(for: path)):[0-9]+:[0-9]+: error: ")
    #expect(
      result.stderr.firstMatch(of: located) != nil, "\(example.name): not FILE:LINE:COL: error: \(result.stderr)")
    if !example.key.isEmpty {
      #expect(
        result.stderr.contains("at \(example.key)"), "\(example.name): expected key \(example.key): \(result.stderr)")
    }
    #expect(
      result.maxResidentKB < 200_000, "\(example.name): validate peaked at \(result.maxResidentKB / 1000) MB")
    #expect(result.seconds < 10, "\(example.name): validate took \(result.seconds) s")
  }

  /// A fault after the end of the run is legal (a sweep over the duration can put it there) but
  /// never happens: `validate` accepts it and says so with a located warning.
  @Test func aFaultAfterTheEndIsALocatedWarning() throws {
    let text =
      "name: x\nmodel: transfer\nduration: 1h\nfaults:\n  - {at: 2h, host: rack1-host1, for: 5m}\n"
    let path = writeConfig(text, in: scratchDirectory("hardening-fault-after-end"))
    let result = runLimited(bdsimBinary().path, ["validate", path], memoryKB: 4_000_000, seconds: 60)
    #expect(result.signal == nil && !result.killed && result.status == 0, "status \(result.status): \(result.stderr)")
    #expect(result.stdout.contains("OK"), "\(result.stdout)")
    let warning = try Regex("^\(NSRegularExpression.escapedPattern(for: path)):5:[0-9]+: warning: ")
    #expect(result.stderr.firstMatch(of: warning) != nil, "expected a located warning at line 5: \(result.stderr)")
    #expect(result.stderr.contains("never happens"), "\(result.stderr)")
  }
}
