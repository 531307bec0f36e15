// swift-tools-version:6.1
import PackageDescription

// Release builds of the request path skip Swift's dynamic exclusivity checks (they showed up at ~8 % of the server's
// CPU, mostly inside inlined ByteBuffer code); debug builds, which CI tests, keep them. Not applied to modules of the
// `PropensityClient` library product, so other packages can still depend on it.
let uncheckedExclusivity: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

// Dependencies point one way (each target lists only what it imports):
//   PropensityData, PropensityLinearAlgebra, PropensityModel, PropensityMetrics   (no Propensity dependencies)
//   → PropensityReport (Metrics, Model: the evaluation report's JSON and HTML)
//   → PropensityInput (tables as a model's input: Data + Model)
//   → PropensityDrift (Model, Metrics: reference profiles, population stability)
//   → PropensityTraining (Data, LinearAlgebra, Model, Metrics, Input, Drift)
//   → PropensityModelFile, PropensityImport (Model) → PropensityScoring (Model) → PropensityProtocol (Model)
//   → PropensityServer (ModelFile, Scoring, Protocol, Drift), PropensityClient (Protocol)
//   → PropensityGRPC (Server: the inference protocol over gRPC, behind the GRPC trait)
//   → PropensityLoad (Client, Protocol) → propensity (the CLI), propensity-bench.
let package = Package(
    name: "Propensity",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "propensity", targets: ["propensity"]),
        // In-process measurements for benchmarks/ (not part of the shipped CLI).
        .executable(name: "propensity-bench", targets: ["propensity-bench"]),
        .library(name: "PropensityClient", targets: ["PropensityClient"]),
        // The engine in process (data, training, model files, scoring, protocol), e.g. for benchmarks/micro.
        .library(
            name: "PropensityEngine",
            targets: [
                "PropensityData", "PropensityModel", "PropensityInput", "PropensityMetrics", "PropensityTraining",
                "PropensityModelFile", "PropensityImport", "PropensityScoring", "PropensityProtocol",
            ]),
    ],
    // gRPC (the Open Inference Protocol's gRPC port) is a trait, on by default: its dependencies (grpc-swift 2, its
    // NIO HTTP/2 transport, swift-protobuf) add minutes to a first build, which `scripts/demo` skips with
    // `--disable-default-traits` (`serve --grpc-port` then says the build has no gRPC).
    traits: [
        .trait(name: "GRPC", description: "serve --grpc-port: the Open Inference Protocol over gRPC"),
        .default(enabledTraits: ["GRPC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]
        ),
        .systemLibrary(
            name: "CLAPACKE",
            pkgConfig: "lapacke",
            providers: [.apt(["liblapacke-dev"]), .brew(["lapack"])]
        ),
        // No pkgConfig: hiredis' .pc adds -D_FILE_OFFSET_BITS=64, which SwiftPM refuses (with a warning); the
        // header is found as <hiredis/hiredis.h> on the default include path.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"]), .brew(["hiredis"])]),
        // Linux epoll for the load generator's raw event loop (no library to link).
        .systemLibrary(name: "CEpoll"),
        // Cache prefetch (a header-only inline function: Swift has no prefetch intrinsic).
        .systemLibrary(name: "CPrefetch"),
        // The vector tree walk (AVX2 intrinsics, compiled for that target per function and chosen at run time).
        .target(name: "CTreeWalk"),
        // The quadrature TreeSHAP arithmetic, compiled for the baseline, AVX2 and AVX-512F and chosen at run time.
        .target(name: "CTreeSHAP"),
        .target(name: "PropensityData"),
        .target(name: "PropensityLinearAlgebra", dependencies: ["COpenBLAS", "CLAPACKE"]),
        .target(name: "PropensityModel"),
        .target(name: "PropensityMetrics"),
        // The evaluation report: `evaluate --json` and the self-contained HTML page drawn from it (Chart.js vendored).
        .target(name: "PropensityReport", dependencies: ["PropensityMetrics", "PropensityModel"]),
        // Where tables meet models: a schema's CSV options and the feature rows a table gives it.
        .target(name: "PropensityInput", dependencies: ["PropensityData", "PropensityModel"]),
        .target(
            name: "PropensityTraining",
            dependencies: [
                "PropensityData", "PropensityLinearAlgebra", "PropensityModel", "PropensityMetrics", "PropensityInput",
                "PropensityDrift", "CPrefetch",
            ]
        ),
        .target(
            name: "PropensityModelFile",
            dependencies: ["PropensityModel", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(name: "PropensityImport", dependencies: ["PropensityModel"]),
        // Drift: reference profiles, population stability, the server's lock-free live counts.
        .target(name: "PropensityDrift", dependencies: ["PropensityModel", "PropensityMetrics"], swiftSettings: uncheckedExclusivity),
        // Pseudonyms for identifiers (keyed HMAC), for every place that keeps or writes one.
        .target(name: "PropensityPrivacy", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // Scoring events from Redis Streams into output streams and audiences (`propensity stream`).
        .target(
            name: "PropensityStream",
            dependencies: ["CHiredis", "PropensityModel", "PropensityScoring", "PropensityPrivacy"],
            swiftSettings: uncheckedExclusivity),
        // The feedback loop: a sampled feed joined with outcomes into a labelled training set.
        .target(name: "PropensityFeedback", dependencies: ["PropensityData", "PropensityPrivacy"]),
        .target(
            name: "PropensityScoring", dependencies: ["PropensityModel", "PropensityMetrics", "CPrefetch", "CTreeWalk", "CTreeSHAP"],
            swiftSettings: uncheckedExclusivity),
        .target(
            name: "PropensityProtocol",
            dependencies: ["PropensityModel", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "PropensityServer",
            dependencies: [
                "PropensityData", "PropensityModel", "PropensityModelFile", "PropensityScoring", "PropensityProtocol",
                "PropensityDrift", "PropensityPrivacy",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: uncheckedExclusivity
        ),
        .target(
            name: "PropensityClient",
            dependencies: [
                "PropensityModel", "PropensityProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // The load generators behind `propensity loadtest`: open loop (SwiftNIO timers), closed loop (raw epoll),
        // blocking.
        .target(
            name: "PropensityLoad",
            dependencies: [
                "PropensityModel", "PropensityProtocol", "PropensityClient",
                .target(name: "CEpoll", condition: .when(platforms: [.linux])),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: uncheckedExclusivity
        ),
        .target(
            name: "PropensityGRPC",
            dependencies: [
                "PropensityServer", "PropensityLoad",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "propensity",
            dependencies: [
                "PropensityData", "PropensityModel", "PropensityInput", "PropensityMetrics", "PropensityTraining",
                "PropensityModelFile", "PropensityImport", "PropensityScoring", "PropensityServer", "PropensityClient",
                "PropensityLoad", "PropensityPrivacy", "PropensityDrift", "PropensityFeedback", "PropensityStream",
                "PropensityReport",
                .target(name: "PropensityGRPC", condition: .when(traits: ["GRPC"])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "propensity-bench",
            dependencies: [
                "PropensityInput", "PropensityModelFile", "PropensityScoring", "PropensityDrift", "PropensityClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: uncheckedExclusivity
        ),

        // Tests: one target per library, and what several of them share.
        .target(
            name: "PropensityTestSupport",
            dependencies: ["PropensityData", "PropensityInput", "PropensityModel", "PropensityServer"],
            path: "Tests/PropensityTestSupport"
        ),
        .testTarget(name: "PropensityDataTests", dependencies: ["PropensityData"]),
        .testTarget(name: "PropensityMetricsTests", dependencies: ["PropensityMetrics"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PropensityReportTests", dependencies: ["PropensityReport", "PropensityMetrics", "PropensityModel"]),
        .testTarget(name: "PropensityPrivacyTests", dependencies: ["PropensityPrivacy"]),
        .testTarget(name: "PropensityFeedbackTests", dependencies: ["PropensityFeedback", "PropensityPrivacy"]),
        .testTarget(
            name: "PropensityDriftTests",
            dependencies: [
                "PropensityData", "PropensityModel", "PropensityInput", "PropensityDrift", "PropensityMetrics",
                "PropensityTestSupport",
            ]),
        .testTarget(
            name: "PropensityInputTests", dependencies: ["PropensityData", "PropensityModel", "PropensityInput"]),
        .testTarget(
            name: "PropensityTrainingTests",
            dependencies: [
                "PropensityData", "PropensityModel", "PropensityMetrics", "PropensityTraining", "PropensityLinearAlgebra",
                "PropensityInput", "PropensityScoring", "PropensityDrift", "PropensityTestSupport",
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "PropensityModelFileTests",
            dependencies: ["PropensityModel", "PropensityModelFile", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "PropensityImportTests",
            dependencies: ["PropensityModel", "PropensityImport", "PropensityScoring", "PropensityModelFile"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "PropensityScoringTests", dependencies: ["PropensityData", "PropensityModel", "PropensityScoring"]),
        .testTarget(
            name: "PropensityProtocolTests",
            dependencies: ["PropensityModel", "PropensityProtocol", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "PropensityGRPCTests",
            dependencies: [
                "PropensityGRPC", "PropensityServer", "PropensityModel", "PropensityScoring", "PropensityTestSupport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            ]
        ),
        .testTarget(
            name: "PropensityServerTests",
            dependencies: [
                "PropensityData", "PropensityModel", "PropensityModelFile", "PropensityScoring", "PropensityProtocol",
                "PropensityServer", "PropensityClient", "PropensityTestSupport", "PropensityDrift", "PropensityInput",
                "PropensityPrivacy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "PropensityClientTests",
            dependencies: [
                "PropensityModel", "PropensityScoring", "PropensityProtocol", "PropensityServer", "PropensityClient",
                "PropensityTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PropensityLoadTests",
            dependencies: [
                "PropensityModel", "PropensityServer", "PropensityClient", "PropensityLoad", "PropensityTestSupport",
            ]
        ),
    ]
)
