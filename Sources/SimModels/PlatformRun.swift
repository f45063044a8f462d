import SimKernel
import SimPlatform

/// What a model on the platform hands back after its run: its own metrics and time series.
protocol PlatformWorkload: AnyObject {
  func metrics() -> Metrics
  var timeseries: TimeSeries { get }
}

/// One run of a model on the platform: a simulator, the platform, its faults, the model's
/// entities (made by `build`), the run to the horizon (or until the model stops it), and the
/// model's metrics followed by the platform's, `simulator.events`, and the fault series after
/// the model's own.
func runOnPlatform(
  _ spec: PlatformSpec, faults: [FaultSpec], context: RunContext,
  build: (Simulator, Platform) -> any PlatformWorkload
) throws(ValueError) -> RunOutput {
  try context.validate()
  let simulator = Simulator()
  let platform = Platform(spec: spec, simulator: simulator)
  let injector = FaultInjector(faults: faults, platform: platform, simulator: simulator, streams: context.streams)
  let workload = build(simulator, platform)
  simulator.run(until: context.duration)
  withExtendedLifetime(injector) {}
  var metrics = workload.metrics()
  for (name, value) in platform.metrics() { metrics.set(name, value) }
  metrics.set("simulator.events", Double(simulator.eventsProcessed))
  var series = workload.timeseries
  for sample in platform.faultLog.samples {
    series.append(time: sample.time, metric: sample.metric, value: sample.value)
  }
  return RunOutput(metrics: metrics, timeseries: series)
}
