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
            switch settings.algorithm {
            case .logistic(let options):
                let lr = try LogisticRegressionTrainer.fit(
                    table: table, labels: y, rows: inside, labelColumn: settings.label, options: options,
                    rowWeights: weights)
                let held = heldOutMargins(lr.model, table: table, rows: outside)
                for (row, m) in zip(outside, held) { margins[row] = m }
            case .gbdt(let options):
                let trees = try GBDTTrainer.fit(
                    table: table, labels: y, trainRows: inside, validationRows: outside, labelColumn: settings.label,
                    options: options, rowWeights: weights)
                for (row, m) in zip(outside, trees.validationMargins) { margins[row] = m }
            }
        }
        return margins
    }

    /// The margins of `rows` of the table the model was fitted on.
    static func heldOutMargins(_ model: LogisticRegressionModel, table: Table, rows: [Int]) -> [Double] {
        let width = model.schema.count
        let features = inputRows(model, table: table)
        return rows.map { i in model.margin(features[(i * width)..<((i + 1) * width)]) }
    }
}
