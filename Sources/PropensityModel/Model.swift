/// A trained model of any kind, with the metadata of how it was made.
public struct Model: Sendable, Equatable {
    public var body: Body
    public var metadata: ModelMetadata
    /// Turns the margin into the probability every scoring path reports; nil: the plain sigmoid.
    public var calibrator: Calibrator?
    /// The reference data's profile that drift is measured against; nil: the model cannot be monitored for drift.
    public var drift: DriftProfile?

    public init(body: Body, metadata: ModelMetadata, calibrator: Calibrator? = nil, drift: DriftProfile? = nil) {
        self.body = body
        self.metadata = metadata
        self.calibrator = calibrator
        self.drift = drift
    }

    public enum Body: Sendable, Equatable {
        case logisticRegression(LogisticRegressionModel)
        case treeEnsemble(TreeEnsembleModel)
    }

    public var kind: ModelKind {
        switch body {
        case .logisticRegression: .logisticRegression
        case .treeEnsemble: .treeEnsemble
        }
    }

    public var schema: FeatureSchema {
        switch body {
        case .logisticRegression(let m): m.schema
        case .treeEnsemble(let m): m.schema
        }
    }

    /// The margin (log-odds before calibration) for one row of raw features (schema order), in double precision.
    public func margin(_ row: [Float]) -> Double {
        switch body {
        case .logisticRegression(let m): m.margin(row)
        case .treeEnsemble(let m): m.margin(row)
        }
    }

    /// The probability for one row of raw features (schema order), computed directly from the parameters in double
    /// precision, calibrated when the model has a calibrator — the reference for the compiled `Scorer`.
    public func probability(_ row: [Float]) -> Double {
        let z = margin(row)
        return calibrator?.probability(margin: z) ?? Sigmoid.of(z)
    }

    /// The same model without its calibrator (what `evaluate --compare-uncalibrated` scores with).
    public var uncalibrated: Model { Model(body: body, metadata: metadata, drift: drift) }
}
