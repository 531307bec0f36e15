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
