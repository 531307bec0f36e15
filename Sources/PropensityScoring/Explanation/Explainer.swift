import PropensityModel

/// Per-row contributions for any model (see `Contributions`):
/// - tree ensembles: exact path-dependent TreeSHAP over every tree (`TreeSHAP`), with the base score in the bias;
///   needs node covers (`ExplainError.noCovers` otherwise);
/// - logistic regression: each input column's term of the margin exactly, so numeric columns contribute relative to
///   their training mean (`weight · (x − mean) / sd`, plus the missing weight when missing), and categorical columns
///   the weight of their category (an unseen one contributes 0); the intercept is the bias.
///
/// Contributions are on the margin (log-odds); an explainer holds no per-row state, so one serves every thread.
public final class Explainer: Sendable {
    public let schema: FeatureSchema
    private let body: Body

    private enum Body: Sendable {
        case logistic(LogisticRegressionModel)
        case trees(base: Double, trees: [TreeSHAP], pathCapacity: Int)
    }

    /// - Throws: `ExplainError.noCovers` for a tree ensemble without covers.
    public init(model: Model) throws(ExplainError) {
        schema = model.schema
        switch model.body {
        case .logisticRegression(let lr):
            body = .logistic(lr)
        case .treeEnsemble(let ensemble):
            guard ensemble.hasCovers else { throw .noCovers }
            let trees = ensemble.trees.map(TreeSHAP.init)
            body = .trees(
                base: ensemble.baseScore, trees: trees, pathCapacity: trees.map(\.pathCapacity).max() ?? 1)
        }
    }

    /// The bias every row shares: E[margin] for trees, the intercept for logistic regression.
    public var bias: Double {
        switch body {
        case .logistic(let lr): lr.intercept
        case .trees(let base, let trees, _): trees.reduce(base) { $0 + $1.expectedValue }
        }
    }

    /// Contributions of each row of `rows` (row-major, `schema.count` float32 per row, as the scorer takes them).
    public func explain(rows: [Float]) -> [Contributions] {
        let width = schema.count
        precondition(width > 0 && rows.count % width == 0)
        let count = rows.count / width
        let bias = self.bias
        switch body {
        case .logistic(let lr):
            return (0..<count).map { r in
                Contributions(bias: bias, values: Self.terms(lr, rows[(r * width)..<((r + 1) * width)]))
            }
        case .trees(_, let trees, let capacity):
            // One path buffer for all rows and trees: no allocation per row or node.
            let path = UnsafeMutablePointer<TreeSHAP.PathElement>.allocate(capacity: capacity)
            path.initialize(repeating: TreeSHAP.PathElement(), count: capacity)
            defer { path.deallocate() }
            let reciprocals = (0...capacity).map { $0 == 0 ? 0 : 1 / Double($0) }
            var phi = [Double](repeating: 0, count: width)
            return rows.withUnsafeBufferPointer { all in
                (0..<count).map { r in
                    let row = UnsafeBufferPointer(rebasing: all[(r * width)..<((r + 1) * width)])
                    for j in 0..<width { phi[j] = 0 }
                    phi.withUnsafeMutableBufferPointer { out in
                        reciprocals.withUnsafeBufferPointer { r in
                            for tree in trees { tree.add(row: row, phi: out, path: path, reciprocals: r.baseAddress!) }
                        }
                    }
                    return Contributions(bias: bias, values: phi)
                }
            }
        }
    }

    /// One row's contributions.
    public func explain(_ row: [Float]) -> Contributions { explain(rows: row)[0] }

    /// The margin's terms, column by column, exactly as `LogisticRegressionModel.probability` adds them.
    static func terms(_ lr: LogisticRegressionModel, _ row: ArraySlice<Float>) -> [Double] {
        zip(row, lr.terms).map { value, term in
            let x = Double(value)
            switch term {
            case .numeric(let t):
                return x.isNaN
                    ? t.weight * (t.imputedValue - t.center) / t.scale + (t.missingWeight ?? 0)
                    : t.weight * (x - t.center) / t.scale
            case .categorical(let weights):
                return CategoryCode.index(x, count: weights.count).map { weights[$0] } ?? 0
            }
        }
    }
}
