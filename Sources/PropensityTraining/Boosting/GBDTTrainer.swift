import Foundation
import PropensityData
import PropensityMetrics
import PropensityModel

/// Gradient-boosting settings, named as LightGBM and XGBoost users know them.
public struct GBDTOptions: Sendable {
    public var trees = 100
    public var learningRate = 0.1
    /// Depth limit. Without `numLeaves`, trees grow depth-wise to this depth (default 6).
    public var maxDepth: Int? = nil
    /// Leaf-wise (best-first) growth up to this many leaves.
    public var numLeaves: Int? = nil
    public var maxBin = 255
    /// Minimum sum of hessians in a leaf.
    public var minChildWeight = 1e-3
    public var minSamplesLeaf = 20
    /// L2 penalty on leaf values.
    public var l2 = 0.0
    public var minSplitGain = 0.0
    public var subsample = 1.0
    public var colsample = 1.0
    public var scalePositiveWeight = 1.0
    public var earlyStoppingRounds: Int? = nil
    public var threads = 2
    public var seed: UInt64 = 42
    /// Print metrics every this many trees (0: never).
    public var logEvery = 10

    public init() {}

    /// The effective growth limits: (leaves, depth).
    public var limits: (leaves: Int, depth: Int) {
        if let numLeaves { return (numLeaves, maxDepth ?? Int.max) }
        let depth = maxDepth ?? 6
        return (depth >= 30 ? Int.max : 1 << depth, depth)
    }

    /// Refuses nonsense before any work is done.
    public func validate() throws(TrainingError) {
        func require(_ ok: Bool, _ message: String) throws(TrainingError) { if !ok { throw TrainingError(message) } }
        try require(trees >= 1, "--trees must be at least 1")
        try require(learningRate > 0 && learningRate.isFinite, "--learning-rate must be a positive number")
        try require(maxDepth.map { $0 >= 1 } ?? true, "--max-depth must be at least 1")
        try require(numLeaves.map { $0 >= 2 } ?? true, "--num-leaves must be at least 2")
        try require(maxBin >= 2 && maxBin <= 65_535, "--max-bin must be between 2 and 65535")
        try require(minChildWeight >= 0 && minChildWeight.isFinite, "--min-child-weight must be ≥ 0")
        try require(minSamplesLeaf >= 1, "--min-samples-leaf must be at least 1")
        try require(l2 >= 0 && l2.isFinite, "--l2 must be ≥ 0")
        try require(minSplitGain >= 0 && minSplitGain.isFinite, "--min-split-gain must be ≥ 0")
        try require(subsample > 0 && subsample <= 1, "--subsample must be in (0, 1]")
        try require(colsample > 0 && colsample <= 1, "--colsample must be in (0, 1]")
        try require(scalePositiveWeight > 0 && scalePositiveWeight.isFinite, "--scale-pos-weight must be positive")
        try require(earlyStoppingRounds.map { $0 >= 1 } ?? true, "--early-stopping-rounds must be at least 1")
        try require(threads >= 1, "--threads must be at least 1")
        try require(logEvery >= 0, "--log-every must be ≥ 0")
    }
}

/// Metrics after a boosting round, for progress output.
public struct GBDTProgress: Sendable {
    public var iteration: Int
    public var trainLogLoss: Double
    public var trainAUC: Double
    public var validationLogLoss: Double?
    public var validationAUC: Double?
}

public struct GBDTFit: Sendable {
    public var model: TreeEnsembleModel
    /// Trees kept (the best iteration's count when early stopping triggered).
    public var treeCount: Int
    public var stoppedEarly: Bool
    public var bestValidationLogLoss: Double?
    /// Things the user should know (e.g. categories beyond --max-bin).
    public var notes: [String]
    public var binningSeconds: Double
    public var boostingSeconds: Double
    /// Final margins (log-odds) of the training and validation rows, in the order given: metrics need no rescoring.
    public var trainMargins: [Double]
    public var validationMargins: [Double]
}

public enum GBDTTrainer {
    public static func fit(
        table: Table, labels: [UInt8], trainRows: [Int], validationRows: [Int], labelColumn: String,
        options: GBDTOptions, progress: (GBDTProgress) -> Void = { _ in }
    ) throws(TrainingError) -> GBDTFit {
        try options.validate()
        if options.earlyStoppingRounds != nil && validationRows.isEmpty {
            throw TrainingError("--early-stopping-rounds needs validation rows (--validation-fraction > 0)")
        }
        let y = trainRows.map { labels[$0] }
        let positives = y.reduce(0) { $0 + Int($1) }
        guard !y.isEmpty else { throw TrainingError("no training rows") }
        guard positives > 0, positives < y.count else {
            throw TrainingError("the training rows hold only one class (\(positives) positives in \(y.count) rows)")
        }
        let columns = table.columns.filter { $0.name != labelColumn }
        guard !columns.isEmpty else { throw TrainingError("no input columns besides the label") }

        // Binning: mappers from the training rows, then both splits as bin indices.
        let binStart = DispatchTime.now().uptimeNanoseconds
        let mapperSlots = ChunkResults<BinMapper>(count: columns.count)
        ParallelFor.run(count: columns.count, threads: options.threads) { c in
            let column = columns[c]
            mapperSlots.set(c, column.kind == .numeric
                ? BinMapper.numeric(column.numbers, rows: trainRows, maxBin: options.maxBin, sampleSize: 200_000)
                : BinMapper.categorical(column, rows: trainRows, maxBin: options.maxBin))
        }
        let mappers = mapperSlots.values()
        var notes: [String] = []
        for (column, mapper) in zip(columns, mappers) where mapper.droppedCategories > 0 {
            notes.append("'\(column.name)' has more categories than --max-bin \(options.maxBin): the "
                + "\(mapper.droppedCategories) rarest score as missing")
        }
        let schema = FeatureSchema(features: zip(columns, mappers).map { column, mapper in
            switch mapper.kind {
            case .numeric: .numeric(column.name)
            case .categorical(let categories, _): .categorical(column.name, categories)
            }
        })
        let train = BinnedData(columns: columns, rows: trainRows, mappers: mappers, threads: options.threads)
        let validation = validationRows.isEmpty
            ? nil : BinnedData(columns: columns, rows: validationRows, mappers: mappers, threads: options.threads)
        let binningSeconds = Double(DispatchTime.now().uptimeNanoseconds - binStart) / 1e9

        let boostStart = DispatchTime.now().uptimeNanoseconds
        let run = train.wide
            ? boost(UInt16.self, train: train, validation: validation, y: labels, trainRows: trainRows,
                    validationRows: validationRows, features: columns.count, options: options, progress: progress)
            : boost(UInt8.self, train: train, validation: validation, y: labels, trainRows: trainRows,
                    validationRows: validationRows, features: columns.count, options: options, progress: progress)
        let trees = run.trees
        let boostingSeconds = Double(DispatchTime.now().uptimeNanoseconds - boostStart) / 1e9

        let model = TreeEnsembleModel(
            schema: schema, baseScore: run.base, trees: trees.map { convert($0, mappers: mappers) },
            importance: importance(trees, features: columns.count))
        return GBDTFit(
            model: model, treeCount: trees.count, stoppedEarly: run.stoppedEarly,
            bestValidationLogLoss: run.bestLoss, notes: notes,
            binningSeconds: binningSeconds, boostingSeconds: boostingSeconds, trainMargins: run.margins,
            validationMargins: run.validationMargins)
    }

    /// The boosting loop, generic over the bin width so every hot loop reads typed bins.
    static func boost<Bin: FixedWidthInteger & UnsignedInteger>(
        _: Bin.Type, train: BinnedData, validation: BinnedData?, y labels: [UInt8], trainRows: [Int],
        validationRows: [Int], features: Int, options: GBDTOptions, progress: (GBDTProgress) -> Void
    ) -> (trees: [BinTree], base: Double, stoppedEarly: Bool, bestLoss: Double?, margins: [Double], validationMargins: [Double]) {
        let y = trainRows.map { labels[$0] }
        let validationY = validationRows.map { labels[$0] }
        let objective = BinaryLogLoss(labels: y, positiveWeight: options.scalePositiveWeight)
        let base = objective.baseScore()
        var margins = [Double](repeating: base, count: y.count)
        var validationMargins = [Double](repeating: base, count: validationRows.count)
        var gh = [SIMD2<Float>](repeating: .zero, count: y.count)
        let limits = options.limits
        let rules = SplitRules(
            l2: options.l2, minChildWeight: options.minChildWeight, minSamplesLeaf: options.minSamplesLeaf,
            minSplitGain: options.minSplitGain)
        let learner = TreeLearner<Bin>(
            data: train, rules: rules, maxLeaves: limits.leaves, maxDepth: limits.depth, threads: options.threads)
        var trees: [BinTree] = []
        var best = (iteration: -1, loss: Double.infinity)
        var stoppedEarly = false

        for iteration in 0..<options.trees {
            objective.gradients(margins: margins, gh: &gh, threads: options.threads)
            var rng = SplitMix64(seed: options.seed &+ UInt64(iteration) &* 0x9E37_79B9_7F4A_7C15)
            let bag = options.subsample < 1 ? sampleRows(y.count, options.subsample, &rng) : nil
            let sampled = options.colsample < 1 ? sampleFeatures(features, options.colsample, &rng) : Array(0..<features)

            let tree = gh.withUnsafeBufferPointer { ghp in
                do {
                    var (tree, leafRows) = learner.grow(gh: ghp.baseAddress!, bag: bag, features: sampled)
                    for i in tree.leafValues.indices { tree.leafValues[i] *= options.learningRate }
                    if bag == nil {
                        // Each leaf's rows are known from the partition: no traversal needed.
                        margins.withUnsafeMutableBufferPointer { m in
                            let target = UnsafeMutableSendablePointer(m.baseAddress!)
                            let values = tree.leafValues
                            let leaves = leafRows.map(UnsafeSendableBuffer.init)
                            ParallelFor.run(count: leaves.count, threads: options.threads) { leaf in
                                for row in leaves[leaf].buffer { target.pointer[Int(row)] += values[leaf] }
                            }
                        }
                    }
                    return tree
                }
            }
            if bag != nil {
                margins.withUnsafeMutableBufferPointer { m in
                    tree.addLeafValues(Bin.self, data: train, margins: m.baseAddress!, threads: options.threads)
                }
            }
            if let validation {
                validationMargins.withUnsafeMutableBufferPointer { m in
                    tree.addLeafValues(Bin.self, data: validation, margins: m.baseAddress!, threads: options.threads)
                }
            }
            trees.append(tree)

            var validationLoss: Double? = nil
            if validation != nil && (options.earlyStoppingRounds != nil || shouldLog(iteration, options)) {
                validationLoss = logLoss(validationMargins, validationY)
            }
            if shouldLog(iteration, options) {
                progress(GBDTProgress(
                    iteration: iteration + 1, trainLogLoss: logLoss(margins, y),
                    trainAUC: RankMetrics.auc(scores: margins, labels: y),
                    validationLogLoss: validationLoss,
                    validationAUC: validation == nil ? nil : RankMetrics.auc(scores: validationMargins, labels: validationY)))
            }
            if let rounds = options.earlyStoppingRounds, let loss = validationLoss {
                if loss < best.loss {
                    best = (iteration, loss)
                } else if iteration - best.iteration >= rounds {
                    stoppedEarly = true
                    break
                }
            }
        }
        if stoppedEarly {
            // Margins must describe the kept trees only: take the dropped trees back out.
            for tree in trees[(best.iteration + 1)...] {
                var negated = tree
                for i in negated.leafValues.indices { negated.leafValues[i] = -negated.leafValues[i] }
                margins.withUnsafeMutableBufferPointer { m in
                    negated.addLeafValues(Bin.self, data: train, margins: m.baseAddress!, threads: options.threads)
                }
                if let validation {
                    validationMargins.withUnsafeMutableBufferPointer { m in
                        negated.addLeafValues(Bin.self, data: validation, margins: m.baseAddress!, threads: options.threads)
                    }
                }
            }
            trees.removeSubrange((best.iteration + 1)...)
        }
        return (trees, base, stoppedEarly, best.iteration >= 0 ? best.loss : nil, margins, validationMargins)
    }

    static func shouldLog(_ iteration: Int, _ options: GBDTOptions) -> Bool {
        options.logEvery > 0 && ((iteration + 1) % options.logEvery == 0 || iteration + 1 == options.trees)
    }

    static func logLoss(_ margins: [Double], _ y: [UInt8]) -> Double {
        var total = 0.0
        for (z, label) in zip(margins, y) {
            // log(1 + e^z) − y z, stable for large |z|.
            total += max(z, 0) + log1p(exp(-abs(z))) - Double(label) * z
        }
        return total / Double(max(1, y.count))
    }

    /// Bernoulli row sample (XGBoost's `subsample`); never empty.
    static func sampleRows(_ n: Int, _ rate: Double, _ rng: inout SplitMix64) -> [Int32] {
        var rows: [Int32] = []
        rows.reserveCapacity(Int(Double(n) * rate * 1.05) + 16)
        for i in 0..<n where rng.nextUnit() < rate { rows.append(Int32(i)) }
        return rows.isEmpty ? [Int32(rng.nextInt(below: n))] : rows
    }

    /// `max(1, round(rate · count))` features, ascending.
    static func sampleFeatures(_ count: Int, _ rate: Double, _ rng: inout SplitMix64) -> [Int] {
        var all = Array(0..<count)
        rng.shuffle(&all)
        return all.prefix(max(1, Int((rate * Double(count)).rounded()))).sorted()
    }

    /// Bin-space splits to raw-value splits: "bin ≤ t" is "x ≤ upperBounds[t]"; categorical bins are the
    /// schema's category indices.
    static func convert(_ tree: BinTree, mappers: [BinMapper]) -> DecisionTree {
        var words: [UInt32] = []
        var nodes: [DecisionTree.Node] = []
        for i in 0..<tree.nodeCount {
            let feature = tree.features[i]
            if tree.isCategorical[i] {
                let count = (mappers[feature].valueBins + 31) / 32
                let offset = words.count
                words += [UInt32](repeating: 0, count: count)
                for b in 0..<mappers[feature].valueBins
                where tree.leftWords[tree.categoryOffsets[i] + b >> 6] & (1 << UInt64(b & 63)) != 0 {
                    words[offset + b / 32] |= 1 << UInt32(b % 32)
                }
                nodes.append(DecisionTree.Node(
                    feature: Int32(feature), kind: .categorical, defaultLeft: false, threshold: 0,
                    left: tree.lefts[i], right: tree.rights[i], categoryOffset: UInt32(offset), categoryCount: UInt32(count)))
            } else {
                guard case .numeric(let bounds) = mappers[feature].kind else { preconditionFailure("numeric split on a category") }
                nodes.append(DecisionTree.Node(
                    feature: Int32(feature), kind: .numeric, defaultLeft: tree.defaultLefts[i],
                    threshold: bounds[tree.thresholdBins[i]], left: tree.lefts[i], right: tree.rights[i]))
            }
        }
        return DecisionTree(nodes: nodes, leafValues: tree.leafValues, categoryWords: words)
    }

    static func importance(_ trees: [BinTree], features: Int) -> [FeatureImportance] {
        var result = [FeatureImportance](repeating: FeatureImportance(gain: 0, splits: 0), count: features)
        for tree in trees {
            for i in 0..<tree.nodeCount {
                result[tree.features[i]].gain += tree.gains[i]
                result[tree.features[i]].splits += 1
            }
        }
        return result
    }
}
