// swift-tools-version: 6.1
// BDSim: a deterministic discrete-event simulator of big-data infrastructure.
// Licensed GPL-3.0-or-later (it links the GNU Scientific Library).

import PackageDescription

// Release builds skip the run-time exclusivity checks on class properties: they cost ~10% of
// the event loop (docs/PERFORMANCE.md). Debug builds, and so the tests, keep them.
//
// With BDSIM_OPTIMISED_DEBUG=1 in the environment (the Makefile sets it, so `make test` has it)
// the debug build optimises the kernel, the platform and the models (-O) while keeping the
// debug build's checks (exclusivity, preconditions, overflow traps; Sources has no `assert`):
// the tests run about 10x faster for a build about as long. A plain `swift build` is -Onone.
let optimisedDebug = Context.environment["BDSIM_OPTIMISED_DEBUG"] == "1"
let releaseSettings: [SwiftSetting] =
  [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
  + (optimisedDebug ? [.unsafeFlags(["-O"], .when(configuration: .debug))] : [])

/// A model target, in Sources/NAME: the model protocol, the kernel, the platform if it runs on
/// it, and the other models it is built from.
func model(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
  .target(name: name, dependencies: ["SimModel"] + dependencies, swiftSettings: releaseSettings)
}

let shippedModels = [
  "SimQueueing", "SimPHOLD", "SimTransfer", "SimBroker", "SimQuorum", "SimHDFS", "SimMapReduce", "SimSpark",
  "SimStream", "SimLambdaKappa", "SimShards", "SimCDN", "SimService", "SimETL",
]

let package = Package(
  name: "BDSim",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "bdsim", targets: ["bdsim"]),
    .library(name: "SimKernel", targets: ["SimKernel"]),
    .library(name: "SimPlatform", targets: ["SimPlatform"]),
    .library(name: "SimModel", targets: ["SimModel"]),
    .library(name: "SimModels", targets: ["SimModels"]),
    .library(name: "SimPHOLD", targets: ["SimPHOLD"]),
    .library(name: "SimExperiments", targets: ["SimExperiments"]),
    .library(name: "BDSimCLI", targets: ["BDSimCLI"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
  ],
  targets: [
    // The GNU Scientific Library: random number generators, distributions, t quantiles.
    .systemLibrary(
      name: "CGSL",
      pkgConfig: "gsl",
      providers: [.apt(["libgsl-dev"])]
    ),
    // Time, the event queue, random streams, distributions and statistics.
    .target(
      name: "SimKernel",
      dependencies: [
        "CGSL",
        .product(name: "Histogram", package: "hdrhistogram-swift"),
      ],
      swiftSettings: releaseSettings
    ),
    // Hosts, disks, links and faults: the fluid model of bandwidth the system models run on.
    .target(
      name: "SimPlatform",
      dependencies: ["SimKernel"],
      swiftSettings: releaseSettings
    ),
    // The protocol a model implements (SimulationModel, AnyModel, ModelRegistry), the run on the
    // platform (runOnPlatform, PlatformWorkload) and helpers more than one model uses.
    .target(
      name: "SimModel",
      dependencies: ["SimKernel", "SimPlatform"],
      swiftSettings: releaseSettings
    ),
    // One target per model: a model sees another's internals only through a dependency here.
    model("SimQueueing", ["SimKernel"]),
    model("SimPHOLD", ["SimKernel"]),
    model("SimTransfer", ["SimKernel", "SimPlatform"]),
    model("SimBroker", ["SimKernel", "SimPlatform"]),
    model("SimQuorum", ["SimKernel", "SimPlatform"]),
    model("SimService", ["SimKernel", "SimPlatform"]),
    model("SimHDFS", ["SimKernel", "SimPlatform"]),
    model("SimMapReduce", ["SimKernel", "SimPlatform", "SimHDFS"]),
    model("SimSpark", ["SimKernel", "SimPlatform", "SimHDFS"]),
    // The stream model with its serving store (which reads the stream's log to judge answers).
    model("SimStream", ["SimKernel", "SimPlatform"]),
    // Lambda and Kappa, built from the HDFS, MapReduce, Spark and stream models' entities.
    model("SimLambdaKappa", ["SimKernel", "SimPlatform", "SimHDFS", "SimMapReduce", "SimSpark", "SimStream"]),
    // The sharded store: hash, consistent-hash and range partitioning, rebalancing, hotspots.
    model("SimShards", ["SimKernel", "SimPlatform"]),
    model("SimCDN", ["SimKernel", "SimPlatform"]),
    // OLTP, extraction, staging in HDFS, a transform job (MapReduce or Spark), a warehouse or a lake.
    model("SimETL", ["SimKernel", "SimPlatform", "SimHDFS", "SimMapReduce", "SimSpark"]),
    // The models BDSim ships (ShippedModels.all).
    .target(
      name: "SimModels",
      dependencies: ["SimModel"] + shippedModels.map { .target(name: $0) }
    ),
    // The commit BDSim is built from, asked of `git` at build time ("unknown" without it).
    .plugin(name: "BuildInfo", capability: .buildTool()),
    .target(name: "SimBuildInfo", plugins: ["BuildInfo"]),
    // Configs, sweeps, the parallel runner and the result files.
    .target(
      name: "SimExperiments",
      dependencies: ["SimKernel", "SimModel", "SimBuildInfo", .product(name: "Yams", package: "Yams")]
    ),
    // The command line, run with a list of models (BDSimCLI.main(models:)): a thin layer over the
    // libraries. `phold` and `validate-queueing` are commands of those two models.
    .target(
      name: "BDSimCLI",
      dependencies: [
        "SimKernel",
        "SimModel",
        "SimExperiments",
        "SimPHOLD",
        "SimQueueing",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    // The bdsim tool: the command line with the shipped models.
    .executableTarget(name: "bdsim", dependencies: ["BDSimCLI", "SimModels"]),
    .testTarget(name: "SimKernelTests", dependencies: ["SimKernel"]),
    .testTarget(name: "SimPlatformTests", dependencies: ["SimPlatform", "SimKernel"]),
    .testTarget(
      name: "SimModelsTests",
      dependencies: ["SimKernel", "SimPlatform", "SimModel", "SimModels"] + shippedModels.map { .target(name: $0) }
    ),
    .testTarget(
      name: "SimExperimentsTests",
      dependencies: ["SimExperiments", "SimModel", "SimModels", "SimKernel"],
      resources: [.copy("Fixtures")]
    ),
  ]
)
