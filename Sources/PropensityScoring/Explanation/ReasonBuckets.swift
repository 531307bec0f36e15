import PropensityModel

/// How a reason code names the value behind a contribution without repeating the raw number: for trees the
/// interval between the model's own split thresholds on that column that the value falls in (`(0.5, 3]`), for
/// logistic regression the side of the training mean; a category by its name.
public struct ReasonBuckets: Sendable {
    private let schema: FeatureSchema
    /// Per feature, the sorted distinct thresholds of the trees' numeric splits on it (trees only).
    private let thresholds: [[Float]]?
    /// Per feature, the training mean (logistic regression only).
    private let centers: [Double]?

    public init(model: Model) {
        schema = model.schema
        switch model.body {
        case .treeEnsemble(let ensemble):
            var cuts = [Set<Float>](repeating: [], count: model.schema.count)
            for tree in ensemble.trees {
                for node in tree.nodes where node.kind == .numeric { cuts[Int(node.feature)].insert(node.threshold) }
            }
            thresholds = cuts.map { $0.sorted() }
            centers = nil
        case .logisticRegression(let lr):
            thresholds = nil
            centers = lr.terms.map { if case .numeric(let t) = $0 { t.center } else { .nan } }
        }
    }

    /// The bucket of `value` for column `feature`: a category name, "unseen category", "missing", a threshold
    /// interval (trees) or "below the training mean" / "above the training mean" (logistic regression).
    public func bucket(feature: Int, value: Float) -> String {
        if value.isNaN { return "missing" }
        if let categories = schema.features[feature].kind.categories {
            return CategoryCode.index(Double(value), count: categories.count).map { categories[$0] } ?? "unseen category"
        }
        if let thresholds {
            let cuts = thresholds[feature]
            guard !cuts.isEmpty else { return "any value" }
            // Splits send x <= t left, so the interval is (previous cut, next cut].
            let next = cuts.firstIndex { value <= $0 }
            switch next {
            case 0: return "<= \(cuts[0])"
            case nil: return "> \(cuts[cuts.count - 1])"
            case let i?: return "(\(cuts[i - 1]), \(cuts[i])]"
            }
        }
        let center = centers?[feature] ?? .nan
        return Double(value) < center ? "below the training mean" : Double(value) > center ? "above the training mean"
            : "at the training mean"
    }
}
