import PropensityModel

/// Per-row contributions for any model (see `Contributions`):
/// - tree ensembles: exact path-dependent TreeSHAP over every tree (`QuadratureTreeSHAP`, or Algorithm 2 in `TreeSHAP`
///   for a tree with more than 16 distinct features on a path), with the base score in the bias; needs node covers
///   (`ExplainError.noCovers` otherwise);
/// - logistic regression: each input column's term of the margin exactly, so numeric columns contribute relative to
///   their training mean (`weight · (x − mean) / sd`, plus the missing weight when missing), and categorical columns
///   the weight of their category (an unseen one contributes 0); the intercept is the bias.
///
/// Contributions are on the margin (log-odds); an explainer holds no per-row state, so one serves every thread.
public final class Explainer: Sendable {
    public let schema: FeatureSchema
    /// The compiled form of the quadrature arithmetic used (every form gives the same bits).
    public let kernel: ExplainKernel
    private let body: Body

    private enum Body: Sendable {
        case logistic(LogisticRegressionModel)
        case trees(Forest)
    }

    /// Each tree prepared for the fastest exact method that takes it, and the sizes the scratch buffers need.
    private struct Forest: Sendable {
        let base: Double
        let trees: [TreeSHAP]
        let methods: [Method]
        /// The trees of the quadrature methods, each set in one table.
        let four: QuadratureTreeSHAP<SIMD4<Double>>
        let eight: QuadratureTreeSHAP<SIMD8<Double>>
        let pathCapacity: Int
        let maxNodes: Int

        /// Quadrature over 4 points (paths of up to 8 distinct features, depth-8 trees), over 8 (up to 16), or
        /// Algorithm 2, with the tree's index in its method's table. An enum rather than a protocol: one switch per
        /// tree, no dispatch inside it.
        enum Method: Sendable {
            case quadrature4(Int)
            case quadrature8(Int)
            case algorithm2
        }

        init(_ ensemble: TreeEnsembleModel) {
            base = ensemble.baseScore
            trees = ensemble.trees.map(TreeSHAP.init)
            var four: [TreeSHAP] = [], eight: [TreeSHAP] = []
            methods = trees.map { paths in
                if QuadratureTreeSHAP<SIMD4<Double>>.takes(paths) {
                    four.append(paths)
                    return .quadrature4(four.count - 1)
                }
                if QuadratureTreeSHAP<SIMD8<Double>>.takes(paths) {
                    eight.append(paths)
                    return .quadrature8(eight.count - 1)
                }
                return .algorithm2
            }
            // Each set holds only trees its width takes, so neither can fail.
            self.four = QuadratureTreeSHAP(four)!
            self.eight = QuadratureTreeSHAP(eight)!
            pathCapacity = trees.map(\.pathCapacity).max() ?? 1
            maxNodes = max(1, ensemble.trees.map(\.nodes.count).max() ?? 0)
        }
    }

    /// - Parameter kernel: one of `ExplainKernel.available` (the fastest by default).
    /// - Throws: `ExplainError.noCovers` for a tree ensemble without covers.
    public init(model: Model, kernel: ExplainKernel = .fastest) throws(ExplainError) {
        precondition(ExplainKernel.available.contains(kernel), "\(kernel) kernel on a CPU without it")
        schema = model.schema
        self.kernel = kernel
        switch model.body {
        case .logisticRegression(let lr):
            body = .logistic(lr)
        case .treeEnsemble(let ensemble):
            guard ensemble.hasCovers else { throw .noCovers }
            body = .trees(Forest(ensemble))
        }
    }

    /// The bias every row shares: E[margin] for trees, the intercept for logistic regression.
    public var bias: Double {
        switch body {
        case .logistic(let lr): lr.intercept
        case .trees(let forest): forest.trees.reduce(forest.base) { $0 + $1.expectedValue }
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
        case .trees(let forest):
            // Buffers for all rows and trees: no allocation per row or node.
            let capacity = forest.pathCapacity
            let path = UnsafeMutablePointer<TreeSHAP.PathElement>.allocate(capacity: capacity)
            path.initialize(repeating: TreeSHAP.PathElement(), count: capacity)
            defer { path.deallocate() }
            let four = QuadratureTreeSHAP<SIMD4<Double>>.Workspace(maxNodes: forest.maxNodes)
            defer { four.deallocate() }
            let eight = QuadratureTreeSHAP<SIMD8<Double>>.Workspace(maxNodes: forest.maxNodes)
            defer { eight.deallocate() }
            let reciprocals = (0...capacity).map { $0 == 0 ? 0 : 1 / Double($0) }
            var phi = [Double](repeating: 0, count: count * width)
            rows.withUnsafeBufferPointer { all in
                phi.withUnsafeMutableBufferPointer { out in
                    reciprocals.withUnsafeBufferPointer { reciprocals in
                        forest.trees.withUnsafeBufferPointer { trees in
                            forest.methods.withUnsafeBufferPointer { methods in
                                // Trees outer within a block of rows: a tree's data serve the whole block from cache.
                                for blockStart in stride(from: 0, to: count, by: Self.rowBlock) {
                                    let block = blockStart..<min(count, blockStart + Self.rowBlock)
                                    for t in 0..<trees.count {
                                        for r in block {
                                            let row = UnsafeBufferPointer(rebasing: all[(r * width)..<((r + 1) * width)])
                                            let phiRow = UnsafeMutableBufferPointer(
                                                rebasing: out[(r * width)..<((r + 1) * width)])
                                            let first = r == block.lowerBound
                                            switch methods[t] {
                                            case .quadrature4(let k):
                                                forest.four.add(tree: k, row: row, phi: phiRow, workspace: four,
                                                                kernel: kernel, prefetch: first)
                                            case .quadrature8(let k):
                                                forest.eight.add(tree: k, row: row, phi: phiRow, workspace: eight,
                                                                 kernel: kernel, prefetch: first)
                                            case .algorithm2:
                                                trees[t].add(
                                                    row: row, phi: phiRow, path: path, reciprocals: reciprocals.baseAddress!)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return (0..<count).map { r in Contributions(bias: bias, values: Array(phi[(r * width)..<((r + 1) * width)])) }
        }
    }

    /// Rows explained together, tree by tree: 32 rows' contributions (28 features) are 7 KB, a depth-6 tree's
    /// records 20 KB (16 and 64 rows measured alike).
    static let rowBlock = 32

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
