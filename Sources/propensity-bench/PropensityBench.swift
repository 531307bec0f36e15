import ArgumentParser

/// Measurement tools for `benchmarks/`, kept out of the shipped `propensity` CLI.
@main
struct PropensityBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "propensity-bench", abstract: "In-process measurements for the benchmark harness.",
        subcommands: [
            ScorerBenchmark.self, ExplainBenchmark.self, DriftBenchmark.self, FleetDrive.self, NIOEchoServer.self,
        ])
}
