import SimHDFS
import SimKernel
import SimMapReduce
import SimModel
import SimPlatform
import SimSpark
import SimStream

/// `model: lambda-kappa`: one workload through the Lambda architecture (batch + speed +
/// serving layers) or the Kappa architecture (one stream path, reprocessing by replay).
public struct LambdaKappaParameters: Sendable, Equatable {
  public enum Architecture: String, Sendable, Equatable { case lambda, kappa }
  public enum BatchEngine: String, Sendable, Equatable { case mapreduce, spark }

  public var stream: StreamParameters
  public var architecture = Architecture.lambda
  /// Lambda: the speed layer runs (false: batch views alone).
  public var speedLayer = true
  /// The batch layer's job over the master dataset (HDFS on every host but the NameNode's): a
  /// MapReduce job, or a one-pass Spark application.
  public var batchEngine = BatchEngine.mapreduce
  public var batch: MapReduceParameters
  public var spark: SparkParameters
  public var batchPeriod = SimTime.seconds(900)
  /// The loader (Camus, a Kafka Connect HDFS sink) writes what the log received this often.
  public var loaderInterval = SimTime.seconds(60)
  /// Batch runs (1 the first) that fail: their view is never published.
  public var failRuns: [Int] = []
  /// Kappa: when a second version of the job starts replaying the retained log, and its
  /// parallelism.
  public var reprocessAt: SimTime?
  public var reprocessParallelism = 4

  static func decode(_ reader: inout ConfigReader, input: ModelInput) throws(ConfigError) -> LambdaKappaParameters {
    let platform = try PlatformSpec.decode(input)
    let faults = try FaultSpec.decode(input.faults, spec: platform, baseDirectory: input.baseDirectory)
    var stream = StreamParameters(platform: platform, faults: faults)
    let datanodes = Array(1..<Int32(platform.hostNames.count))
    stream.hosts = try StreamParameters.decodeHosts(&reader, platform: platform, reserved: 1, storage: datanodes)
    var hdfs = HDFSParameters(platform: platform, faults: faults)
    hdfs.datanodes = datanodes.count
    hdfs.workload = .none
    var p = LambdaKappaParameters(
      stream: stream, batch: MapReduceParameters(hdfs: hdfs), spark: SparkParameters(hdfs: hdfs))
    p.architecture = Architecture(
      rawValue: try reader.choice(
        "architecture", ["lambda", "kappa"], default: "lambda",
        help: "lambda: batch, speed and serving layers; kappa: the stream path alone, reprocessing by replay"))!
    try p.stream.decodeParts(&reader, input: input)
    guard p.stream.job.isTumbling else {
      throw reader.error(
        "job", "the serving layer adds up tumbling windows: job.slide must equal job.window", hint: "drop job.slide")
    }
    guard p.stream.events.history.nanoseconds % p.stream.job.windowSize.nanoseconds == 0 else {
      throw reader.error(
        "events", "events.history must be a whole number of windows (job.window)", hint: "e.g. history: 24h")
    }

    var b = try reader.mapping("batch", help: "lambda: the batch layer (period, loader, and its job)")
    p.batchPeriod = try b.period("period", default: .seconds(900), help: "a batch run starts this often")
    p.loaderInterval = try b.period(
      "loader_interval", default: .seconds(60), help: "the log's new records go to HDFS this often")
    p.speedLayer = try b.bool("speed_layer", default: true, help: "false: answers come from batch views alone")
    for (i, node) in try b.list("fail_runs", help: "batch runs (1 the first) whose view is never published")
      .enumerated()
    {
      guard let text = node.scalarText, let run = Int(text), run >= 1 else {
        throw ConfigError(
          location: node.location, keyPath: b.keyPath("fail_runs.\(i)"), message: "expected a run number from 1",
          hint: "fail_runs: [2, 3]")
      }
      p.failRuns.append(run)
    }
    p.batch.hdfs.blockSize = try b.quantity("blocksize", .size, default: 134_217_728, help: "dfs.blocksize")
    guard p.batch.hdfs.blockSize >= 1_048_576 else { throw b.error("blocksize", "blocksize must be at least 1MiB") }
    p.batch.hdfs.replication = try b.int(
      "replication", default: min(3, datanodes.count), range: 1...datanodes.count, help: "dfs.replication")
    let history = p.stream.events.rate * p.stream.events.history.seconds * p.stream.events.size
    p.batch.inputFileSize = try b.quantity(
      "history_file_size", .size, default: 1_073_741_824, help: "the files the history is kept in")
    guard p.batch.inputFileSize > 0 else { throw b.error("history_file_size", "history_file_size must be > 0") }
    p.batch.hdfs.preloadFiles = try HDFSJobInput.files(
      holding: history, ofSize: p.batch.inputFileSize, blockSize: p.batch.hdfs.blockSize, reader: reader,
      key: "events", what: "the history (events.rate x events.history x events.size)",
      hint: "use a larger batch.blocksize, a shorter events.history or a lower events.rate")
    p.batch.hdfs.preloadFileSize = .constant(history > 0 ? history / Double(p.batch.hdfs.preloadFiles) : 1)
    p.batch.inputSize = history
    p.batchEngine = BatchEngine(
      rawValue: try b.choice(
        "engine", ["mapreduce", "spark"], default: "mapreduce",
        help: "what recomputes the view: a MapReduce job (settings under mapreduce) or Spark (under spark)"))!
    var mr = try b.mapping("mapreduce", help: "the MapReduce job (the mapreduce model's parameters)")
    try p.batch.decodeJob(&mr, defaultJob: "wordcount")
    try mr.finish()
    p.spark.hdfs = p.batch.hdfs
    (p.spark.inputSize, p.spark.inputFileSize) = (p.batch.inputSize, p.batch.inputFileSize)
    var sp = try b.mapping("spark", help: "the Spark application, one pass (the spark model's parameters)")
    try p.spark.decodeJob(&sp, onePass: true)
    try sp.finish()
    try b.finish()

    var r = try reader.mapping("reprocessing", help: "kappa: a new job version replays the retained log")
    let at = try r.duration("at", default: .zero, help: "when the new version starts (0: never)")
    guard at >= .zero else { throw r.error("at", "at must be >= 0") }
    p.reprocessAt = at > .zero ? at : nil
    p.reprocessParallelism = try r.int(
      "parallelism", default: p.stream.job.parallelism, range: 1...4096, help: "the new version's parallelism")
    try r.finish()
    return p
  }
}
