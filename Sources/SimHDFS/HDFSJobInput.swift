import SimKernel
import SimModel
import SimPlatform

/// What a batch job (MapReduce, Spark) reads from config about its HDFS and its cluster: the
/// NameNode on the first host and a DataNode (and worker) on every other, the input preloaded as
/// files of `input_file_size` in `blocksize` blocks (a task each), and its stragglers.
package struct HDFSJobInput {
  package var hdfs: HDFSParameters
  package var inputSize: Double
  package var inputFileSize: Double
  package var slowHosts: Double
  package var slowFactor: Double

  package static func decode(_ reader: inout ConfigReader, input: ModelInput, describing what: String)
    throws(ConfigError)
    -> HDFSJobInput
  {
    let platform = try PlatformSpec.decode(input)
    var hdfs = HDFSParameters(
      platform: platform, faults: try FaultSpec.decode(input.faults, spec: platform, baseDirectory: input.baseDirectory)
    )
    hdfs.datanodes = max(1, platform.hostNames.count - 1)
    hdfs.workload = .none
    hdfs.blockSize = try reader.quantity(
      "blocksize", .size, default: 134_217_728, help: "dfs.blocksize: a task per block")
    guard hdfs.blockSize >= 1_048_576 else { throw reader.error("blocksize", "blocksize must be at least 1MiB") }
    hdfs.replication = try reader.int(
      "replication", default: min(3, hdfs.datanodes), range: 1...hdfs.datanodes, help: "dfs.replication of the input")
    let inputSize = try reader.quantity("input_size", .size, default: 10 * 1_073_741_824, help: what)
    let inputFileSize = try reader.quantity("input_file_size", .size, default: 1_073_741_824, help: "its files' size")
    guard inputSize > 0, inputFileSize > 0 else { throw reader.error("input_size", "input_size must be > 0") }
    hdfs.preloadFiles = try files(
      holding: inputSize, ofSize: inputFileSize, blockSize: hdfs.blockSize, reader: reader, key: "input_size",
      what: "input_size", hint: "use a larger blocksize or input_file_size, or a smaller input_size")
    hdfs.preloadFileSize = .constant(inputFileSize)
    let slowHosts = try reader.quantity(
      "slow_hosts", .number, default: 0, help: "fraction of worker hosts that are stragglers")
    guard (0...1).contains(slowHosts) else { throw reader.error("slow_hosts", "slow_hosts must be in 0...1") }
    let slowFactor = try reader.quantity("slow_factor", .number, default: 5, help: "how much slower a straggler is")
    guard slowFactor >= 1 else { throw reader.error("slow_factor", "slow_factor must be >= 1") }
    return HDFSJobInput(
      hdfs: hdfs, inputSize: inputSize, inputFileSize: inputFileSize, slowHosts: slowHosts, slowFactor: slowFactor)
  }

  /// Blocks a job's input (or a Lambda batch layer's history) may preload, at most: a map task
  /// each, and a NameNode object, a placement and a task record in memory for each. A million
  /// 128 MiB blocks are 128 TiB.
  package static let maxBlocks = 1_000_000

  /// How many files of `fileSize` hold `total` bytes, checked against ``maxBlocks``: the error
  /// is at `key`, names the quantity as `what` and says the fix in `hint`.
  package static func files(
    holding total: Double, ofSize fileSize: Double, blockSize: Double, reader: ConfigReader, key: String,
    what: String, hint: String
  ) throws(ConfigError) -> Int {
    let files = (total / fileSize).rounded(.up)
    let blocks = files * (min(fileSize, total) / blockSize).rounded(.up)
    guard blocks.isFinite, blocks <= Double(maxBlocks) else {
      throw reader.error(
        key,
        "\(what) of \(Quantity.format(total, as: .size)) is \(Quantity.shortest(blocks)) blocks of "
          + "\(Quantity.format(blockSize, as: .size)), more than the model's limit of 1,000,000 (a task each)",
        hint: hint)
    }
    return Int(files)
  }
}
