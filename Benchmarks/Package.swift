// swift-tools-version: 6.1
// BDSim's benchmarks: a package of its own, so that the root package does not depend on
// ordo-one/benchmark and its malloc interposer. Run with ./run.sh (see RESULTS-queue.md).

import PackageDescription

let package = Package(
  name: "BDSimBenchmarks",
  platforms: [.macOS(.v13)],
  dependencies: [
    .package(name: "BDSim", path: ".."),
    // Only the malloc statistics trait: the default "RuntimeInterposer" trait (ARC counters on
    // Linux with Swift 6.3) needs swift-runtime-interposer, which is not mirrored here.
    .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
  ],
  targets: [
    .executableTarget(
      name: "KernelBenchmarks",
      dependencies: [
        .product(name: "SimKernel", package: "BDSim"),
        .product(name: "SimPHOLD", package: "BDSim"),
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "HeapModule", package: "swift-collections"),
      ],
      path: "Benchmarks/KernelBenchmarks",
      swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])],
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ),
  ]
)
