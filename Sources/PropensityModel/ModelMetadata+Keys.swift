extension ModelMetadata {
    /// The property keys Propensity itself writes and reads (specified in docs/model-format.md). A file may carry
    /// others; unknown keys are kept and shown as they are.
    public enum Key {
        /// ISO 8601 time of training or import.
        public static let created = "created"
        public static let propensityVersion = "propensity_version"
        /// `logistic` or `gbdt` for native models.
        public static let algorithm = "algorithm"
        /// What produced the model: `propensity train`, or the library and format it was imported from.
        public static let source = "source"
        /// The training file's name (never its path or contents).
        public static let trainingData = "training_data"
        public static let label = "label"
        /// The label value that counted as a conversion.
        public static let positive = "positive"
        public static let trainingRows = "training_rows"
        public static let validationRows = "validation_rows"
        public static let trainingPositives = "training_positives"
        public static let dropped = "dropped"
        public static let seed = "seed"
        public static let validationFraction = "validation_fraction"
        public static let importedFrom = "imported_from"
        /// The calibration method (`platt`, `isotonic`); the calibrator itself is the file's CALB section.
        public static let calibration = "calibration"
        /// Where the calibration margins came from: `validation`, `cross-fitted K folds`, or a file's name.
        public static let calibrationSource = "calibration_source"
        public static let calibrationRows = "calibration_rows"
        /// The sample-weight column training weighed rows by (`train --weight`); metrics are then weighted.
        public static let weightColumn = "weight_column"
    }
}
