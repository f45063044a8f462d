import SimKernel
import SimPlatform

/// What a model on the platform hands back after its run: its own metrics and time series.
public protocol PlatformWorkload: AnyObject {
  func metrics() -> Metrics
  var timeseries: TimeSeries { get }
  /// Names the signals its headline metrics depend on, for the run's steady-state verdict
  /// (``SteadyStateMonitor``); a workload that runs to completion (a batch job) names none.
  func watchSteadyState(_ monitor: SteadyStateMonitor)
}

extension PlatformWorkload {
  public func watchSteadyState(_ monitor: SteadyStateMonitor) {}
}

/// One run of a model on the platform: a simulator, the platform, its faults, the model's
/// entities (made by `build`), the run to the horizon (or until the model stops it), and the
/// model's metrics followed by the platform's, `simulator.events`, and the fault series after
/// the model's own.
public func runOnPlatform(
  _ spec: PlatformSpec, faults: [FaultSpec], context: RunContext,
  build: (Simulator, Platform) -> any PlatformWorkload
) throws(ValueError) -> RunOutput {
  try context.validate()
  let simulator = Simulator()
  let platform = Platform(spec: spec, simulator: simulator)
  let injector = FaultInjector(faults: faults, platform: platform, simulator: simulator, streams: context.streams)
  if let trace = context.trace { platform.startTracing(trace) }
  let workload = build(simulator, platform)
  let monitor = SteadyStateMonitor(duration: context.duration, simulator: simulator)
  workload.watchSteadyState(monitor)
  simulator.run(until: context.duration)
  platform.fluid.traceRunning()
  withExtendedLifetime(injector) {}
  var metrics = workload.metrics()
  for (name, value) in platform.metrics() { metrics.set(name, value) }
  monitor.report(into: &metrics)
  metrics.set("simulator.events", Double(simulator.eventsProcessed))
  var series = workload.timeseries
  for sample in platform.faultLog.samples {
    series.append(time: sample.time, metric: sample.metric, value: sample.value)
  }
  // The run is read: no reference cycle through the simulator outlives it.
  simulator.releaseEntities()
  return RunOutput(metrics: metrics, timeseries: series)
}
