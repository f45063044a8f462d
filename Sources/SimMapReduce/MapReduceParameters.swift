import SimHDFS
import SimKernel
import SimModel
import SimPlatform

/// A MapReduce job over the HDFS model: its input (files in HDFS), its costs per byte, the
/// cluster's task slots, and Hadoop's parameter names and defaults where they exist.
public struct MapReduceParameters: Sendable, Equatable {
  /// What a job does to its bytes: CPU time per input byte in map and reduce (one core), and how
  /// much each stage emits per byte it takes in.
  public struct Costs: Sendable, Equatable {
    public var mapCost: Double  // seconds of one core per input byte
    public var mapOutputRatio: Double
    public var combinerRatio: Double
    public var reduceCost: Double
    public var reduceOutputRatio: Double

    /// Named jobs: sort (TeraSort: everything moves), grep (only the matches leave the maps) and
    /// word count (a combiner folds (word, 1) pairs). grep's output ratio is Dean and Ghemawat's
    /// (OSDI 2004, section 5.2): a rare pattern matched in 92,337 of 10^10 100-byte records, so
    /// about 9.2e-6 of the input reaches its single reduce.
    public static let presets: [String: Costs] = [
      "sort": Costs(mapCost: 5e-9, mapOutputRatio: 1, combinerRatio: 1, reduceCost: 5e-9, reduceOutputRatio: 1),
      "grep": Costs(
        mapCost: 2e-9, mapOutputRatio: 92_337.0 / 1e10, combinerRatio: 1, reduceCost: 1e-9, reduceOutputRatio: 1),
      "wordcount": Costs(
        mapCost: 20e-9, mapOutputRatio: 1.5, combinerRatio: 0.05, reduceCost: 10e-9, reduceOutputRatio: 1),
    ]
  }

  /// The HDFS the job reads from and writes to (its input preloaded as files).
  public var hdfs: HDFSParameters
  public var job = "sort"
  public var costs = Costs.presets["sort"]!
  public var inputSize = 10.0 * 1_073_741_824
  public var inputFileSize = 1_073_741_824.0
  public var outputReplication = 3
  public var reduces = 16
  public var mapSlots = 8
  public var reduceSlots = 4
  public var jobStartup = SimTime.seconds(5)
  public var taskLaunch = SimTime.seconds(1)
  public var localityWait = SimTime.seconds(3)
  public var slowstart = 0.05
  public var sortBuffer = 104_857_600.0
  public var reduceMemory = 1_073_741_824.0
  /// The page cache each host has for the job's files (map outputs, spills, merges): what its
  /// memory holds besides the task containers.
  public var pageCache = 0.0
  /// A reduce fetches the map outputs that are new at most this often (one aggregated fetch).
  public var shufflePoll = SimTime.seconds(1)
  public var maxAttempts = 4
  public var speculative = true
  /// Which backup rule: Hadoop's speculator (progress-rate estimates), or Dean and Ghemawat's
  /// (backups of every remaining in-progress task once the operation is close to completion).
  public enum Speculation: String, Sendable, Equatable {
    case hadoop
    case endOfPhase = "end_of_phase"
  }
  public var speculation = Speculation.hadoop
  /// Hadoop's DefaultSpeculator (mapreduce.job.speculative.*): at most max(minimum, capTotal x
  /// tasks, capRunning x running tasks) backups of a kind at once; a scan every
  /// `retryAfterNoSpeculate`, or `retryAfterSpeculate` after one that launched a backup.
  public var speculativeCapRunning = 0.1
  public var speculativeCapTotal = 0.01
  public var speculativeMinimumAllowed = 10
  public var speculativeRetryAfterNoSpeculate = SimTime.seconds(1)
  public var speculativeRetryAfterSpeculate = SimTime.seconds(15)
  /// Worker processes killed (their tasks and map outputs lost, their host and its disks still
  /// up for HDFS), each group restarted after its `restart`.
  public struct WorkerKill: Sendable, Equatable {
    public var at: SimTime
    public var workers: Int
    public var restart: SimTime?
  }
  public var workerKills: [WorkerKill] = []
  /// At most this many `worker_kills` entries: each is an event and a scan of the attempts, and a
  /// fault schedule of more is better written as fewer, larger kills.
  public static let maxWorkerKills = 10_000
  /// Stragglers: this fraction of the worker hosts (the first ones) computes and writes
  /// `slowFactor` times slower.
  public var slowHosts = 0.0
  public var slowFactor = 5.0

  static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> MapReduceParameters {
    let job = try HDFSJobInput.decode(&reader, input: input, describing: "the job's input")
    var p = MapReduceParameters(hdfs: job.hdfs)
    (p.inputSize, p.inputFileSize, p.slowHosts, p.slowFactor) = (
      job.inputSize, job.inputFileSize, job.slowHosts, job.slowFactor
    )
    try p.decodeJob(&reader, defaultJob: "sort")
    return p
  }

  /// The job itself (its costs, slots and Hadoop settings), given its HDFS: shared with the
  /// batch layer of a Lambda architecture.
  package mutating func decodeJob(_ reader: inout ConfigReader, defaultJob: String) throws(ConfigError) {
    var p = self
    p.outputReplication = try reader.int(
      "output_replication", default: hdfs.replication, range: 1...hdfs.datanodes,
      help: "replication of the output")
    p.job = try reader.choice(
      "job", ["sort", "grep", "wordcount", "custom"], default: defaultJob,
      help: "a named job, or custom (the costs below)")
    let preset = Costs.presets[p.job] ?? Costs.presets[defaultJob]!
    p.costs.mapCost = try reader.duration(
      "map_cost", default: SimTime(seconds: preset.mapCost), help: "CPU time per input byte in a map (one core)"
    ).seconds
    p.costs.mapOutputRatio = try reader.quantity(
      "map_output_ratio", .number, default: preset.mapOutputRatio, help: "map output bytes per input byte")
    p.costs.combinerRatio = try reader.quantity(
      "combiner_ratio", .number, default: preset.combinerRatio,
      help: "what a combiner keeps of the map output (1: none)")
    p.costs.reduceCost = try reader.duration(
      "reduce_cost", default: SimTime(seconds: preset.reduceCost), help: "CPU time per shuffled byte in a reduce"
    ).seconds
    p.costs.reduceOutputRatio = try reader.quantity(
      "reduce_output_ratio", .number, default: preset.reduceOutputRatio, help: "output bytes per shuffled byte")
    if p.job != "custom", p.costs != preset {
      throw reader.error("job", "job '\(p.job)' fixes its costs", hint: "use job: custom to set them")
    }
    for (key, value) in [
      ("map_output_ratio", p.costs.mapOutputRatio), ("combiner_ratio", p.costs.combinerRatio),
      ("reduce_output_ratio", p.costs.reduceOutputRatio),
    ] where value < 0 {
      throw reader.error(key, "\(key) must be >= 0")
    }
    p.reduces = try reader.int(
      "reduces", default: p.job == "grep" ? 1 : 16, range: 1...1_000_000,
      help: "mapreduce.job.reduces (grep: 1, as in Dean and Ghemawat's grep)")
    p.mapSlots = try reader.int(
      "map_slots", default: hdfs.platform.cores, range: 1...10_000, help: "map containers per host")
    p.reduceSlots = try reader.int(
      "reduce_slots", default: max(1, hdfs.platform.cores / 2), range: 1...10_000,
      help: "reduce containers per host")
    p.jobStartup = try reader.duration(
      "job_startup", default: .seconds(5), help: "submitting the job and starting its ApplicationMaster")
    p.taskLaunch = try reader.duration("task_launch", default: .seconds(1), help: "starting a task's container (JVM)")
    p.localityWait = try reader.duration(
      "locality_wait", default: .seconds(3), help: "how long a slot waits for a node-local map (then rack, then any)")
    p.slowstart = try reader.quantity(
      "slowstart", .number, default: 0.05, help: "mapreduce.job.reduce.slowstart.completedmaps")
    guard (0...1).contains(p.slowstart) else { throw reader.error("slowstart", "slowstart must be in 0...1") }
    p.sortBuffer = try reader.quantity(
      "io_sort_mb", .size, default: 104_857_600,
      help: "mapreduce.task.io.sort.mb: map output beyond it spills and merges")
    p.reduceMemory = try reader.quantity(
      "reduce_memory", .size, default: 1_073_741_824, help: "a reduce's shuffle memory: beyond it, merge on disk")
    // The kernel caches files in whatever memory the containers leave: by default every slot's
    // container takes mapreduce.{map,reduce}.memory.mb (1 GiB each).
    let memory = hdfs.platform.memory
    let containers = Double(p.mapSlots + p.reduceSlots) * 1_073_741_824
    p.pageCache = try reader.quantity(
      "page_cache", .size, default: max(0, memory - containers),
      help:
        "page cache per host for map outputs, spills and merges (a map output read back while cached costs no disk"
        + " read); default: memory less 1 GiB per map and reduce slot")
    guard (0...memory).contains(p.pageCache) else {
      throw reader.error(
        "page_cache", "page_cache must be between 0 and the host's memory (platform.memory)",
        hint: "0 reads every map output back from disk")
    }
    p.shufflePoll = try reader.period(
      "shuffle_poll_interval", default: .seconds(1), help: "how often a reduce fetches the map outputs that are new")
    p.maxAttempts = try reader.int(
      "max_attempts", default: 4, range: 1...100, help: "mapreduce.map.maxattempts / reduce.maxattempts")
    p.speculative = try reader.bool(
      "speculative", default: true, help: "mapreduce.map.speculative / reduce.speculative: backup tasks")
    p.speculation = Speculation(
      rawValue: try reader.choice(
        "speculation", ["hadoop", "end_of_phase"], default: "hadoop",
        help:
          "hadoop: DefaultSpeculator, a backup for the task a new attempt would beat; end_of_phase: Dean and Ghemawat's, backups of every remaining task once they fit the allowance"
      ))!
    for (key, defaultValue, help) in [
      (
        "speculative_cap_running_tasks", 0.1,
        "mapreduce.job.speculative.speculative-cap-running-tasks: backups at once per running task of a kind"
      ),
      (
        "speculative_cap_total_tasks", 0.01,
        "mapreduce.job.speculative.speculative-cap-total-tasks: backups at once per task of a kind"
      ),
    ] {
      let value = try reader.double(key, default: defaultValue, help: help)
      guard (0...1).contains(value) else {
        throw reader.error(
          key, "\(key) must be in 0...1, got \(Quantity.shortest(value))",
          hint: "a fraction of the tasks of a kind (Hadoop's default: \(Quantity.shortest(defaultValue)))")
      }
      if key == "speculative_cap_running_tasks" {
        p.speculativeCapRunning = value
      } else {
        p.speculativeCapTotal = value
      }
    }
    p.speculativeMinimumAllowed = try reader.int(
      "speculative_minimum_allowed_tasks", default: 10,
      help: "mapreduce.job.speculative.minimum-allowed-tasks: backups of a kind allowed at once, at least")
    guard (0...HDFSJobInput.maxBlocks).contains(p.speculativeMinimumAllowed) else {
      throw reader.error(
        "speculative_minimum_allowed_tasks",
        "speculative_minimum_allowed_tasks must be in 0...1,000,000, got \(p.speculativeMinimumAllowed)",
        hint: "a count of backup tasks; a job has at most 1,000,000 maps (Hadoop's default: 10)")
    }
    p.speculativeRetryAfterNoSpeculate = try reader.period(
      "speculative_retry_after_no_speculate", default: .seconds(1),
      help: "mapreduce.job.speculative.retry-after-no-speculate: the next scan after one that launched nothing")
    p.speculativeRetryAfterSpeculate = try reader.period(
      "speculative_retry_after_speculate", default: .seconds(15),
      help: "mapreduce.job.speculative.retry-after-speculate: the next scan after one that launched a backup")
    p.workerKills = []
    let workerCount = hdfs.datanodes
    let kills = try reader.list(
      "worker_kills", help: "worker processes killed: list of {at, workers, restart} (restart absent: never)")
    guard kills.count <= Self.maxWorkerKills else {
      throw reader.error(
        "worker_kills", "\(kills.count) worker_kills entries, more than the model's limit of 10,000",
        hint: "merge kills at the same time into one entry (workers: N)")
    }
    for (i, node) in kills.enumerated() {
      var item = try ConfigReader(node, path: reader.keyPath("worker_kills.\(i)"))
      let at = try item.duration("at", help: "when, after the job's submission")
      let workers = try item.int("workers", help: "how many worker processes (chosen at random; 0: none, for a sweep)")
      guard (0...workerCount).contains(workers) else {
        throw item.error(
          "workers", "workers must be in 0...\(workerCount) (the cluster's workers), got \(workers)",
          hint: "give 0 to \(workerCount): every host but the NameNode's runs one worker process")
      }
      let restart =
        item.has("restart")
        ? try item.duration("restart", help: "after how long a new one starts (absent: never)") : nil
      try item.finish()
      p.workerKills.append(WorkerKill(at: at, workers: workers, restart: restart))
    }
    self = p
  }
}
