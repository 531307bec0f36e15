import PropensityData
import PropensityInput
import PropensityMetrics
import PropensityModel

extension TrainingRun {
    /// Out-of-fold margins for every row of `table`: `folds` models, each fitted on the other folds with the run's
    /// algorithm and parameters, score the fold they did not see.
    static func crossFittedMargins(
        table: Table, labels y: [UInt8], weights: [Double]?, settings: TrainingSettings
    ) throws(TrainingError) -> [Double] {
        let fold = StratifiedSplit.folds(labels: y, count: settings.calibrationFolds, seed: settings.seed &+ 1)
        var margins = [Double](repeating: .nan, count: y.count)
        for k in 0..<settings.calibrationFolds {
            let inside = y.indices.filter { fold[$0] != k }
            let outside = y.indices.filter { fold[$0] == k }
            let held = try settings.algorithm.heldOutMargins(
                table: table, labels: y, weights: weights, trainRows: inside, heldOutRows: outside,
                labelColumn: settings.label)
            for (row, m) in zip(outside, held) { margins[row] = m }
        }
        return margins
    }

    /// The margins of `rows` of the table the model was fitted on.
    static func heldOutMargins(_ model: LogisticRegressionModel, table: Table, rows: [Int]) -> [Double] {
        let width = model.schema.count
        let features = inputRows(model.schema, table: table)
        return rows.map { i in model.margin(features[(i * width)..<((i + 1) * width)]) }
    }
}
