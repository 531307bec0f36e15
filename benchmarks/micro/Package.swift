// swift-tools-version:6.1
import PackageDescription

import struct Foundation.URL

// A path dependency is identified by its folder's name, which depends on where the repository was cloned.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().lastPathComponent.lowercased()

// In-process micro-benchmarks of the hot paths, with ordo-one's package-benchmark. A package of its own, so that the
// main build and CI do not pay for the benchmark framework. Run from this folder:
//   swift package benchmark                                  (or: benchmarks/micro/run)
//   swift package benchmark baseline check --check-absolute-path .benchmarkBaselines/...   (see README.md)
let package = Package(
    name: "PropensityMicroBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "PropensityMicro",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "PropensityEngine", package: root),
            ],
            path: "Benchmarks/PropensityMicro",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
