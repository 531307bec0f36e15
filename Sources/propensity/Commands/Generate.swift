import ArgumentParser
import PropensityData

struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write seeded synthetic conversion data (label 'converted', true probability 'true_propensity').")

    @Option(help: "Number of rows.") var rows: Int = 100_000
    @Option(help: "Random seed; the same seed gives the same file.") var seed: UInt64 = 42
    @Option(help: "Output CSV path.") var out: String

    func run() async throws {
        try await reportingErrors {
            guard rows > 0 else { throw CLIError("--rows must be positive") }
            try timed("generated \(rows) rows") {
                try ConversionDataGenerator.write(rows: rows, seed: seed, to: out)
            }
            print(out)
        }
    }
}
