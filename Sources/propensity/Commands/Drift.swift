import ArgumentParser
import PropensityDrift
import PropensityModel
import PropensityModelFile
import PropensityScoring

struct Drift: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare data with the model's training data: population stability index per column and for the score.",
        discussion: """
            Exit status 4 when any index exceeds --threshold (so a scheduler can trigger retraining), 1 on an error, \
            0 otherwise. PSI below 0.1 is usually read as stable, 0.1–0.25 as a moderate shift, above 0.25 as a \
            significant one (docs/drift.md).
            """)

    static let driftExitCode: Int32 = 4

    @Option(help: "Model file (trained, or imported with --reference-data).") var model: String
    @Option(help: "CSV file of current rows, with the model's input columns (a label column is ignored).") var data: String
    @Option(help: "Field delimiter: , ; tab | (detected when omitted).") var delimiter: String?
    @Option(help: "Exit 4 when any PSI exceeds this.") var threshold: Double = 0.25
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        var drifted = false
        try await reportingErrors {
            guard threshold.isFinite, threshold >= 0 else {
                throw CLIError("--threshold must be a finite number ≥ 0, not \(threshold)")
            }
            let loaded = try ModelFile.load(from: model)
            guard let profile = loaded.drift else {
                throw CLIError("\(model) has no reference profile (trained before drift profiles existed, or imported without --reference-data): train it again, or import with --reference-data")
            }
            let (_, features) = try readInputs(file: data, schema: loaded.schema, delimiter: try parseDelimiter(delimiter))
            let scores = Scorer(model: loaded).score(features)
            let report = DriftReport(
                profile: profile, schema: loaded.schema,
                counts: DriftCounts.of(rows: features, scores: scores, profile: profile))
            let exceeding = report.exceeding(threshold)
            drifted = !exceeding.isEmpty
            if json {
                try printJSON([
                    "model": model, "data": data, "threshold": threshold, "reference_rows": report.referenceRows,
                    "rows": Int(report.currentRows), "score_psi": report.scorePSI, "drifted": drifted,
                    "columns": report.columns.map {
                        ["column": $0.name, "psi": $0.psi, "reference_missing": $0.referenceMissing,
                         "missing": $0.currentMissing] as [String: Any]
                    },
                ] as [String: Any])
            } else {
                print(table(report))
                print(drifted
                    ? "drift: \(exceeding.map { "\($0.name) \(fixed($0.psi))" }.joined(separator: ", ")) above \(fixed(threshold))"
                    : "no index above \(fixed(threshold))")
            }
        }
        if drifted { throw ExitCode(Self.driftExitCode) }
    }

    private func table(_ report: DriftReport) -> String {
        let width = max(6, report.columns.map(\.name.count).max() ?? 0)
        func pad(_ s: String) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }
        var lines = ["\(data): \(report.currentRows) rows against \(report.referenceRows) reference rows",
                     "\(pad("column"))  psi     missing (reference → now)"]
        for c in report.columns {
            lines.append("\(pad(c.name))  \(fixed(c.psi))  \(fixed(c.referenceMissing, 3)) → \(fixed(c.currentMissing, 3))")
        }
        lines.append("\(pad("(score)"))  \(fixed(report.scorePSI))")
        return lines.joined(separator: "\n")
    }
}
