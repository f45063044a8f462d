import SimPlatform

extension StreamParameters {
  /// The defaults on `platform` with `faults`: how the Lambda and Kappa model starts its stream path.
  package init(platform: PlatformSpec, faults: [FaultSpec]) {
    self.platform = platform
    self.faults = faults
  }
}
