import SimKernel
import SimModel
import SimPlatform
import Testing

@testable import SimTransfer

/// `sizes: varied` on a shuffle: per-pair sizes by formula, on a SimGrid-style cluster.
@Suite struct TransferSizesTests {
  func run(_ params: [(String, String)], platform: [(String, String)]) throws -> Metrics {
    var reader = try ConfigReader(.mapping(params.map { ($0.0, ConfigNode(.scalar($0.1))) }), path: "params")
    let parameters = try TransferModel.decode(
      &reader, input: ModelInput(platform: .mapping(platform.map { ($0.0, ConfigNode(.scalar($0.1))) }), faults: nil))
    try reader.finish()
    return try TransferModel.run(
      parameters, context: RunContext(duration: .seconds(3600), streams: RandomStreams(experimentSeed: 1))
    ).metrics
  }

  let star: [(String, String)] = [
    ("topology", "cluster"), ("hosts_per_cabinet", "3"), ("host_link", "100MB/s"), ("host_link_latency", "0s"),
    ("backbone", "1PB/s"), ("backbone_latency", "0s"),
  ]

  @Test func variedSizesFollowTheFormula() {
    // (31 i + 17 j) mod 97: 0 -> 1: 17; 1 -> 0: 31; 2 -> 1: 79; 1 -> 2: 65; 2 -> 0: 62.
    #expect(TransferModel.variedSize(97e6, from: 0, to: 1) == 114e6)
    #expect(TransferModel.variedSize(97e6, from: 1, to: 0) == 128e6)
    #expect(TransferModel.variedSize(97e6, from: 2, to: 1) == 176e6)
    #expect(TransferModel.variedSize(97e6, from: 0, to: 0) == 97e6)
  }

  @Test func aVariedShuffleEndsWithTheBusiestHostLink() throws {
    // 3 hosts, 97 MB base: sizes 0->1 114, 0->2 (34) 131, 1->0 128, 1->2 (65) 162, 2->0 (62) 159,
    // 2->1 (79) 176 MB; 100 MB/s links, a backbone that never limits. Every link carries two
    // flows, so all run at 50 MB/s until 0->1 ends (2.28 s); the others stay at 50 (each still
    // shares a link with a flow at 50) through 1->0 (2.56 s) and 0->2 (2.62 s); then 1->2 runs
    // alone at 100 and ends at 2.93 s, 2->0 at 3.18 s, and 2->1, alone from then, at 3.35 s:
    // host 2's up link is busy throughout, 335 MB at 100 MB/s.
    let m = try run([("bytes", "97MB"), ("sizes", "varied")], platform: star)
    #expect(m["transfer.flows_finished"] == 6)
    #expect(m["platform.network_bytes"] == (114 + 131 + 128 + 162 + 159 + 176) * 1e6)
    #expect(abs(m["transfer.completion_time"]! - 3.35) < 1e-8)
    // Equal sizes: every host sends 2 x 97 MB at 100 MB/s: 1.94 s.
    let equal = try run([("bytes", "97MB")], platform: star)
    #expect(abs(equal["transfer.completion_time"]! - 1.94) < 1e-8)
  }
}
