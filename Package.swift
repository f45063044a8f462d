// swift-tools-version: 6.1
// BDSim: a deterministic discrete-event simulator of big-data infrastructure.
// Licensed GPL-3.0-or-later (it links the GNU Scientific Library).

import PackageDescription

// Release builds skip the run-time exclusivity checks on class properties: they cost ~10% of
// the event loop (docs/PERFORMANCE.md). Debug builds, and so the tests, keep them.
let releaseSettings: [SwiftSetting] = [
  .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
]

let package = Package(
  name: "BDSim",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "bdsim", targets: ["bdsim"]),
    .library(name: "SimKernel", targets: ["SimKernel"]),
    .library(name: "SimPlatform", targets: ["SimPlatform"]),
    .library(name: "SimModels", targets: ["SimModels"]),
    .library(name: "SimExperiments", targets: ["SimExperiments"]),
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
    // The models, one folder each.
    .target(
      name: "SimModels",
      dependencies: ["SimKernel", "SimPlatform"],
      swiftSettings: releaseSettings
    ),
    // The commit BDSim is built from, asked of `git` at build time ("unknown" without it).
    .plugin(name: "BuildInfo", capability: .buildTool()),
    .target(name: "SimBuildInfo", plugins: ["BuildInfo"]),
    // Configs, sweeps, the parallel runner and the result files.
    .target(
      name: "SimExperiments",
      dependencies: ["SimKernel", "SimModels", "SimBuildInfo", .product(name: "Yams", package: "Yams")]
    ),
    // The command-line tool: a thin layer over the libraries.
    .executableTarget(
      name: "bdsim",
      dependencies: [
        "SimKernel",
        "SimModels",
        "SimExperiments",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .testTarget(name: "SimKernelTests", dependencies: ["SimKernel"]),
    .testTarget(name: "SimPlatformTests", dependencies: ["SimPlatform", "SimKernel"]),
    .testTarget(name: "SimModelsTests", dependencies: ["SimModels", "SimKernel"]),
    .testTarget(
      name: "SimExperimentsTests",
      dependencies: ["SimExperiments", "SimModels", "SimKernel"],
      resources: [.copy("Fixtures")]
    ),
  ]
)
