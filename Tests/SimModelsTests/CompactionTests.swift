import SimKernel
import SimPlatform
import Testing

@testable import SimQuorum
@testable import SimStream

/// Memory flat in simulated time: what no reader can read again is dropped, and nothing read,
/// counted or answered changes.
@Suite struct CompactionTests {
  /// One stream job over the log for 100 s (1,000 events/s over 8 partitions), with or without
  /// a reader that holds the whole log: the sink's counts, the log and the job afterwards.
  func streamRun(holding: Bool) throws -> (sink: RecordingSink, log: EventLog, job: StreamJob) {
    let p = try streamParameters()
    let simulator = Simulator()
    let platform = Platform(spec: p.platform, simulator: simulator)
    let context = RunContext(duration: .seconds(100), streams: RandomStreams(experimentSeed: 3))
    let log = EventLog(
      events: p.events, log: p.log, hosts: p.hosts, bucket: p.job.windowSlide, platform: platform,
      simulator: simulator, context: context)
    if holding { log.floors.append { _ in 0 } }
    let job = StreamJob(
      parameters: p.job, name: "v1", view: 0, parallelism: 3, workers: p.hosts.workers, storage: p.hosts.storage,
      log: log, keys: p.events.keys, start: .live, startAt: .zero, platform: platform, simulator: simulator)
    let sink = RecordingSink()
    job.sink = sink
    log.appendListeners.append { job.appended($0) }
    withExtendedLifetime((platform, log, job)) { _ = simulator.run(until: .seconds(100)) }
    return (sink, log, job)
  }

  /// The job reads within a poll of the head, so the log keeps a few thousand records a
  /// partition instead of all ~12,500; no record is created or lost by dropping the rest, and
  /// the job's results are the same, window by window, as with the whole log kept.
  @Test func theLogDropsWhatItsReadersHaveRead() throws {
    let kept = try streamRun(holding: true)
    let compacted = try streamRun(holding: false)
    #expect(kept.log.compacted == 0)
    #expect(kept.log.partitions.allSatisfy { $0.dropped == 0 })
    // 100 s at 1,000 events/s: ~100,000 appended, all but the last few thousand dropped.
    let appended = compacted.log.appended
    #expect(appended > 95_000 && appended < 105_000, "\(appended) appended")
    #expect(compacted.log.compacted > appended - 8 * 2 * EventLog.compactionMinimum)
    var stored = 0
    for part in compacted.log.partitions {
      #expect(part.eventTimes.count < 2 * EventLog.compactionMinimum)
      #expect(part.keys.count == part.eventTimes.count && part.appendTimes.count == part.eventTimes.count)
      #expect(part.end == part.history + part.dropped + part.eventTimes.count)
      stored += part.eventTimes.count
    }
    // Counts in = counts out: every appended record is either dropped or still stored.
    #expect(compacted.log.compacted + stored == appended)
    #expect(kept.log.appended == appended)
    #expect(compacted.job.recordsProcessed == kept.job.recordsProcessed)
    #expect(compacted.job.recordsProcessed > appended - 1_000)
    #expect(compacted.sink.counts == kept.sink.counts)
    #expect(compacted.sink.fired == kept.sink.fired)
    #expect(compacted.job.recordLatency.percentile(99) == kept.job.recordLatency.percentile(99))
  }

  /// A job's floor is the lowest of its positions and its checkpoint's: a restart after a
  /// worker crash replays from the checkpoint (the log keeps it), and exactly-once stays exact.
  @Test func aRestartReplaysFromWhatTheLogKept() throws {
    var p = try streamParameters(faults: workerCrash)
    p.job.guarantee = .exactlyOnce
    let m = try runStream(p, seconds: 200)
    #expect(m["stream.failures"] == 1)
    #expect(m["serving.exact_fraction"] == 1)
    #expect(m["stream.duplicates"] == 0)
  }

  /// CP mode for 30 s: 400 writes/s over 16 Raft groups, ~750 entries a group, compacted in
  /// steps of 256 once every replica has committed them; the writes the dropped entries named
  /// are let go. The same run without compaction gives the same metrics.
  @Test func raftLogsCompactBelowWhatEveryReplicaCommitted() throws {
    func run(compacting: Bool) throws -> (store: QuorumStore, metrics: Metrics) {
      let p = quorumParameters(mode: .cp, n: 3, r: 2, w: 2)
      let simulator = Simulator()
      let platform = Platform(spec: p.platform, simulator: simulator)
      let context = RunContext(duration: .seconds(30), streams: RandomStreams(experimentSeed: 2))
      let store = QuorumStore(parameters: p, platform: platform, simulator: simulator, context: context)
      store.compactsLogs = compacting
      withExtendedLifetime((platform, store)) { _ = simulator.run(until: .seconds(30)) }
      return (store, store.metrics())
    }
    let compacted = try run(compacting: true)
    let kept = try run(compacting: false)
    #expect(compacted.metrics == kept.metrics)
    var entries = 0
    for group in compacted.store.raft {
      let base = group.replicas[0].log.base
      #expect(base >= QuorumStore.raftCompactionStep)
      for replica in group.replicas {
        #expect(replica.log.base == base)
        #expect(replica.commitIndex >= base)
        #expect(replica.log.count - base < 2 * QuorumStore.raftCompactionStep)
      }
      entries += group.replicas[0].log.count
    }
    // ~12,000 writes (and a no-op per group) in the logs; the same count either way.
    #expect(entries > 11_000 && entries < 13_000, "\(entries) entries")
    #expect(entries == kept.store.raft.reduce(0) { $0 + $1.replicas[0].log.count })
    #expect(kept.store.raft.allSatisfy { $0.replicas.allSatisfy { $0.log.base == 0 } })
    // Request slots: every write kept without compaction; with it, at most the entries of two
    // steps a group (the committed step not yet dropped and the uncommitted tail) and the
    // requests in flight (~2,000/s for a few milliseconds).
    #expect(kept.store.requests.count > 11_000)
    let bound = 16 * 2 * QuorumStore.raftCompactionStep + 500
    #expect(compacted.store.requests.count < bound, "\(compacted.store.requests.count) request slots")
  }
}
