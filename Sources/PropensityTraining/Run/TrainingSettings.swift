import PropensityModel

/// Everything a training run needs besides the data: the label, the split, the algorithm, and the facts the model's
/// metadata records about where it came from.
public struct TrainingSettings: Sendable {
    public var label: String
    public var algorithm: TrainingAlgorithm
    /// Share of rows held out (stratified by label) for validation metrics and early stopping; 0 trains on all.
    public var validationFraction = Self.defaultValidationFraction
    /// Seeds the validation split (the trainers' own sampling takes theirs from their options).
    public var seed = Self.defaultSeed

    public static let defaultValidationFraction = 0.2
    public static let defaultSeed: UInt64 = 42
    /// The training file's name, recorded in metadata (a name only: never a path or contents).
    public var dataName: String = ""
    /// Input columns the caller left out, recorded in metadata.
    public var dropped: [String] = []
    /// ISO 8601 creation time, recorded in metadata (the caller decides: a fixed time makes files reproducible).
    public var created: String = ""
    /// The software version recorded in metadata.
    public var version: String = ""
    /// Fit a calibrator on held-out margins: the validation rows, or out-of-fold margins from
    /// `calibrationFolds` cross-fitted models when the validation fraction is 0.
    public var calibration: CalibrationMethod? = nil
    public var calibrationFolds = 5
    /// The sample-weight column (`TrainingRun.run`'s `weights` come from it); recorded in metadata, left out of the inputs.
    public var weightColumn: String? = nil

    public init(label: String, algorithm: TrainingAlgorithm) {
        self.label = label
        self.algorithm = algorithm
    }

    /// Refuses nonsense before any data is read.
    public func validate() throws(TrainingError) {
        guard validationFraction >= 0, validationFraction < 1 else {
            throw .invalidParameter(.validationFraction, requirement: "in [0, 1)")
        }
        guard calibrationFolds >= 2 else { throw .invalidParameter(.calibrationFolds, requirement: "at least 2") }
        switch algorithm {
        case .logistic(let options):
            try options.validate()
        case .gbdt(let options):
            try options.validate()
            if options.earlyStoppingRounds != nil && validationFraction == 0 { throw .earlyStoppingNeedsValidation }
        }
    }
}
