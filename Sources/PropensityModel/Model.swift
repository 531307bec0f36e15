/// A trained model of any kind, with the metadata of how it was made.
public struct Model: Sendable, Equatable {
    public var body: Body
    public var metadata: ModelMetadata

    public init(body: Body, metadata: ModelMetadata) {
        self.body = body
        self.metadata = metadata
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

    /// The probability for one row of raw features (schema order), computed directly from the parameters in double
    /// precision — the reference for the compiled `Scorer`.
    public func probability(_ row: [Float]) -> Double {
        switch body {
        case .logisticRegression(let m): m.probability(row)
        case .treeEnsemble(let m): m.probability(row)
        }
    }
}
