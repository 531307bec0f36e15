import Foundation
import PropensityData
import PropensityMetrics

extension GBDTTrainer {
    /// The boosting loop, generic over the bin width so every hot loop reads typed bins.
    static func boost<Bin: FixedWidthInteger & UnsignedInteger>(
        _: Bin.Type, train: BinnedData, validation: BinnedData?, y labels: [UInt8], trainRows: [Int],
        validationRows: [Int], weights: [Double]?, features: Int, options: GBDTOptions,
        constraints: (monotone: [Int8], groups: [Set<Int>]) = ([], []), progress: (GBDTProgress) -> Void
    ) -> (trees: [BinTree], base: Double, stoppedEarly: Bool, bestLoss: Double?, margins: [Double], validationMargins: [Double]) {
        let y = trainRows.map { labels[$0] }
        let validationY = validationRows.map { labels[$0] }
        let trainWeights = weights.map { w in trainRows.map { w[$0] } }
        let validationWeights = weights.map { w in validationRows.map { w[$0] } }
        let objective = BinaryLogLoss(labels: y, positiveWeight: options.scalePositiveWeight, rowWeights: trainWeights)
        let base = objective.baseScore()
        var margins = [Double](repeating: base, count: y.count)
        var validationMargins = [Double](repeating: base, count: validationRows.count)
        var gh = [SIMD2<Float>](repeating: .zero, count: y.count)
        let limits = options.limits
        var rules = SplitRules(
            l2: options.l2, minChildWeight: options.minChildWeight, minSamplesLeaf: options.minSamplesLeaf,
            minSplitGain: options.minSplitGain)
        rules.monotone = constraints.monotone
        let learner = TreeLearner<Bin>(
            data: train, rules: rules, maxLeaves: limits.leaves, maxDepth: limits.depth, threads: options.threads,
            interactionGroups: constraints.groups)
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
                validationLoss = logLoss(validationMargins, validationY, validationWeights)
            }
            if shouldLog(iteration, options) {
                progress(GBDTProgress(
                    iteration: iteration + 1, trainLogLoss: logLoss(margins, y, trainWeights),
                    trainAUC: RankMetrics.auc(scores: margins, labels: y, weights: trainWeights),
                    validationLogLoss: validationLoss,
                    validationAUC: validation == nil
                        ? nil : RankMetrics.auc(scores: validationMargins, labels: validationY, weights: validationWeights)))
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

    /// Mean log-loss of margins, weighted when `weights` are given.
    static func logLoss(_ margins: [Double], _ y: [UInt8], _ weights: [Double]? = nil) -> Double {
        var total = 0.0, weight = 0.0
        for (i, (z, label)) in zip(margins, y).enumerated() {
            let w = weights?[i] ?? 1
            // log(1 + e^z) − y z, stable for large |z|.
            total += w * (max(z, 0) + log1p(exp(-abs(z))) - Double(label) * z)
            weight += w
        }
        return weight > 0 ? total / weight : .nan
    }
}
