import ArgumentParser
import PropensityTraining

/// Gradient-boosting flags; defaults are the library's.
struct GBDTFlags: ParsableArguments {
    @Option(help: "GBDT: number of trees.") var trees = GBDTOptions().trees
    @Option(help: "GBDT: learning rate (shrinkage).") var learningRate = GBDTOptions().learningRate
    @Option(help: "GBDT: depth limit; depth-wise growth to this depth unless --num-leaves is given (default 6).")
    var maxDepth: Int?
    @Option(help: "GBDT: leaf-wise growth up to this many leaves.") var numLeaves: Int?
    @Option(help: "GBDT: histogram bins per feature.") var maxBin = GBDTOptions().maxBin
    @Option(help: "GBDT: minimum sum of hessians in a leaf.") var minChildWeight = GBDTOptions().minChildWeight
    @Option(help: "GBDT: minimum rows in a leaf.") var minSamplesLeaf = GBDTOptions().minSamplesLeaf
    @Option(help: "GBDT: minimum loss reduction to split.") var minSplitGain = GBDTOptions().minSplitGain
    @Option(help: "GBDT: fraction of rows sampled per tree.") var subsample = GBDTOptions().subsample
    @Option(help: "GBDT: fraction of features sampled per tree.") var colsample = GBDTOptions().colsample
    @Option(help: "GBDT: weight of positive rows.") var scalePosWeight = GBDTOptions().scalePositiveWeight
    @Option(help: "GBDT: stop when validation log-loss has not improved for this many trees.")
    var earlyStoppingRounds: Int?
    @Option(help: "GBDT: print train/validation metrics every this many trees (0: never).")
    var logEvery = GBDTOptions().logEvery
    @Option(help: """
        GBDT: quantized training, gradients and hessians rounded to this many levels for the split search (even, \
        2-64; LightGBM's num_grad_quant_bins). Faster; leaf values still come from the exact gradients.
        """)
    var gradientBins: Int?
    @Option(help: "GBDT: monotone constraints on numeric columns, e.g. price:-1,visits:+1.") var monotone: String?
    @Option(help: "GBDT: interaction constraints, groups of columns that may share a branch, e.g. a,b;c,d,e.")
    var interactions: String?

    /// `--monotone` parsed: `COLUMN:+1` or `COLUMN:-1`, comma-separated.
    static func monotoneConstraints(_ monotone: String?) throws -> [(column: String, direction: Int8)] {
        guard let monotone else { return [] }
        return try monotone.split(separator: ",").map { item in
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, let direction = Int8(parts[1].hasPrefix("+") ? String(parts[1].dropFirst()) : String(parts[1])),
                  direction == 1 || direction == -1
            else { throw CLIError("--monotone: '\(item)' is not COLUMN:+1 or COLUMN:-1") }
            return (String(parts[0]), direction)
        }
    }

    /// `--interactions` parsed: groups separated by `;`, columns by `,`.
    static func interactionGroups(_ interactions: String?) throws -> [[String]] {
        guard let interactions else { return [] }
        return try interactions.split(separator: ";", omittingEmptySubsequences: false).map { group in
            let columns = group.split(separator: ",").map(String.init)
            guard !columns.isEmpty else { throw CLIError("--interactions: an empty group in '\(interactions)'") }
            return columns
        }
    }

    func options(l2: Double?, threads: Int, seed: UInt64) throws -> GBDTOptions {
        var o = GBDTOptions()
        o.trees = trees
        o.learningRate = learningRate
        o.maxDepth = maxDepth
        o.numLeaves = numLeaves
        o.maxBin = maxBin
        o.minChildWeight = minChildWeight
        o.minSamplesLeaf = minSamplesLeaf
        if let l2 { o.l2 = l2 }
        o.minSplitGain = minSplitGain
        o.subsample = subsample
        o.colsample = colsample
        o.scalePositiveWeight = scalePosWeight
        o.earlyStoppingRounds = earlyStoppingRounds
        o.threads = threads
        o.seed = seed
        o.logEvery = logEvery
        o.gradientBins = gradientBins
        o.monotone = try Self.monotoneConstraints(monotone)
        o.interactions = try Self.interactionGroups(interactions)
        return o
    }
}
