import PropensityData
import PropensityLinearAlgebra
import PropensityModel

/// Penalized logistic regression by Newton–Cholesky or L-BFGS (docs/logistic-regression.md).
public enum LogisticRegressionTrainer {
    /// Fits on `rows` of `table`; every column but `labelColumn` is an input.
    /// - Parameters:
    ///   - table: the data.
    ///   - labels: 0/1 per row of `table`.
    ///   - rows: the training rows.
    ///   - labelColumn: left out of the inputs.
    ///   - options: penalty, class weights, solver, tolerance, threads; checked before any work.
    ///   - rowWeights: a sample weight per row of `table` (≥ 0, finite; `WeightReader`), multiplying the class
    ///     weight as scikit-learn's `sample_weight` does; rows of weight 0 are left out. nil: every row weighs 1.
    /// - Returns: the model, the solver's report (why it stopped) and the encoded feature names.
    /// - Throws: `TrainingError` for a parameter out of range, no rows, one class only, no input columns, or a
    ///   diverged solver. Not converging is not an error: the report says why.
    public static func fit(
        table: Table, labels: [UInt8], rows: [Int], labelColumn: String, options: LogisticRegressionOptions,
        rowWeights: [Double]? = nil
    ) throws(TrainingError) -> LogisticRegressionFit {
        try options.validate()
        let rows = rowWeights.map { w in rows.filter { w[$0] > 0 } } ?? rows
        guard !rows.isEmpty else { throw TrainingError.noTrainingRows }
        let y = rows.map { labels[$0] }
        let positives = y.reduce(0) { $0 + Int($1) }
        guard positives > 0, positives < y.count else {
            throw TrainingError.singleClass(positives: positives, rows: y.count)
        }
        let encoder = FeatureEncoder(table: table, rows: rows, excluding: [labelColumn], threads: options.threads)
        guard !encoder.schema.features.isEmpty else { throw TrainingError.noInputColumns }
        let x = encoder.designMatrix(table: table, rows: rows, threads: options.threads)
        let weights = combined(sampleWeights(y, options.classWeight), rowWeights.map { w in rows.map { w[$0] } })
        BLAS.setThreads(1)  // parallelism comes from the objective's row chunks
        let objective = LogisticObjective(
            x: x, y: y, sampleWeights: weights, width: encoder.width, l2: options.l2, threads: options.threads)

        // Start from the intercept-only optimum so the first step is already small.
        var start = [Double](repeating: 0, count: encoder.width)
        let weightedPositives = zip(y, weights ?? []).reduce(0.0) { $0 + Double($1.0) * $1.1 }
        let rate = weights == nil ? Double(positives) / Double(y.count) : weightedPositives / objective.totalWeight
        start[0] = log(rate / (1 - rate))

        if let sampleRows = options.warmStartRows, sampleRows > 0, y.count >= 4 * sampleRows {
            start = warmStart(
                x: x, y: y, weights: weights, width: encoder.width, sampleRows: sampleRows, from: start, options: options)
        }

        let useNewton = switch options.solver {
        case .newton: true
        case .lbfgs: false
        case .auto: encoder.width <= options.maxNewtonWidth
        }
        let (w, report) = useNewton
            ? NewtonSolver.minimize(objective, from: start, tolerance: options.tolerance, maxIterations: options.maxIterations)
            : LBFGSSolver.minimize(
                objective, from: start, tolerance: options.tolerance, maxIterations: max(options.maxIterations, 1000))
        if case .nonFinite(let what) = report.stop { throw TrainingError.nonFinite(what: what) }
        guard w.allSatisfy(\.isFinite) else {
            throw TrainingError.diverged
        }
        return LogisticRegressionFit(model: encoder.model(weights: w), report: report, encodedNames: encoder.encodedNames)
    }

    /// Solves the same problem on an evenly strided subsample first (penalty scaled to the sample's share), so the
    /// full-data solver starts near the optimum: two or three passes over all rows instead of six or seven.
    /// Only the starting point changes; convergence is still judged on the full data.
    static func warmStart(
        x: [Double], y: [UInt8], weights: [Double]?, width: Int, sampleRows: Int, from start: [Double],
        options: LogisticRegressionOptions
    ) -> [Double] {
        let step = y.count / sampleRows
        let picked = Array(stride(from: 0, to: y.count, by: step).prefix(sampleRows))
        var subX: [Double] = []
        subX.reserveCapacity(picked.count * width)
        for i in picked { subX += x[(i * width)..<((i + 1) * width)] }
        let sub = LogisticObjective(
            x: subX, y: picked.map { y[$0] }, sampleWeights: weights.map { w in picked.map { w[$0] } }, width: width,
            l2: options.l2 * Double(picked.count) / Double(y.count), threads: options.threads)
        let (w, report) = width <= options.maxNewtonWidth
            ? NewtonSolver.minimize(sub, from: start, tolerance: 1e-6, maxIterations: 20)
            : LBFGSSolver.minimize(sub, from: start, tolerance: 1e-6, maxIterations: 200)
        // A separable or degenerate sample gives no useful start.
        return report.converged && w.allSatisfy(\.isFinite) ? w : start
    }

    /// Class weights times row weights, either of which may be absent.
    static func combined(_ classWeights: [Double]?, _ rowWeights: [Double]?) -> [Double]? {
        guard let rowWeights else { return classWeights }
        guard let classWeights else { return rowWeights }
        return zip(classWeights, rowWeights).map(*)
    }

    static func sampleWeights(_ y: [UInt8], _ classWeight: ClassWeight) -> [Double]? {
        switch classWeight {
        case .none:
            return nil
        case .positive(let w):
            return y.map { $0 == 1 ? w : 1 }
        case .balanced:
            let positives = Double(y.reduce(0) { $0 + Int($1) })
            let n = Double(y.count)
            let wp = n / (2 * positives)
            let wn = n / (2 * (n - positives))
            return y.map { $0 == 1 ? wp : wn }
        }
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
