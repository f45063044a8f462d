// swift-tools-version: 6.1
// A model BDSim does not ship, in a package of its own (docs/EXTENDING.md): a token-bucket rate
// limiter, and an executable that is the whole bdsim command line with it beside the shipped models.

import PackageDescription

let package = Package(
  name: "CustomModel",
  platforms: [.macOS(.v13)],
  dependencies: [
    // BDSim itself, from this repository; elsewhere: .package(url: "https://.../bdsim", from: "...").
    .package(name: "BDSim", path: "../..")
  ],
  targets: [
    // The model: it needs the model protocol, the kernel and the platform's ServerPool.
    .target(
      name: "TokenBucket",
      dependencies: [
        .product(name: "SimModel", package: "BDSim"),
        .product(name: "SimKernel", package: "BDSim"),
        .product(name: "SimPlatform", package: "BDSim"),
      ]
    ),
    // `bdsim-custom`: bdsim's command line with the shipped models and this one.
    .executableTarget(
      name: "bdsim-custom",
      dependencies: [
        "TokenBucket",
        .product(name: "BDSimCLI", package: "BDSim"),
        .product(name: "SimModels", package: "BDSim"),
      ]
    ),
    .testTarget(
      name: "TokenBucketTests",
      dependencies: [
        "TokenBucket",
        .product(name: "SimModel", package: "BDSim"),
        .product(name: "SimKernel", package: "BDSim"),
      ]
    ),
  ]
)
