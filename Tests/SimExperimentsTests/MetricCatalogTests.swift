import Foundation
import SimExperiments
import SimKernel
import SimModels
import Testing

@Suite struct MetricCatalogTests {
  /// Every metric and time series the committed results of the shipped experiments hold is one
  /// its model's catalog describes: the catalog is what `outputs.metrics` is checked against and
  /// what tables format by, so a name missing from it would be refused or printed raw.
  @Test func everyShippedResultIsInItsModelsCatalog() throws {
    let root = repositoryRoot()
    let results = root.appendingPathComponent("results")
    var checked = 0
    for name in try FileManager.default.contentsOfDirectory(atPath: results.path).sorted() {
      let candidates = ["experiments/\(name).yaml", "experiments/validation/\(name).yaml"]
      guard
        let config = candidates.map({ root.appendingPathComponent($0).path }).first(where: {
          FileManager.default.fileExists(atPath: $0)
        })
      else { continue }
      let experiment = try ExperimentConfig.load(path: config, models: shippedModels)
      let catalog = experiment.model.catalog
      let runs = try String(contentsOf: results.appendingPathComponent("\(name)/runs.csv"), encoding: .utf8)
      let header = runs.prefix { $0 != "\n" }.split(separator: ",").map(String.init)
      let metrics = header.dropFirst(4 + experiment.sweep.paths.count)
      var series = Set<String>()
      let timeseries = results.appendingPathComponent("\(name)/timeseries.csv")
      if let text = try? String(contentsOf: timeseries, encoding: .utf8) {
        for line in text.split(separator: "\n").dropFirst() {
          let fields = line.split(separator: ",", omittingEmptySubsequences: false)
          if fields.count >= 3 { series.insert(String(fields[2])) }
        }
      }
      for metric in metrics + series.sorted() {
        #expect(catalog.info(metric) != nil, "\(name): \(metric) is not in model \(experiment.model.name)'s catalog")
        checked += 1
      }
    }
    #expect(checked > 250)
  }

  /// Each model's headline metrics (the default table's columns) are names of its catalog.
  @Test func headlineMetricsAreInTheCatalog() {
    for model in ShippedModels.all {
      for pattern in model.headlineMetrics {
        #expect(model.catalog.canSelect(pattern), "\(model.name): headline \(pattern)")
      }
    }
  }

  /// The steady-state verdict is in the catalog of the models that judge one (runs of a
  /// duration), not of those that run a job to completion; the role metrics are in every
  /// platform model's.
  @Test func onlyModelsThatJudgeASteadyStateListItsVerdict() {
    let judging = Set(ShippedModels.all.filter { $0.catalog.info("steady_state.ok") != nil }.map(\.name))
    #expect(judging == ["queueing", "broker", "quorum", "stream", "shards", "service"])
    for name in ["mapreduce", "spark", "hdfs", "transfer", "lambda-kappa"] {
      let model = ShippedModels.all.first { $0.name == name }
      #expect(model?.catalog.info("role.datanode.disk")?.kind == .fraction, "\(name): role metrics")
    }
  }

  @Test func patternsSelectByEitherSide() {
    let catalog = MetricCatalog([
      MetricInfo(["station.*.wait_*"], .duration, "waits"),
      MetricInfo(["mapreduce.bytes_read_hdfs", "mapreduce.bytes_spilled"], .bytes, "bytes"),
    ])
    #expect(catalog.canSelect("station.web.wait_p99"))
    #expect(catalog.canSelect("station.*"))
    #expect(catalog.canSelect("*wait*"))
    #expect(catalog.canSelect("mapreduce.bytes_*"))
    #expect(!catalog.canSelect("mapreduce.bytes_written"))
    #expect(!catalog.canSelect("station.web.response_mean"))
    #expect(catalog.info("mapreduce.bytes_spilled")?.kind == .bytes)
    #expect(catalog.info("station.a.wait_mean")?.unit == "s")
    #expect(MetricInfo.glob("a*b*c", "aXbYc") && !MetricInfo.glob("a*b*c", "aXcYb") && MetricInfo.glob("*", ""))
    #expect(!MetricInfo.glob("ab*ba", "aba"))
  }
}

@Suite struct MetricFormatTests {
  func interval(_ mean: Double, _ half: Double) -> ConfidenceInterval {
    var ci = ConfidenceInterval(count: 3, mean: mean, standardDeviation: 1)
    ci.halfWidth = half
    return ci
  }

  func cell(
    _ info: MetricInfo, _ mean: Double, _ half: Double = .nan, range: (Double, Double) = (.nan, .nan),
    categories: [Double: Int] = [:]
  ) -> String {
    MetricFormat.cell(info, interval: interval(mean, half), range: range, categories: categories)
  }

  /// Each kind in its human unit, the interval to two significant digits and the mean to its
  /// last decimal (0.0007250 ± 1.952e-05 s, as the table printed before, is 0.725 ± 0.020 ms).
  @Test func unitsAndIntervalsReadAsAPersonWritesThem() {
    let latency = MetricInfo(["l"], .duration, "")
    #expect(cell(latency, 0.000725, 0.00001952) == "725 ± 20 µs")
    #expect(cell(latency, 0.0125, 0.0004) == "12.50 ± 0.40 ms")
    #expect(cell(latency, 891.4, 12.6) == "14.86 ± 0.21 min")
    #expect(cell(latency, 2.5e-7) == "250.0 ns")
    #expect(cell(MetricInfo(["b"], .bytes, ""), 1.24e9) == "1.240 GB")
    #expect(cell(MetricInfo(["r"], .rate, unit: "MB/s", ""), 312, 4.2) == "312.0 ± 4.2 MB/s")
    #expect(cell(MetricInfo(["r"], .rate, ""), 2.5e9, 1e8) == "2.50 ± 0.10 GB/s")
    #expect(cell(MetricInfo(["r"], .rate, unit: "records/s", ""), 41_234, 120) == "41.23 ± 0.12 k records/s")
    #expect(cell(MetricInfo(["f"], .fraction, ""), 0.4996, 0.008129) == "0.4996 ± 0.0081")
    #expect(cell(MetricInfo(["f"], .fraction, ""), 0.99999) == "0.999990")
    #expect(cell(MetricInfo(["f"], .fraction, ""), 0.9995) == "0.99950")
  }

  /// A count is a whole number in every run: its value when they agree, else the mean and the
  /// range, never an interval (8.000 ± 101.6 with n = 2 said nothing).
  @Test func countsCarryTheirRangeNotAnInterval() {
    let count = MetricInfo(["c"], .count, unit: "records", "")
    #expect(cell(count, 8, 101.6, range: (8, 8)) == "8")
    #expect(cell(count, 8, 101.6, range: (0, 16)) == "8.000 (0–16)")
  }

  /// A category prints its names, most frequent first, never an average of codes (2.000 ± 0).
  @Test func categoriesPrintByName() {
    let bottleneck = MetricInfo(["x"], .category, categories: [1: "network", 2: "disk"], "")
    #expect(cell(bottleneck, 2, 0, categories: [2: 3]) == "disk")
    #expect(cell(bottleneck, 1.67, 1.4, categories: [2: 2, 1: 1]) == "disk 2, network 1")
    #expect(cell(.flag(["ok"], ""), 1, categories: [1: 2]) == "yes")
  }
}
