import ArgumentParser

/// `VigilBench`: benchmarks that time Vigil against peers in the same run and print ratios.
struct VigilBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil-bench",
        abstract: "Time Vigil against its peers in the same run and print the ratios.",
        subcommands: [AnalyzeBenchmark.self, CompareBenchmark.self, ForwardBenchmark.self, KernelBenchmark.self, GEMMBenchmark.self, OcclusionBenchmark.self, DecodeBenchmark.self, FuzzLoader.self]
    )
}
VigilBench.main()
