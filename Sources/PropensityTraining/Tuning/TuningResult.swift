/// A finished search: every trial in order, and the best.
public struct TuningResult: Sendable {
    public var trials: [TuningTrial]
    public var options: TuningOptions
    public var folds: Int
    /// "stratified", "grouped by 'COLUMN'" or "given by 'COLUMN'".
    public var scheme: String
    public var seconds: Double

    /// The method, as recorded in metadata.
    public var method: String {
        "TPE (\(options.startupTrials) random startup trials)" + (options.pruning ? " with median pruning" : "")
    }

    /// The finished trial with the highest mean CV AUC (the first of equals).
    public var best: TuningTrial {
        let finished = trials.filter { !$0.pruned }
        return finished.max { a, b in a.meanAUC < b.meanAUC || (a.meanAUC == b.meanAUC && a.number > b.number) }!
    }

    /// Finished trials by mean CV AUC, best first, then pruned ones by what they reached.
    public var leaderboard: [TuningTrial] {
        trials.sorted { a, b in
            if a.pruned != b.pruned { return !a.pruned }
            return a.meanAUC != b.meanAUC ? a.meanAUC > b.meanAUC : a.number < b.number
        }
    }

    /// What the refitted model's metadata records of the search.
    public var properties: [(String, String)] {
        let best = self.best
        let top = leaderboard.prefix(5).map { "#\($0.number) auc=\(String(format6: $0.meanAUC)) trees=\($0.trees) \($0.parameters)" }
        return [
            ("tuning_method", method),
            ("tuning_folds", "\(folds) (\(scheme))"),
            ("tuning_trials", String(trials.count)),
            ("tuning_pruned", String(trials.filter(\.pruned).count)),
            ("tuning_seed", String(options.seed)),
            ("tuning_budget", [options.trials.map { "\($0) trials" }, options.timeLimit.map { "\($0) s" }]
                .compactMap { $0 }.joined(separator: ", ")),
            ("tuning_max_trees", String(options.maxTrees)),
            ("tuning_patience", String(options.patience)),
            ("tuning_space", options.space.description.replacingOccurrences(of: "\n", with: "; ")),
            ("tuning_best_trial", String(best.number)),
            ("tuning_best_parameters", best.parameters),
            ("tuning_leaderboard", top.joined(separator: " | ")),
        ]
    }

    public var metrics: [(String, Double)] {
        [("cv_auc", best.meanAUC), ("cv_auc_sd", best.sdAUC), ("tuning_seconds", seconds)]
    }
}

private extension String {
    init(format6 x: Double) { self = String(Double(Int((x * 1e6).rounded())) / 1e6) }
}
