import Foundation
import SimKernel
import SimModel
import SimPlatform
import SimQueueing
import Testing

@testable import SimShards

/// 8 hosts on one rack: shards on the first, clients on the rest.
func shardsParameters(_ scheme: Partitioning = .hash, shards: Int = 4) -> ShardsParameters {
  var spec = PlatformSpec()
  spec.racks = 1
  spec.hostsPerRack = 8
  var p = ShardsParameters(platform: spec)
  p.partitioning = scheme
  p.shards = shards
  p.keys = 20_000
  return p
}

func runShards(_ p: ShardsParameters, seed: UInt64 = 1, seconds: Int64 = 10) throws -> Metrics {
  try ShardsModel.run(p, context: RunContext(duration: .seconds(seconds), streams: RandomStreams(experimentSeed: seed)))
    .metrics
}

@Suite struct ShardsTests {
  /// mod N keeps a key iff h mod N == h mod (N+1): exactly those keys move, about N/(N+1) of them.
  @Test(arguments: [2, 4, 7])
  func modNMovesTheKeysWhoseResidueChanges(n: Int) {
    let keys = 50_000
    var map = ShardMap(
      scheme: .hash, keys: keys, shards: n, slots: n + 1, vnodes: 1, tokenStream: RandomStream(seed: 1))
    let before = map.owners()
    map.add(slot: Int32(n))
    let after = map.owners()
    var moved = 0
    var expected = 0
    for k in 0..<keys {
      if before[k] != after[k] { moved += 1 }
      let h = StableHash.splitMix64(UInt64(k))
      if h % UInt64(n) != h % UInt64(n + 1) { expected += 1 }
    }
    #expect(moved == expected)
    let p = ShardsTheory.movedFraction(.hash, shards: n, adding: true)!
    let sd = (p * (1 - p) / Double(keys)).squareRoot()
    #expect(abs(Double(moved) / Double(keys) - p) < 4 * sd, "N=\(n): \(moved) of \(keys)")
  }

  /// A ring with V random tokens per shard: the new shard's share of the ring is the sum of V of
  /// (N+1)V uniform spacings, Beta(V, NV), mean exactly 1/(N+1), variance q(1-q)/(M+1) with
  /// q = 1/(N+1), M = (N+1)V; keys add q(1-q)/K. The mean over 40 rings is within 4 standard
  /// errors. Only keys going to the new shard move; removing it moves exactly them back.
  @Test(arguments: [3, 9])
  func consistentHashingMovesOneOverNPlusOne(n: Int) {
    let keys = 10_000
    let vnodes = 16
    let rings = 40
    var sum = 0.0
    for seed in 0..<rings {
      var map = ShardMap(
        scheme: .consistent, keys: keys, shards: n, slots: n + 1, vnodes: vnodes,
        tokenStream: RandomStream(seed: UInt64(seed) + 100))
      let before = map.owners()
      map.add(slot: Int32(n))
      let after = map.owners()
      var moved = 0
      var elsewhere = 0
      for k in 0..<keys where before[k] != after[k] {
        moved += 1
        if after[k] != Int32(n) { elsewhere += 1 }
      }
      #expect(elsewhere == 0)
      _ = map.removeLast()
      #expect(map.owners() == before)
      sum += Double(moved) / Double(keys)
    }
    let q = 1 / Double(n + 1)
    let m = Double((n + 1) * vnodes)
    let variance = q * (1 - q) / (m + 1) + q * (1 - q) / Double(keys)
    let mean = sum / Double(rings)
    #expect(abs(mean - q) < 4 * (variance / Double(rings)).squareRoot(), "N=\(n): mean \(mean) vs \(q)")
  }

  /// Uniform keys on hash shards, Poisson arrivals, exponential service, no network latency:
  /// each shard is an M/M/c queue with its keys' share of the rate.
  @Test func hashShardsAreMMcQueues() throws {
    var p = shardsParameters(.hash)
    p.platform.hostLinkLatency = .zero
    p.platform.uplinkLatency = .zero
    p.threads = 2
    p.rate = 5600
    let m = try runShards(p, seconds: 20)
    var keysOn = [Double](repeating: 0, count: p.shards)
    let map = ShardMap(
      scheme: .hash, keys: p.keys, shards: p.shards, slots: p.shards, vnodes: 1, tokenStream: RandomStream(seed: 1))
    for owner in map.owners() { keysOn[Int(owner)] += 1 }
    var expected = 0.0
    for count in keysOn {
      let share = count / Double(p.keys)
      expected += share * (try QueueingTheory.mmcMeanResponse(lambda: p.rate * share, mu: 1000, servers: 2))
    }
    let mean = m["shards.latency_mean"]!
    #expect(abs(mean - expected) / expected < 0.03, "\(mean) vs M/M/2 \(expected)")
    #expect(m["shards.availability"] == 1)
  }

  /// Range partitioning with size and load splits, a shard added and one removed: every key is
  /// on exactly one shard of the map, the serving owners agree with the map once the moves are
  /// done, and every byte moved is a moved key's value.
  @Test func rangeSplitsKeepEveryKeyOnOneShard() throws {
    var p = shardsParameters(.range, shards: 3)
    p.useHotsetPopularity()
    p.splitSize = 20_000_000  // 20k keys x 4 KiB = 82 MB over 3 ranges: each splits by size
    p.splitLoad = 800
    p.splitCheckInterval = .seconds(1)
    p.addShard = [.seconds(4)]
    p.removeShard = [.seconds(8)]
    p.rate = 4000
    p.streamThroughput = nil
    let simulator = Simulator()
    let platform = Platform(spec: p.platform, simulator: simulator)
    let context = RunContext(duration: .seconds(12), streams: RandomStreams(experimentSeed: 3))
    let store = ShardedStore(parameters: p, platform: platform, simulator: simulator, context: context)
    simulator.run(until: .milliseconds(12_500))
    #expect(store.splits > 0)
    #expect(store.rebalanceStart == nil)
    let map = store.map
    #expect(map.rangeStart.first == 0)
    #expect(zip(map.rangeStart, map.rangeStart.dropFirst()).allSatisfy { $0 < $1 })
    #expect(map.rangeShard.allSatisfy { map.active.contains($0) })
    #expect(store.owner == map.owners())
    #expect(store.moving.allSatisfy { $0 == -1 })
    #expect(store.keysMoved > 0)
    #expect(store.bytesMoved == Double(store.keysMoved) * 4096)
    #expect(store.keysMoveFailed == 0)
  }

  /// One stream (a range split off to the added shard) at the throttle takes bytes / throttle.
  @Test func aRebalanceTakesItsBytesOverTheThrottle() throws {
    var p = shardsParameters(.range, shards: 2)
    p.addShard = [.seconds(2)]
    p.streamThroughput = 24 * 1024 * 1024
    let m = try runShards(p, seconds: 10)
    let bytes = m["shards.bytes_moved"]!
    #expect(m["shards.rebalances"] == 1)
    #expect(bytes == m["shards.keys_moved"]! * 4096)
    #expect(abs(m["shards.rebalance_seconds"]! - bytes / p.streamThroughput!) < 0.001)
  }

  /// Shard 0's host down from 4 s on: with one copy its keys' requests fail (its share of the
  /// requests made while it is down); with two, its successor serves them.
  @Test func aFailedHostLosesItsShareUnlessReplicated() throws {
    var p = shardsParameters(.hash)
    p.faults = [.hostCrash(at: .seconds(4), host: 0, duration: nil)]
    p.rate = 4000
    let healthy = try runShards(shardsParameters(.hash), seconds: 10)
    #expect(healthy["shards.availability"] == 1)
    let single = try runShards(p, seconds: 10)
    var share = 0.0
    let map = ShardMap(
      scheme: .hash, keys: p.keys, shards: p.shards, slots: p.shards, vnodes: 1, tokenStream: RandomStream(seed: 1))
    for owner in map.owners() where owner == 0 { share += 1 / Double(p.keys) }
    let expected = 1 - share * 0.6
    let n = single["shards.requests"]!
    #expect(abs(single["shards.availability"]! - expected) < 4 * (share * 0.6 / n).squareRoot() + 0.002)
    p.replication = 2
    let replicated = try runShards(p, seconds: 10)
    #expect(replicated["shards.availability"]! > 0.9995)
    #expect(replicated["shards.availability"]! <= 1)
  }

  @Test func theSameSeedGivesTheSameShardedRun() throws {
    var p = shardsParameters(.consistent)
    p.popularity = .zipf
    p.addShard = [.seconds(1)]
    let a = try runShards(p, seconds: 3)
    let b = try runShards(p, seconds: 3)
    #expect(a == b)
    #expect(a["theory.moved_fraction"] == 0.2)
  }

  static func list(_ items: [String]) -> ConfigNode { ConfigNode(.sequence(items.map { .scalar($0) })) }

  @Test(arguments: [
    ([("replication", ConfigNode.scalar("5"))], "params.replication"),
    ([("add_shard", list(["1s", "2s", "3s", "4s"]))], "params.add_shard"),
    ([("add_shard", list(["2s", "1s"]))], "params.add_shard.1"),
    ([("shards", .scalar("2")), ("replication", .scalar("2")), ("remove_shard", list(["1s"]))], "params.remove_shard"),
    ([("keys", .scalar("2"))], "params.keys"),
    ([("partitioning", .scalar("ring"))], "params.partitioning"),
    ([("split_check_interval", .scalar("1ms"))], "params.split_check_interval"),
  ])
  func badParametersGetLocatedErrors(c: ([(String, ConfigNode)], String)) throws {
    let platform = ConfigNode.mapping([("racks", .scalar("1")), ("hosts_per_rack", .scalar("8"))])
    let model = AnyModel(ShardsModel.self)
    #expect(
      performing: {
        _ = try model.decode(.mapping(c.0), input: ModelInput(platform: platform))
      }, throws: { ($0 as? ConfigError)?.keyPath == c.1 })
  }
}

extension ShardsParameters {
  fileprivate mutating func useHotsetPopularity() { popularity = .hotset }
}
