import SimKernel
import SimModel
import SimPlatform

/// Bulk data movement on the platform: the network's own model (`model: transfer`).
public struct TransferParameters: Sendable, Equatable {
  public enum Workload: Sendable, Equatable {
    /// Every host sends `bytes` to every other host at time 0 (MapReduce's shuffle); with
    /// `varied`, host i sends host j `bytes x (1 + ((31 i + 17 j) mod 97) / 97)` (hosts from 0),
    /// from `bytes` to just under twice it, the per-pair sizes of the SimGrid baseline
    /// (Benchmarks/simgrid).
    case shuffle(bytes: Double, varied: Bool = false)
    /// `senders` hosts each send `bytes` to one `target` at time 0 (many-to-one incast).
    case incast(bytes: Double, target: Int32, senders: [Int32])
    /// An explicit list.
    case list([Transfer])
  }

  public struct Transfer: Sendable, Equatable {
    public var from: Int32
    public var to: Int32
    public var bytes: Double
    public var at: SimTime
  }

  public var platform: PlatformSpec
  public var faults: [FaultSpec]
  public var workload: Workload
}

public enum TransferModel: SimulationModel {
  public static let name = "transfer"
  public static let documentation: String? = "docs/models/transfer.md"
  public static let summary = "bulk transfers on the platform: all-to-all shuffle, many-to-one incast, or a list"
  public static let usesPlatform = true
  public static let headlineMetrics = [
    "transfer.completion_time", "transfer.flow_throughput_mean", "platform.utilisation.uplink", "transfer.flows_failed",
  ]
  public static let metrics: [MetricInfo] = [
    MetricInfo(
      ["transfer.flows", "transfer.flows_finished", "transfer.flows_failed"], .count, unit: "flows",
      "transfers started, finished and failed (after the warm-up); the run ends when every transfer has finished or"
        + " failed, or at the duration"),
    MetricInfo(
      ["transfer.completion_time"], .duration, "from the first start to the last finish (NaN if any did not finish)"),
    MetricInfo(
      ["transfer.flow_throughput_mean", "transfer.flow_throughput_p50", "transfer.flow_throughput_p99"], .rate,
      "bytes per second of each finished transfer, start to finish"),
  ]

  /// Bytes of one transfer at most: 2^53 (8 PiB), the largest count of bytes a Double holds
  /// exactly, so that what is left of a transfer is never rounded away.
  static let maxBytes = 9_007_199_254_740_992.0

  /// A varied shuffle's size from host `i` to host `j`: `bytes x (1 + ((31 i + 17 j) mod 97) / 97)`,
  /// computed in this order so that the C++ baseline computes the same doubles.
  static func variedSize(_ bytes: Double, from i: Int, to j: Int) -> Double {
    bytes * (1 + Double((i * 31 + j * 17) % 97) / 97)
  }

  /// `bytes` if within 0...``maxBytes``, else an error at `key`.
  /// The most flows an all-to-all shuffle may start (each a fluid activity alive from time 0):
  /// 10 million, about 3,160 hosts; 100,000 hosts would be 10^10 flows.
  static let maxShuffleFlows = 10_000_000

  static func checked(_ bytes: Double, _ reader: ConfigReader, _ key: String) throws(ConfigError) -> Double {
    guard bytes >= 0, bytes <= maxBytes else {
      throw reader.error(
        key, "\(Quantity.format(bytes, as: .size)) is outside the model's range of 0 to 8PiB per transfer",
        hint: "e.g. bytes: 128MiB")
    }
    return bytes
  }

  public static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> TransferParameters {
    let spec = try PlatformSpec.decode(input)
    let faults = try FaultSpec.decode(input.faults, spec: spec, baseDirectory: input.baseDirectory)
    let names = spec.hostNames
    func host(_ r: inout ConfigReader, _ key: String) throws(ConfigError) -> Int32 {
      try FaultSpec.host(&r, key, names: names)
    }
    let workload: TransferParameters.Workload
    switch try reader.choice("workload", ["shuffle", "incast", "list"], default: "shuffle", help: "which transfers") {
    case "shuffle":
      // Every ordered pair is a flow, all of them alive at once: N(N-1) must fit in memory.
      let flows = Double(names.count) * Double(names.count - 1)
      guard flows <= Double(maxShuffleFlows) else {
        throw reader.error(
          "workload",
          "a shuffle of \(names.count) hosts is \(Int(flows)) flows at once, more than the"
            + " \(maxShuffleFlows) a run may hold (about 3,160 hosts)",
          hint: "use fewer hosts, or an incast or a list of transfers")
      }
      let bytes = try checked(
        reader.quantity("bytes", .size, default: 128 * 1_048_576, help: "bytes each host sends each other host"),
        reader, "bytes")
      let varied =
        try reader.choice(
          "sizes", ["equal", "varied"], default: "equal",
          help: "equal: bytes to each pair; varied: bytes x (1 + ((31 i + 17 j) mod 97) / 97) from host i to host j")
        == "varied"
      // The largest varied size is bytes x 193/97, which must stay within the range of a transfer.
      if varied { _ = try checked(bytes * (1 + 96.0 / 97), reader, "bytes") }
      workload = .shuffle(bytes: bytes, varied: varied)
    case "incast":
      let bytes = try checked(
        reader.quantity("bytes", .size, default: 128 * 1_048_576, help: "bytes each sender sends"), reader, "bytes")
      let target = try host(&reader, "target")
      let count = try reader.int(
        "senders", default: names.count - 1, range: 1...max(1, names.count - 1),
        help: "how many hosts send (the first N others)")
      let senders = (0..<Int32(names.count)).filter { $0 != target }.prefix(count)
      workload = .incast(bytes: bytes, target: target, senders: Array(senders))
    default:
      var transfers: [TransferParameters.Transfer] = []
      for (i, node) in try reader.list("transfers", help: "list of {from, to, bytes, at}").enumerated() {
        var item = try ConfigReader(node, path: reader.keyPath("transfers.\(i)"))
        let from = try host(&item, "from")
        let to = try host(&item, "to")
        let bytes = try checked(item.quantity("bytes", .size), item, "bytes")
        let at = try item.duration("at", default: .zero)
        try item.finish()
        transfers.append(.init(from: from, to: to, bytes: bytes, at: at))
      }
      guard !transfers.isEmpty else { throw reader.error("transfers", "a list workload needs at least one transfer") }
      workload = .list(transfers)
    }
    return TransferParameters(platform: spec, faults: faults, workload: workload)
  }

  public static func run(_ parameters: TransferParameters, context: RunContext) throws(ValueError) -> RunOutput {
    try runOnPlatform(parameters.platform, faults: parameters.faults, context: context) { simulator, platform in
      TransferWorkload(parameters: parameters, platform: platform, simulator: simulator, warmup: context.warmup)
    }
  }
}

/// Starts the transfers and records how they end.
final class TransferWorkload: EventHandler, ActivityObserver, PlatformWorkload {
  let timeseries = TimeSeries()
  enum Kind: Int32 {
    case start = 0  // payload: index into `transfers`
    case endOfWarmup = 1
  }

  unowned let platform: Platform
  unowned let simulator: Simulator
  var transfers: [TransferParameters.Transfer] = []
  var startedAt: [SimTime] = []
  var me = EntityID(0)
  var started = 0
  var finished = 0
  var failed = 0
  var firstStart: SimTime?
  var lastFinish: SimTime?
  var throughput = RunningStatistics()
  var throughputs: [Double] = []
  var endedCount = 0

  init(parameters: TransferParameters, platform: Platform, simulator: Simulator, warmup: SimTime) {
    self.platform = platform
    self.simulator = simulator
    switch parameters.workload {
    case .shuffle(let bytes, let varied):
      let n = Int32(platform.hostCount)
      for from in 0..<n {
        for to in 0..<n where to != from {
          let size = varied ? TransferModel.variedSize(bytes, from: Int(from), to: Int(to)) : bytes
          transfers.append(.init(from: from, to: to, bytes: size, at: .zero))
        }
      }
    case .incast(let bytes, let target, let senders):
      transfers = senders.map { .init(from: $0, to: target, bytes: bytes, at: .zero) }
    case .list(let list):
      transfers = list
    }
    startedAt = Array(repeating: .zero, count: transfers.count)
    platform.assignRole("sender", hosts: transfers.map { HostID($0.from) })
    platform.assignRole("receiver", hosts: transfers.map { HostID($0.to) })
    me = simulator.register(self)
    for (i, transfer) in transfers.enumerated() {
      simulator.schedule(at: transfer.at, to: me, kind: Kind.start.rawValue, payload: Int64(i))
    }
    if warmup > .zero { simulator.schedule(at: warmup, to: me, kind: Kind.endOfWarmup.rawValue) }
  }

  func handle(_ event: Event, in simulator: Simulator) {
    switch Kind(rawValue: event.kind) {
    case .start:
      let i = Int(event.payload)
      let t = transfers[i]
      startedAt[i] = simulator.now
      started += 1
      if firstStart == nil { firstStart = simulator.now }
      platform.transfer(bytes: t.bytes, from: HostID(t.from), to: HostID(t.to), observer: self, tag: Int64(i))
    case .endOfWarmup:
      platform.resetStatistics()
      started = 0
      finished = 0
      failed = 0
      throughput.reset()
      throughputs.removeAll()
    case nil: preconditionFailure("unknown transfer event")
    }
  }

  /// The run ends when every transfer has ended (faults still to come change nothing).
  func ended(_ simulator: Simulator) {
    endedCount += 1
    if endedCount == transfers.count { simulator.stop() }
  }

  func activityFinished(_ activity: ActivityID, tag: Int64, in simulator: Simulator) {
    defer { ended(simulator) }
    finished += 1
    lastFinish = simulator.now
    let elapsed = (simulator.now - startedAt[Int(tag)]).seconds
    if elapsed > 0 {
      let rate = transfers[Int(tag)].bytes / elapsed
      throughput.add(rate)
      throughputs.append(rate)
    }
  }

  func activityFailed(_ activity: ActivityID, tag: Int64, reason: FailureReason, in simulator: Simulator) {
    defer { ended(simulator) }
    failed += 1
  }

  func metrics() -> Metrics {
    var m = Metrics()
    m.set("transfer.flows", Double(started))
    m.set("transfer.flows_finished", Double(finished))
    m.set("transfer.flows_failed", Double(failed))
    let complete = finished == transfers.count
    m.set("transfer.completion_time", complete ? ((lastFinish ?? .zero) - (firstStart ?? .zero)).seconds : .nan)
    let sorted = throughputs.sorted()
    // The empirical quantile: the smallest value with at least p of the values at or below it.
    func quantile(_ p: Double) -> Double {
      guard !sorted.isEmpty else { return .nan }
      let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
      return sorted[max(0, min(sorted.count - 1, rank))]
    }
    m.set("transfer.flow_throughput_mean", throughput.count > 0 ? throughput.mean : .nan)
    m.set("transfer.flow_throughput_p50", quantile(0.5))
    m.set("transfer.flow_throughput_p99", quantile(0.99))
    return m
  }
}
