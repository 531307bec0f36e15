import ArgumentParser
import PropensityModelFile
import PropensityScoring

struct Predict: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write one probability per input row, in order.")

    @Option(help: "Model file.") var model: String
    @Option(help: "CSV file with the model's input columns (others are ignored).") var data: String
    @Option(help: "Field delimiter: , ; tab | (detected when omitted).") var delimiter: String?
    @Option(help: "Output CSV (header 'probability').") var out: String
    @Option(help: "Add the K strongest reasons per row: column, value bucket or category, signed contribution (log-odds).")
    var explain: Int?
    @Flag(help: "Add every column's contribution to the margin (log-odds), and the bias they start from.")
    var contributions = false
    @OptionGroup var identity: IdentityFlags

    @Flag(help: "No progress output (bars on a terminal, periodic lines otherwise).") var quiet = false

    func run() async throws {
        ProgressReporter.quiet = quiet
        try await reportingErrors {
            let loaded = try ModelFile.load(from: model)
            if let explain, explain < 1 || explain > loaded.schema.count {
                throw CLIError("--explain: \(ExplainError.invalidTopK(explain, columns: loaded.schema.count))")
            }
            // Checked before the data is read: a model that cannot explain fails at once.
            let explainer = explain != nil || contributions ? try Explainer(model: loaded) : nil
            let pseudonymiser = try identity.pseudonymiser()
            let (table, features) = try readInputs(
                file: data, schema: loaded.schema, delimiter: try parseDelimiter(delimiter),
                extraColumns: try identity.extraColumns(schema: loaded.schema))
            let ids = try identity.identities(table, pseudonymiser: pseudonymiser)
            let scores = timed("scored \(table.rowCount) rows") { Scorer(model: loaded).score(features) }
            if let explainer {
                let explained = timed("explained \(table.rowCount) rows") { explainer.explain(rows: features) }
                try writeExplained(
                    scores, explained, features: features, model: loaded, top: explain, allColumns: contributions, ids: ids,
                    to: out)
            } else {
                try writeScores(scores, ids: ids, to: out)
            }
            print("\(table.rowCount) scores written to \(out)")
        }
    }
}
