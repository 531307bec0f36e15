import ArgumentParser
import PropensityModel
import PropensityModelFile

struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a model's kind, schema, metadata and parameters.")

    @Argument(help: "Model file.") var model: String
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "CSV rows to measure global importance on: each column's mean |contribution| to the log-odds.")
    var data: String?
    @Option(help: "Field delimiter of --data: , ; tab | (detected when omitted).") var delimiter: String?

    func run() async throws {
        try await reportingErrors {
            let loaded = try ModelFile.load(from: model)
            let fingerprint = ModelFile.fingerprint(of: loaded.schema)
            let features: [[String: Any]] = loaded.schema.features.map { f in
                var entry: [String: Any] = ["name": f.name, "kind": f.kind == .numeric ? "numeric" : "categorical"]
                if let c = f.kind.categories { entry["categories"] = c }
                return entry
            }
            var object: [String: Any] = [
                "file": model, "kind": loaded.kind.name,
                "schema_fingerprint": String(fingerprint, radix: 16), "features": features,
                "metadata": Dictionary(loaded.metadata.properties.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }),
                "metrics": Dictionary(loaded.metadata.metrics.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }),
            ]
            var coefficientLines: [String] = []
            if case .logisticRegression(let lr) = loaded.body {
                let (intercept, coefficients) = lr.originalScaleCoefficients()
                object["intercept"] = intercept
                object["coefficients"] = Dictionary(coefficients.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
                coefficientLines.append("  intercept  \(intercept)")
                for c in coefficients { coefficientLines.append("  \(c.name)  \(c.value)") }
            }
            var importanceLines: [String] = []
            if case .treeEnsemble(let ensemble) = loaded.body {
                let nodes = ensemble.trees.reduce(0) { $0 + $1.nodes.count }
                object["trees"] = ensemble.trees.count
                object["base_score"] = ensemble.baseScore
                object["leaves"] = ensemble.trees.reduce(0) { $0 + $1.leafValues.count }
                let ranked = zip(loaded.schema.features, ensemble.importance).sorted { $0.1.gain > $1.1.gain }
                object["importance"] = Dictionary(
                    ranked.map { ($0.0.name, ["gain": $0.1.gain, "splits": $0.1.splits] as [String: Any]) },
                    uniquingKeysWith: { a, _ in a })
                let totalGain = max(ensemble.importance.reduce(0) { $0 + $1.gain }, .leastNonzeroMagnitude)
                importanceLines.append("  \(ensemble.trees.count) trees, \(nodes) splits, base score \(ensemble.baseScore)")
                importanceLines.append("  feature importance (share of total gain, split count):")
                for (feature, imp) in ranked {
                    importanceLines.append("    \(feature.name)  \(fixed(100 * imp.gain / totalGain, 1)) %  \(imp.splits)")
                }
            }
            var calibratorLines: [String] = []
            switch loaded.calibrator {
            case .platt(let slope, let intercept):
                object["calibrator"] = ["method": "platt", "slope": slope, "intercept": intercept] as [String: Any]
                calibratorLines.append("  platt: probability = sigmoid(\(slope) × margin + \(intercept))")
            case .isotonic(let curve):
                object["calibrator"] = ["method": "isotonic", "margins": curve.margins, "probabilities": curve.probabilities] as [String: Any]
                calibratorLines.append("  isotonic: \(curve.margins.count) knots, margins \(fixed(curve.margins.first!)) … \(fixed(curve.margins.last!)), "
                    + "probabilities \(fixed(curve.probabilities.first!)) … \(fixed(curve.probabilities.last!))")
            case nil: break
            }
            if let profile = loaded.drift {
                object["drift_reference"] = [
                    "rows": profile.rows,
                    "bins": Dictionary(uniqueKeysWithValues: zip(loaded.schema.names, profile.columns.map(\.binCount))),
                ] as [String: Any]
            }
            var contributionLines: [String] = []
            if let data {
                let (_, features) = try readInputs(file: data, schema: loaded.schema, delimiter: try parseDelimiter(delimiter))
                guard let importance = globalImportance(loaded, features: features) else {
                    throw CLIError("\(model) cannot be explained (a tree ensemble without node covers): no importance from --data")
                }
                object["importance_rows"] = importance.rows
                object["contribution_importance"] = importance.columns.map { ["column": $0.name, "mean_abs_contribution": $0.value] }
                contributionLines.append("  mean |contribution| to the log-odds over \(importance.rows) rows of \(data):")
                for (name, value) in importance.columns { contributionLines.append("    \(name)  \(fixed(value))") }
            }
            if json {
                try printJSON(object)
                return
            }
            print("\(model): \(loaded.kind.name), schema fingerprint \(String(fingerprint, radix: 16))")
            print("features (\(loaded.schema.count)):")
            for f in loaded.schema.features {
                switch f.kind {
                case .numeric: print("  \(f.name)  numeric")
                case .categorical(let c):
                    let shown = c.prefix(8).joined(separator: ", ") + (c.count > 8 ? ", …" : "")
                    print("  \(f.name)  categorical, \(c.count) categories: \(shown)")
                }
            }
            print("metadata:")
            for p in loaded.metadata.properties { print("  \(p.key): \(p.value)") }
            for m in loaded.metadata.metrics { print("  \(m.key): \(fixed(m.value))") }
            if !importanceLines.isEmpty {
                print("trees:")
                importanceLines.forEach { print($0) }
            }
            if !contributionLines.isEmpty {
                print("importance:")
                contributionLines.forEach { print($0) }
            }
            if let profile = loaded.drift {
                print("drift reference: \(profile.rows) rows, \(profile.columns.reduce(0) { $0 + $1.binCount }) bins over \(profile.columns.count) columns and \(profile.score.binCount) for the score (propensity drift)")
            } else {
                print("drift reference: none (propensity drift and the server's drift gauges need one: train again, or import with --reference-data)")
            }
            if !calibratorLines.isEmpty {
                print("calibrator (applied to the margin; explanations stay on the margin):")
                calibratorLines.forEach { print($0) }
            }
            if !coefficientLines.isEmpty {
                print("coefficients (original scale; a missing value adds its ':missing' term instead of coefficient × x):")
                coefficientLines.forEach { print($0) }
            }
        }
    }
}
