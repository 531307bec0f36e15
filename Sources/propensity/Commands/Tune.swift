import ArgumentParser
import Foundation
import PropensityData
import PropensityModelFile
import PropensityTraining

/// `propensity tune`: hyperparameter search for gradient-boosted trees, then the best point refitted on every row.
struct Tune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search GBDT hyperparameters by cross-validation and save the best model, refitted on every row.",
        discussion: """
            TPE proposes each point (after --startup-trials random ones; the first is LightGBM's defaults); every \
            trial boosts all folds in lockstep up to --max-trees, stopping --patience trees after the folds' mean \
            AUC last improved, and a median pruner stops trials that fall behind. The search space is in \
            docs/tuning.md; --space FILE overrides it (NAME LOW HIGH [log], or NAME VALUE to fix one).
            """)

    @OptionGroup var input: DataOptions
    @OptionGroup var folding: FoldFlags
    @Option(help: "Trials to run (the budget; with --time-limit, whichever ends first).") var trials: Int?
    @Option(help: "Start no trial after this many seconds.") var timeLimit: Double?
    @Option(help: "Search-space file overriding the standard ranges.") var space: String?
    @Option(help: "Trees per trial at most.") var maxTrees = TuningOptions().maxTrees
    @Option(help: "Stop a trial this many trees after its mean CV AUC last improved.") var patience = TuningOptions().patience
    @Option(help: "Random trials before the TPE model proposes points.") var startupTrials = TuningOptions().startupTrials
    @Flag(help: "Run every trial to its end (no median pruning).") var noPruning = false
    @Option(help: "Random seed (folds, sampling of points, rows and features).") var seed = TrainingSettings.defaultSeed
    @Option(help: "Worker threads (folds boosted at once; the refit's threads).") var threads = GBDTOptions().threads
    @Option(help: "Output model file (the best point, refitted on every row).") var out: String
    @Option(help: "Leaderboard rows to print.") var top = 10
    @Option(help: "Also write the whole search as JSON to this file.") var reportJSON: String?
    @Option(help: "GBDT, not searched: histogram bins per feature.") var maxBin = GBDTOptions().maxBin
    @Option(help: "GBDT, not searched: weight of positive rows.") var scalePosWeight = GBDTOptions().scalePositiveWeight
    @Option(help: "GBDT, not searched: monotone constraints, e.g. price:-1,visits:+1.") var monotone: String?
    @Option(help: "GBDT, not searched: interaction constraints, e.g. a,b;c,d,e.") var interactions: String?

    func run() async throws {
        ProgressReporter.quiet = input.quiet
        try await reportingErrors {
            do {
                try tune()
            } catch let error as TrainingError {
                throw error.inFlags
            } catch let error as TuningError {
                if case .training(let inner) = error { throw inner.inFlags }
                throw CLIError(error.description)
            }
        }
    }

    func searchOptions() throws -> TuningOptions {
        var options = TuningOptions()
        options.trials = trials ?? (timeLimit == nil ? options.trials : nil)
        options.timeLimit = timeLimit
        options.maxTrees = maxTrees
        options.patience = patience
        options.pruning = !noPruning
        options.startupTrials = startupTrials
        options.seed = seed
        options.threads = threads
        if let space {
            let text: String
            do {
                text = try String(contentsOfFile: space, encoding: .utf8)
            } catch {
                throw CLIError("cannot read the search-space file \(space): \(error.localizedDescription)")
            }
            do {
                options.space = try SearchSpace.parse(text)
            } catch {
                throw CLIError("\(space): \(error)")
            }
        }
        try options.validate()
        return options
    }

    func baseOptions() throws -> GBDTOptions {
        var base = GBDTOptions()
        base.maxBin = maxBin
        base.scalePositiveWeight = scalePosWeight
        base.seed = seed
        base.threads = threads
        base.logEvery = 0
        base.monotone = try GBDTFlags.monotoneConstraints(monotone)
        base.interactions = try GBDTFlags.interactionGroups(interactions)
        try base.validate()
        return base
    }

    func tune() throws {
        try folding.validate()
        guard top >= 0 else { throw CLIError("--top must be ≥ 0") }
        let options = try searchOptions()
        let base = try baseOptions()

        let read = try folding.read(input, seed: seed)
        let (labels, weights, assignment, scheme) = (read.labels, read.weights, read.assignment, read.scheme)
        progress("\(read.table.rowCount) rows, \(read.table.columns.count - 1) input columns; \(Set(assignment).count) folds (\(scheme))"
            + (input.weight.map { ", weighted by '\($0)'" } ?? ""))

        let trials = ProgressReporter(
            "tuning", total: options.trials.map(Double.init), unit: .count("trials"), mode: .current())
        defer { trials.finish() }
        let result = try Tuner.run(
            table: read.table, labels: labels.values, weights: weights, folds: assignment, labelColumn: input.label,
            base: base, options: options, scheme: scheme
        ) { t in
            trials.advance()
            trials.note("trial \(t.number): CV AUC \(fixed(t.meanAUC)) ± \(fixed(t.sdAUC)) at \(t.trees) trees"
                + (t.pruned ? " (pruned at \(t.grown))" : "") + ", \(String(format: "%.2f", t.seconds)) s  \(t.parameters)")
        }
        trials.finish()
        let best = result.best
        progress("search: \(result.trials.count) trials (\(result.trials.filter(\.pruned).count) pruned) in \(String(format: "%.2f", result.seconds)) s; best trial \(best.number)")

        var settings = TrainingSettings(
            label: input.label, algorithm: .gbdt(Tuner.refitOptions(result, base: base, threads: threads)))
        settings.validationFraction = 0
        settings.seed = seed
        settings.dataName = (input.data as NSString).lastPathComponent
        settings.dropped = parseList(input.drop)
        settings.created = creationTime()
        settings.version = Propensity.version
        settings.weightColumn = input.weight
        var refit = try TrainingRun.run(table: read.table, labels: labels, weights: weights, settings: settings)
        refit.model.metadata.properties = refit.model.metadata.properties.map { property in
            property.key == "source" ? (property.key, "propensity tune") : property
        } + result.properties.map { (key: $0.0, value: $0.1) }
        refit.model.metadata.metrics += result.metrics.map { (key: $0.0, value: $0.1) }
        try saveModel(refit.model, to: out)

        if let reportJSON { try writeReport(result, to: reportJSON) }
        print("\(result.folds)-fold CV (\(scheme), seed \(seed)): \(result.trials.count) trials in \(String(format: "%.1f", result.seconds)) s, \(result.method)")
        print("  rank  trial  CV AUC ± sd                 trees  seconds  parameters")
        for (rank, t) in result.leaderboard.prefix(top).enumerated() {
            let auc = "\(fixed(t.meanAUC)) ± \(fixed(t.sdAUC))" + (t.pruned ? " (pruned)" : "")
            print("  " + [pad(String(rank + 1), 4), pad(String(t.number), 5), auc.padding(toLength: 26, withPad: " ", startingAt: 0),
                          pad(String(t.trees), 5), pad(String(format: "%.2f", t.seconds), 7)].joined(separator: "  ")
                + "  " + t.parameters)
        }
        print("model: \(out) (best trial \(best.number), \(best.trees) trees, refitted on \(refit.trainRows) rows)")
    }

    func writeReport(_ result: TuningResult, to file: String) throws {
        let trialObjects: [[String: Any]] = result.trials.map { t in
            [
                "trial": t.number, "cv_auc": t.meanAUC, "cv_auc_sd": t.sdAUC, "trees": t.trees, "grown": t.grown,
                "pruned": t.pruned, "seconds": t.seconds,
                "parameters": Dictionary(uniqueKeysWithValues: t.point.map { ($0.key.rawValue, $0.value) }),
            ]
        }
        let object: [String: Any] = [
            "data": input.data, "folds": result.folds, "scheme": result.scheme, "seed": seed, "method": result.method,
            "seconds": result.seconds, "best_trial": result.best.number, "best_cv_auc": result.best.meanAUC,
            "space": result.options.space.description, "trials": trialObjects,
        ]
        let data = try JSONSerialization.data(withJSONObject: jsonSafe(object), options: [.sortedKeys])
        try data.write(to: URL(fileURLWithPath: file))
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
