import Foundation
import SimExperiments
import SimKernel
import Testing

@Suite struct OutputChecksTests {
  /// A misspelt `outputs.metrics` name is a located error at load, with the nearest name the
  /// model's catalog knows (`bdsim validate` says so before anything runs).
  @Test func aMisspeltMetricIsALocatedErrorWithTheNearestName() throws {
    let directory = scratchDirectory("misspelt-static")
    let path = writeConfig(
      """
      name: misspelt
      model: queueing
      duration: 200s
      params:
        service: "exp(mean: 1s)"
        utilisation: 0.5
      outputs:
        metrics:
          - station.*.utilisation
          - network.respons_p99
      """, in: directory)
    let error = try #require(throws: ConfigError.self) {
      _ = try ExperimentConfig.load(path: path, models: shippedModels)
    }
    #expect(error.keyPath == "outputs.metrics.1")
    #expect(error.location.line == 10)
    #expect(error.message.contains("reports no metric named 'network.respons_p99'"))
    #expect(error.hint?.contains("did you mean 'network.response_p99'?") == true)
  }

  /// A name the catalog knows but the run does not report (a station the network does not have)
  /// is a located warning after the runs, with the nearest name the runs reported; a correct
  /// name and a pattern that matches are not.
  @Test func aMetricNoRunReportedIsAWarningWithTheNearestName() throws {
    let directory = scratchDirectory("misspelt")
    let path = writeConfig(
      """
      name: misspelt
      model: queueing
      duration: 200s
      params:
        service: "exp(mean: 1s)"
        utilisation: 0.5
      outputs:
        metrics:
          - station.station.response_mean
          - station.statio.response_p99
          - station.*.utilisation
      """, in: directory)
    let config = try ExperimentConfig.load(path: path, models: shippedModels)
    let plan = try ExperimentPlan(config)
    try Experiment.claim(directory + "/out", plan: plan, replace: false)
    _ = try Runner(plan: plan, directory: directory + "/out", jobs: 1).run()
    let summary = try Aggregator(plan: plan, directory: directory + "/out").write(commandLine: [])
    #expect(summary.metricWarnings.count == 1)
    let warning = try #require(summary.metricWarnings.first)
    #expect(warning.keyPath == "outputs.metrics.1")
    #expect(warning.location.line == 10)
    #expect(warning.message.contains("did you mean 'station.station.response_p99'?"))
  }
}
