import Foundation
import SimExperiments
import Testing

@Suite struct OutputChecksTests {
  /// A misspelt `outputs.metrics` name is located and answered with the name the runs reported;
  /// a correct name and a pattern that matches are not.
  @Test func aMisspeltMetricIsAWarningWithTheNearestName() throws {
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
          - station.station.respons_p99
          - station.*.utilisation
      """, in: directory)
    let config = try ExperimentConfig.load(path: path)
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
