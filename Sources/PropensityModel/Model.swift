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
        case .logisticRegression(let m): m.probability(row.map(Double.init))
        case .treeEnsemble(let m): m.probability(row)
        }
    }
}

/// Stable numbers: they are written into model files.
public enum ModelKind: UInt16, Sendable, CaseIterable {
    case logisticRegression = 1
    case treeEnsemble = 2

    public var name: String {
        switch self {
        case .logisticRegression: "logistic-regression"
        case .treeEnsemble: "tree-ensemble"
        }
    }
}

/// How a model was made: free-form text facts and named metrics, both in a fixed order.
public struct ModelMetadata: Sendable, Equatable {
    /// E.g. `created`, `algorithm`, `training_rows`, `l2`, `label`, `positive`, `propensity_version`.
    public var properties: [(key: String, value: String)]
    /// E.g. `validation_auc`, `validation_logloss`.
    public var metrics: [(key: String, value: Double)]

    public init(properties: [(key: String, value: String)] = [], metrics: [(key: String, value: Double)] = []) {
        self.properties = properties
        self.metrics = metrics
    }

    public subscript(property key: String) -> String? {
        properties.first { $0.key == key }?.value
    }

    public static func == (a: ModelMetadata, b: ModelMetadata) -> Bool {
        a.properties.map(\.key) == b.properties.map(\.key) && a.properties.map(\.value) == b.properties.map(\.value)
            && a.metrics.map(\.key) == b.metrics.map(\.key)
            && zip(a.metrics, b.metrics).allSatisfy { $0.value == $1.value || ($0.value.isNaN && $1.value.isNaN) }
    }
}
