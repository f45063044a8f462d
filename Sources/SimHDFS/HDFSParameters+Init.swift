import SimPlatform

extension HDFSParameters {
  /// The defaults on `platform` with `faults`: how the models built on HDFS start theirs.
  package init(platform: PlatformSpec, faults: [FaultSpec]) {
    self.platform = platform
    self.faults = faults
  }
}
