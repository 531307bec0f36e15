import ArgumentParser
import PropensityModelFile
import PropensityScoring

struct Predict: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write one probability per input row, in order.")

    @Option(help: "Model file.") var model: String
    @Option(help: "CSV file with the model's input columns (others are ignored).") var data: String
    @Option(help: "Field delimiter: , ; tab | (detected when omitted).") var delimiter: String?
    @Option(help: "Output CSV (header 'probability').") var out: String

    func run() async throws {
        try await reportingErrors {
            let loaded = try ModelFile.load(from: model)
            let (table, features) = try readInputs(file: data, schema: loaded.schema, delimiter: try parseDelimiter(delimiter))
            let scores = timed("scored \(table.rowCount) rows") { Scorer(model: loaded).score(features) }
            try writeScores(scores, to: out)
            print("\(table.rowCount) scores written to \(out)")
        }
    }
}
