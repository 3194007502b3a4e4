// swift-tools-version: 6.0
import PackageDescription

/// Vigil: audits how robust an image classifier is on real video.
/// Module boundaries follow the design notes: C libraries sit behind thin system-library shims,
/// the tensor/graph/ONNX stack knows nothing of video, and the CLI only parses and wires.
let package = Package(
    name: "Vigil",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
        .library(name: "VigilKit", targets: ["Pipeline", "Robustness", "Reporting", "MediaIO", "Imaging", "ONNXImport", "Graph", "TensorCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        // Live feeds: the Prometheus text format and the HTTP server that serves it (--metrics), and alert hooks.
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", exact: "1.0.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        // SHA-256 of models and clips (provenance, and the fleet's skip-if-done check).
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
    ],
    targets: [
        // C shims: module map + shim.h only.
        .systemLibrary(name: "CAVUtil", pkgConfig: "libavutil", providers: [.apt(["libavutil-dev"])]),
        .systemLibrary(name: "CAVCodec", pkgConfig: "libavcodec", providers: [.apt(["libavcodec-dev"])]),
        .systemLibrary(name: "CAVFormat", pkgConfig: "libavformat", providers: [.apt(["libavformat-dev"])]),
        .systemLibrary(name: "CSwScale", pkgConfig: "libswscale", providers: [.apt(["libswscale-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

        .target(name: "CCPUFeatures"),
        // Compiled for AVX-512 and called only after CCPUFeatures has found it on the CPU.
        .target(name: "TensorKernelsAVX512",
                swiftSettings: [.unsafeFlags(["-Ounchecked", "-target-cpu", "skylake-avx512"])]),
        .target(name: "TensorCore", dependencies: ["COpenBLAS", "CCPUFeatures", "TensorKernelsAVX512"],
                swiftSettings: [.unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"])]),
        .target(name: "Graph", dependencies: ["TensorCore"]),
        .target(name: "ONNXImport", dependencies: ["Graph", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(name: "Imaging", dependencies: ["CPNG"]),
        .target(name: "MediaIO", dependencies: ["CAVUtil", "CAVCodec", "CAVFormat", "CSwScale", "Imaging"]),
        .target(name: "Robustness", dependencies: ["Graph", "ONNXImport", "Imaging", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Reporting", dependencies: ["Robustness", "Imaging"]),
        .target(name: "Pipeline", dependencies: ["MediaIO", "Robustness", "Reporting", "Imaging",
                                                 .product(name: "Subprocess", package: "swift-subprocess")]),
        // Serves a live run's figures in the Prometheus text format over HTTP; only the CLI links the server.
        .target(name: "LiveMetrics", dependencies: ["Pipeline",
                                                    .product(name: "Prometheus", package: "swift-prometheus"),
                                                    .product(name: "Hummingbird", package: "hummingbird"),
                                                    .product(name: "Logging", package: "swift-log")]),
        .executableTarget(name: "vigil", dependencies: [
            "Pipeline", "MediaIO", "Robustness", "Reporting", "ONNXImport", "Graph", "TensorCore", "LiveMetrics",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "VigilBench", dependencies: [
            "Pipeline", "MediaIO", "Imaging", "Robustness", "ONNXImport", "Graph", "TensorCore", "TensorKernelsAVX512", "COpenBLAS",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .target(name: "TestSupport", dependencies: ["TensorCore"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"]),
        .testTarget(name: "GraphTests", dependencies: ["Graph", "TensorCore", "TestSupport", "ONNXImport"]),
        .testTarget(name: "ONNXImportTests", dependencies: ["ONNXImport", "Graph", "TestSupport"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"]),
        .testTarget(name: "MediaIOTests", dependencies: ["MediaIO", "Imaging", "TestSupport"]),
        .testTarget(name: "RobustnessTests", dependencies: ["Robustness", "Graph", "ONNXImport", "Imaging", "TestSupport"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "Robustness", "TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Reporting", "Robustness", "MediaIO", "Imaging", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport", "Imaging"], exclude: ["Snapshots"]),
    ]
)
