import PropensityData

extension TrainingAlgorithm {
    /// Fits on `trainRows` of `table` and returns the margins of `heldOutRows` (cross-fitted calibration and
    /// cross-validation). For boosting the held-out rows are the validation set, so early stopping, when asked for,
    /// watches them (as `lightgbm.cv` does).
    func heldOutMargins(
        table: Table, labels: [UInt8], weights: [Double]?, trainRows: [Int], heldOutRows: [Int], labelColumn: String
    ) throws(TrainingError) -> [Double] {
        switch self {
        case .logistic(let options):
            let lr = try LogisticRegressionTrainer.fit(
                table: table, labels: labels, rows: trainRows, labelColumn: labelColumn, options: options,
                rowWeights: weights)
            return TrainingRun.heldOutMargins(lr.model, table: table, rows: heldOutRows)
        case .gbdt(let options):
            return try GBDTTrainer.fit(
                table: table, labels: labels, trainRows: trainRows, validationRows: heldOutRows, labelColumn: labelColumn,
                options: options, rowWeights: weights
            ).validationMargins
        }
    }

    /// The same algorithm fitted on one thread, silently (folds run in parallel instead).
    var singleThreaded: TrainingAlgorithm {
        switch self {
        case .logistic(var options):
            options.threads = 1
            return .logistic(options)
        case .gbdt(var options):
            options.threads = 1
            options.logEvery = 0
            return .gbdt(options)
        }
    }
}
