import PropensityModel

/// Small models the server, client and load tests share.
public enum TestModels {
    /// Three inputs (age numeric with a missing indicator, device categorical, visits numeric), served as "conv".
    public static let logistic: Model = {
        let schema = FeatureSchema(features: [.numeric("age"), .categorical("device", ["mobile", "desktop"]), .numeric("visits")])
        let lr = LogisticRegressionModel(
            schema: schema, intercept: -2,
            terms: [
                .numeric(.init(center: 40, scale: 10, imputedValue: 40, weight: 0.5, missingWeight: 0.3)),
                .categorical(categoryWeights: [0.2, -0.4]),
                .numeric(.init(center: 2, scale: 1, imputedValue: 2, weight: 0.8, missingWeight: nil)),
            ])
        return Model(body: .logisticRegression(lr), metadata: ModelMetadata(properties: [("created", "test")]))
    }()

    /// A two-split tree ensemble over a numeric, a categorical and a numeric input, served as "trees".
    public static let trees: Model = {
        let schema = FeatureSchema(features: [.numeric("x"), .categorical("c", ["a", "b", "c"]), .numeric("y")])
        let tree = DecisionTree(
            nodes: [
                .init(feature: 0, kind: .numeric, defaultLeft: true, threshold: 0.5, left: 1, right: ~0),
                .init(feature: 1, kind: .categorical, defaultLeft: false, threshold: 0, left: ~1, right: ~2,
                      categoryOffset: 0, categoryCount: 1),
            ],
            leafValues: [0.3, -0.2, 0.1], categoryWords: [0b101])
        let ensemble = TreeEnsembleModel(
            schema: schema, baseScore: -1, trees: [tree],
            importance: Array(repeating: FeatureImportance(gain: 0, splits: 0), count: schema.count))
        return Model(body: .treeEnsemble(ensemble), metadata: ModelMetadata(properties: [("created", "test")]))
    }()

    /// A valid row for `logistic`, varied by `i`.
    public static func row(_ i: Int) -> [Float] { [Float(20 + i % 60), Float(i % 2), Float(i % 9)] }
}
