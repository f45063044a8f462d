import Foundation
import SimExperiments
import SimKernel
import SimModel
import SimModels

/// The models the tests' configs may name: the shipped ones.
let shippedModels = ModelRegistry(ShippedModels.all)

/// A fresh scratch directory for one test.
func scratchDirectory(_ name: String) -> String {
  let path = NSTemporaryDirectory() + "bdsim-test-\(ProcessInfo.processInfo.processIdentifier)-\(name)"
  try? FileManager.default.removeItem(atPath: path)
  try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// Writes a config into `directory` and returns its path.
func writeConfig(_ text: String, in directory: String, name: String = "config.yaml") -> String {
  let path = directory + "/" + name
  _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
  return path
}

/// The bytes of a result file.
func contents(_ directory: String, _ file: String) -> Data? {
  FileManager.default.contents(atPath: directory + "/" + file)
}

/// A small sweep that runs in a fraction of a second even in a debug build.
let smallSweep = """
  name: small
  model: queueing
  duration: 2000s
  warmup: 100s
  seed: 7
  replications: 3
  params:
    service: "exp(mean: 1s)"
    utilisation: 0.5
  sweep:
    params.servers: [1, 2]
    params.utilisation: [0.5, 0.8]
  outputs:
    timeseries_interval: 100s
  """

/// Runs a config end to end into `directory` (plan, runner, aggregation), as `bdsim run` does.
@discardableResult
func runExperiment(
  _ path: String, into directory: String, jobs: Int, shard: (Int, Int)? = nil, resume: Bool = false,
  overrides: [String] = [], models: ModelRegistry = shippedModels
) throws -> ExperimentPlan {
  let config = try ExperimentConfig.load(path: path, models: models, overrides: overrides)
  let plan = try ExperimentPlan(config)
  try Experiment.claim(directory, plan: plan, replace: false)
  _ = try Runner(
    plan: plan, directory: directory, jobs: jobs, shard: shard.map { (index: $0.0, count: $0.1) }, resume: resume
  ).run()
  let aggregator = Aggregator(plan: plan, directory: directory)
  if aggregator.missingRuns().isEmpty { try aggregator.write(commandLine: []) }
  return plan
}

/// The small sweep run into a fresh scratch directory; returns the result directory.
func smallSweepResults(_ name: String) throws -> String {
  let base = scratchDirectory(name)
  let directory = base + "/out"
  try runExperiment(writeConfig(smallSweep, in: base), into: directory, jobs: 2)
  return directory
}
