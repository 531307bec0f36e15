import PropensityData
import PropensityMetrics

/// One boosting run advanced a tree at a time: the trainer's loop runs one to the end, tuning runs one per fold in
/// lockstep (the folds' mean held-out metric decides when to stop, as `lightgbm.cv` does).
final class Booster<Bin: FixedWidthInteger & UnsignedInteger>: @unchecked Sendable {
    let train: BinnedData
    let validation: BinnedData?
    let options: GBDTOptions
    /// Labels and weights of the training and validation rows, in their order.
    let y: [UInt8]
    let validationY: [UInt8]
    let trainWeights: [Double]?
    let validationWeights: [Double]?
    let base: Double
    private(set) var margins: [Double]
    private(set) var validationMargins: [Double]
    private(set) var trees: [BinTree] = []
    private let objective: BinaryLogLoss
    private let learner: TreeLearner<Bin>
    private var gh: [SIMD2<Float>]
    /// With `options.gradientBins`: this iteration's quantized statistics.
    private var quantized: QuantizedGradients?

    init(
        train: BinnedData, validation: BinnedData?, labels: [UInt8], trainRows: [Int], validationRows: [Int],
        weights: [Double]?, options: GBDTOptions, constraints: (monotone: [Int8], groups: [Set<Int>]) = ([], [])
    ) {
        self.train = train
        self.validation = validation
        self.options = options
        y = trainRows.map { labels[$0] }
        validationY = validationRows.map { labels[$0] }
        trainWeights = weights.map { w in trainRows.map { w[$0] } }
        validationWeights = weights.map { w in validationRows.map { w[$0] } }
        objective = BinaryLogLoss(labels: y, positiveWeight: options.scalePositiveWeight, rowWeights: trainWeights)
        base = objective.baseScore()
        margins = [Double](repeating: base, count: y.count)
        validationMargins = [Double](repeating: base, count: validationRows.count)
        gh = [SIMD2<Float>](repeating: .zero, count: y.count)
        let limits = options.limits
        var rules = SplitRules(
            l2: options.l2, minChildWeight: options.minChildWeight, minSamplesLeaf: options.minSamplesLeaf,
            minSplitGain: options.minSplitGain)
        rules.monotone = constraints.monotone
        quantized = options.gradientBins.map { levels in
            guard let layout = options.quantizedLayout ?? QuantizedGradients.Layout.choose(levels: levels, rows: trainRows.count)
            else {
                preconditionFailure("\(levels) gradient levels cannot be summed over \(trainRows.count) rows (checked by prepare)")
            }
            return QuantizedGradients(levels: levels, layout: layout, rows: trainRows.count)
        }
        learner = TreeLearner<Bin>(
            data: train, rules: rules, maxLeaves: limits.leaves, maxDepth: limits.depth, threads: options.threads,
            interactionGroups: constraints.groups)
    }

    /// Fits the next tree on the current margins and adds it to the training and validation margins.
    func addTree() {
        let iteration = trees.count
        var rng = SplitMix64(seed: options.seed &+ UInt64(iteration) &* 0x9E37_79B9_7F4A_7C15)
        let sample = options.subsample < 1 ? GBDTTrainer.sampleRows(y.count, options.subsample, &rng) : nil
        let bag = sample?.bag
        objective.gradients(margins: margins, gh: &gh, rows: bag, threads: options.threads)
        let sampled = options.colsample < 1
            ? GBDTTrainer.sampleFeatures(train.features, options.colsample, &rng) : Array(0..<train.features)
        let threads = options.threads
        let tree = gh.withUnsafeBufferPointer { ghp in
            // The iteration's scales live in the copy the learner gets; the buffer it points to is shared.
            let quantized = self.quantized.map { q in
                var q = q
                q.quantize(ghp.baseAddress!, rows: ghp.count, bag: bag, seed: options.seed, iteration: iteration, threads: threads)
                return q
            }
            var (tree, leafRows) = learner.grow(gh: ghp.baseAddress!, quantized: quantized, bag: bag, features: sampled)
            for i in tree.leafValues.indices { tree.leafValues[i] *= options.learningRate }
            // The rows the tree was grown on are known per leaf from the partition: no traversal needed.
            margins.withUnsafeMutableBufferPointer { m in
                let target = UnsafeMutableSendablePointer(m.baseAddress!)
                let values = tree.leafValues
                let leaves = leafRows.map(UnsafeSendableBuffer.init)
                ParallelFor.run(count: leaves.count, threads: threads) { leaf in
                    for row in leaves[leaf].buffer { target.pointer[Int(row)] += values[leaf] }
                }
            }
            return tree
        }
        if let outOfBag = sample?.outOfBag {
            // Only the rows left out of the bag walk the tree.
            margins.withUnsafeMutableBufferPointer { m in
                outOfBag.withUnsafeBufferPointer { rows in
                    tree.addLeafValues(Bin.self, data: train, rows: rows, margins: m.baseAddress!, threads: threads)
                }
            }
        }
        if let validation {
            validationMargins.withUnsafeMutableBufferPointer { m in
                tree.addLeafValues(Bin.self, data: validation, margins: m.baseAddress!, threads: threads)
            }
        }
        trees.append(tree)
    }

    deinit {
        quantized?.deallocate()
    }

    /// Keeps the first `count` trees; the margins then describe those trees only.
    func truncate(to count: Int) {
        guard count < trees.count else { return }
        for tree in trees[count...] {
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
        trees.removeSubrange(count...)
    }

    var trainLogLoss: Double { GBDTTrainer.logLoss(margins, y, trainWeights) }
    var validationLogLoss: Double { GBDTTrainer.logLoss(validationMargins, validationY, validationWeights) }
    var trainAUC: Double { RankMetrics.auc(scores: margins, labels: y, weights: trainWeights) }
    /// The held-out AUC of the current margins (called after every tree by tuning).
    func validationAUC() -> Double {
        RankMetrics.auc(scores: validationMargins, labels: validationY, weights: validationWeights)
    }
}
