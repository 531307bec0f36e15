import Dispatch
import PropensityData

/// Hyperparameter search for gradient-boosted trees (`propensity tune`, docs/tuning.md): a TPE sampler proposes
/// points, each is cross-validated on pre-binned folds with early stopping on the folds' mean AUC, and a median
/// pruner stops trials that fall behind.
public enum Tuner {
    /// - Parameters:
    ///   - table: the data; every column but the label is an input (remove group, weight and fold columns first).
    ///   - folds: the fold of every row, 0 ..< K; each fold must hold both classes.
    ///   - base: everything not searched (bins, constraints, scale_pos_weight, seed); its trees and early stopping
    ///     are replaced by the search's `maxTrees` and `patience`.
    ///   - progress: called after each trial.
    /// - Throws: `TuningError` for a bad option or space, before any boosting.
    public static func run(
        table: Table, labels: [UInt8], weights: [Double]?, folds: [Int], labelColumn: String, base: GBDTOptions,
        options: TuningOptions, scheme: String, progress: (TuningTrial) -> Void = { _ in }
    ) throws(TuningError) -> TuningResult {
        try options.validate()
        do {
            try base.validate()
            try CrossValidation.checkFolds(labels: labels, weights: weights, folds: folds)
        } catch {
            throw .training(error)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        let data: TuningFolds
        do {
            data = try TuningFolds(
                table: table, labels: labels, weights: weights, assignment: folds, labelColumn: labelColumn,
                base: base, threads: options.threads)
        } catch {
            throw .training(error)
        }
        var sampler = TPESampler(space: options.space, seed: options.seed)
        sampler.startupTrials = options.startupTrials
        var pruner = MedianPruner()
        var trials: [TuningTrial] = []
        var observations: [TPESampler.Observation] = []
        while trials.count < options.trials ?? Int.max {
            if let limit = options.timeLimit, !trials.isEmpty, elapsed() >= limit { break }
            let number = trials.count
            let point = sampler.point(trial: number, history: observations)
            var trial = options.space.options(point, base: base)
            trial.trees = options.maxTrees
            trial.earlyStoppingRounds = nil
            do {
                try trial.validate()
            } catch {
                throw .training(error)
            }
            let trialStart = DispatchTime.now().uptimeNanoseconds
            var reached: [Int: Double] = [:]
            let run = data.evaluate(trial, maxTrees: options.maxTrees, patience: options.patience, threads: options.threads) {
                trees, best in
                if pruner.checkpoints.contains(trees) { reached[trees] = best }
                return options.pruning && pruner.shouldPrune(trees: trees, best: best)
            }
            pruner.record(reached, finalValue: run.pruned ? nil : run.meanAUC)
            let mean = run.meanAUC
            let sd = run.foldAUCs.count > 1
                ? (run.foldAUCs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(run.foldAUCs.count - 1)).squareRoot()
                : 0
            let done = TuningTrial(
                number: number, point: point, meanAUC: mean, sdAUC: sd, trees: run.trees, grown: run.grown,
                pruned: run.pruned, seconds: Double(DispatchTime.now().uptimeNanoseconds - trialStart) / 1e9)
            trials.append(done)
            observations.append(.init(point: point, score: run.pruned ? nil : mean))
            progress(done)
        }
        return TuningResult(
            trials: trials, options: options, folds: data.folds.count, scheme: scheme, seconds: elapsed())
    }

    /// The options a refit uses: the best trial's point with its tree count, on `threads` threads.
    public static func refitOptions(_ result: TuningResult, base: GBDTOptions, threads: Int) -> GBDTOptions {
        var o = result.options.space.options(result.best.point, base: base)
        o.trees = result.best.trees
        o.earlyStoppingRounds = nil
        o.threads = threads
        return o
    }
}
