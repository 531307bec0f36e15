import PropensityModel

/// From the learner's bin-space trees to the model's raw-value trees and importance.
extension GBDTTrainer {
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
        return DecisionTree(
            nodes: nodes, leafValues: tree.leafValues, categoryWords: words, covers: tree.nodeCovers + tree.leafCovers)
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
