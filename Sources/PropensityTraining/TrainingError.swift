/// A training parameter, named as the library names it (callers map it to their own spelling: the CLI to its flag).
public enum TrainingParameter: String, Sendable, CaseIterable {
    case validationFraction, threads, calibrationFolds
    // Logistic regression.
    case l2, tolerance, maxIterations, classWeight
    // Gradient-boosted trees.
    case trees, learningRate, maxDepth, numLeaves, maxBin, minChildWeight, minSamplesLeaf, minSplitGain, subsample
    case colsample, scalePositiveWeight, earlyStoppingRounds, logEvery, gradientBins
}

/// Why a training request cannot be carried out. Parameters are checked before any data is read.
public enum TrainingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A parameter outside its range; `requirement` is the range in words ("at least 1", "in (0, 1]").
    case invalidParameter(TrainingParameter, requirement: String)
    /// Early stopping watches the validation rows, and there are none.
    case earlyStoppingNeedsValidation
    case noTrainingRows
    /// The training rows hold one class only: nothing to tell apart.
    case singleClass(positives: Int, rows: Int)
    /// Every column is the label or dropped.
    case noInputColumns
    /// The solver produced non-finite weights.
    case diverged
    /// A numeric input beyond the float32 range scoring uses (|x| > 3.4e38), first at `line` of the file.
    case valueOutOfRange(column: String, line: Int)
    /// The loss, gradient or Hessian stopped being finite numbers during the fit (`what` says which).
    case nonFinite(what: String)
    /// The calibrator could not be fitted on the held-out margins.
    case calibration(CalibrationError)
    /// A monotone or interaction constraint names a column that is not an input.
    case constraintOnUnknownColumn(String)
    /// A monotone constraint on a categorical column (its categories have no order).
    case monotoneOnCategorical(String)
    /// A monotone direction other than +1 or −1.
    case monotoneDirection(column: String, direction: Int8)
    /// A cross-validation fold (1-based `fold` of `folds`) whose held-out rows lack a class: there are fewer rows of
    /// a class, or groups holding it, than folds.
    case foldWithoutClass(fold: Int, folds: Int, positives: Int, rows: Int)

    public var description: String {
        switch self {
        case .invalidParameter(let parameter, let requirement): "\(parameter.rawValue) must be \(requirement)"
        case .earlyStoppingNeedsValidation: "early stopping needs validation rows (a validation fraction above 0)"
        case .noTrainingRows: "no training rows"
        case .singleClass(let positives, let rows):
            "the training rows hold only one class (\(positives) positives in \(rows) rows)"
        case .noInputColumns: "no input columns besides the label"
        case .diverged: "the solver diverged (non-finite weights); the classes may be separable: add a penalty"
        case .valueOutOfRange(let column, let line):
            "column '\(column)', line \(line): a value beyond the float32 range (±3.4e38) that scoring reads; rescale the column"
        case .nonFinite(let what):
            "the \(what) became a non-finite number during the fit; rescale the inputs or add a penalty"
        case .calibration(let error): "calibration: \(error)"
        case .constraintOnUnknownColumn(let column): "a constraint names '\(column)', which is not an input column"
        case .monotoneOnCategorical(let column):
            "column '\(column)' is categorical: a monotone constraint needs an ordered (numeric) column"
        case .monotoneDirection(let column, let direction):
            "the monotone direction of '\(column)' must be +1 or -1, not \(direction)"
        case .foldWithoutClass(let fold, let folds, let positives, let rows):
            "fold \(fold) of \(folds) holds \(positives) positives in \(rows) rows: each class needs rows in every fold (fewer folds, or more data)"
        }
    }
}
