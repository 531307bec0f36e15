import Dispatch
import PropensityData
import PropensityMetrics
import PropensityModel

/// K-fold cross-validation (`propensity cv`): each fold is held out once while a model with the run's algorithm and
/// parameters is fitted on the others.
public enum CrossValidation {
    /// - Parameters:
    ///   - table: the data; every column but the label is an input (remove group and weight columns first).
    ///   - labels: 0/1 per row.
    ///   - weights: nil, or a sample weight per row (the fits and the metrics are weighted).
    ///   - folds: the fold index of every row (`StratifiedSplit.folds` or `GroupFolds.folds`), 0 ..< count.
    ///   - settings: the label and the algorithm (its own thread count is replaced: see `threads`).
    ///   - threads: folds run in parallel, up to this many at once, each fitted on one thread, so the result is the
    ///     same at any thread count.
    ///   - foldFinished: called with a fold's index as its fit ends (from the worker thread that fitted it).
    /// - Throws: `TrainingError` from any fold (for example a fold whose training rows hold one class).
    public static func run(
        table: Table, labels: [UInt8], weights: [Double]?, folds: [Int], settings: TrainingSettings, threads: Int,
        scheme: String, foldFinished: @Sendable (Int) -> Void = { _ in }
    ) throws(TrainingError) -> CrossValidationResult {
        try settings.validate()
        try checkFolds(labels: labels, weights: weights, folds: folds)
        let count = (folds.max() ?? 0) + 1
        let results = ChunkResults<Result<CrossValidationResult.Fold, TrainingError>>(count: count)
        ParallelFor.run(count: count, threads: threads) { k in
            results.set(k, Result { () throws(TrainingError) in
                try fit(fold: k, table: table, labels: labels, weights: weights, folds: folds, settings: settings)
            })
            foldFinished(k)
        }
        var out: [CrossValidationResult.Fold] = []
        for result in results.values() { out.append(try result.get()) }
        return CrossValidationResult(folds: out, scheme: scheme)
    }

    /// Refuses folds whose held-out rows lack a class (their AUC is undefined), before any fit.
    public static func checkFolds(labels: [UInt8], weights: [Double]?, folds: [Int]) throws(TrainingError) {
        let count = (folds.max() ?? 0) + 1
        var rows = [Int](repeating: 0, count: count), positives = rows
        for (i, k) in folds.enumerated() where (weights?[i] ?? 1) > 0 {
            rows[k] += 1
            positives[k] += Int(labels[i])
        }
        for k in 0..<count where positives[k] == 0 || positives[k] == rows[k] {
            throw .foldWithoutClass(fold: k + 1, folds: count, positives: positives[k], rows: rows[k])
        }
    }

    static func fit(
        fold k: Int, table: Table, labels y: [UInt8], weights: [Double]?, folds: [Int], settings: TrainingSettings
    ) throws(TrainingError) -> CrossValidationResult.Fold {
        let inside = y.indices.filter { folds[$0] != k && (weights?[$0] ?? 1) > 0 }
        let outside = y.indices.filter { folds[$0] == k }
        let start = DispatchTime.now().uptimeNanoseconds
        let margins = try settings.algorithm.singleThreaded.heldOutMargins(
            table: table, labels: y, weights: weights, trainRows: inside, heldOutRows: outside, labelColumn: settings.label)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let metrics = BinaryMetrics(
            scores: margins.map(Sigmoid.of), labels: outside.map { y[$0] }, weights: weights.map { w in outside.map { w[$0] } })
        return .init(index: k, trainRows: inside.count, metrics: metrics, fitSeconds: seconds)
    }
}
