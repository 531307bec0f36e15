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
    /// Quantized training: gradients and hessians rounded to this many integer levels for the split search (an even
    /// number from 2 to 64; nil: exact). LightGBM's `use_quantized_grad` with `num_grad_quant_bins`, leaves renewed
    /// from the exact gradients (`quant_train_renew_leaf`). Faster histograms; splits may differ slightly.
    public var gradientBins: Int? = nil
    /// Tests only: packs quantized statistics in this layout instead of the narrowest one that fits.
    var quantizedLayout: QuantizedGradients.Layout? = nil
    /// Print metrics every this many trees (0: never).
    public var logEvery = 10
    /// Monotone constraints by numeric column: +1, the model's output never falls as the value rises; −1, never rises.
    /// LightGBM's `monotone_constraints` with `monotone_constraints_method="basic"`.
    public var monotone: [(column: String, direction: Int8)] = []
    /// Interaction constraints: groups of columns; the features on any root-to-leaf path all come from one group
    /// (a column in no group is a group of its own), as LightGBM's and XGBoost's `interaction_constraints`.
    public var interactions: [[String]] = []

    public init() {}

    /// The effective growth limits: (leaves, depth).
    public var limits: (leaves: Int, depth: Int) {
        if let numLeaves { return (numLeaves, maxDepth ?? Int.max) }
        let depth = maxDepth ?? 6
        return (depth >= 30 ? Int.max : 1 << depth, depth)
    }

    /// Refuses nonsense before any work is done.
    public func validate() throws(TrainingError) {
        func require(_ ok: Bool, _ parameter: TrainingParameter, _ requirement: String) throws(TrainingError) {
            if !ok { throw TrainingError.invalidParameter(parameter, requirement: requirement) }
        }
        try require(trees >= 1, .trees, "at least 1")
        try require(learningRate > 0 && learningRate.isFinite, .learningRate, "a positive number")
        try require(maxDepth.map { $0 >= 1 } ?? true, .maxDepth, "at least 1")
        try require(numLeaves.map { $0 >= 2 } ?? true, .numLeaves, "at least 2")
        try require(maxBin >= 2 && maxBin <= 65_535, .maxBin, "between 2 and 65535")
        try require(minChildWeight >= 0 && minChildWeight.isFinite, .minChildWeight, "≥ 0")
        try require(minSamplesLeaf >= 1, .minSamplesLeaf, "at least 1")
        try require(l2 >= 0 && l2.isFinite, .l2, "≥ 0")
        try require(minSplitGain >= 0 && minSplitGain.isFinite, .minSplitGain, "≥ 0")
        try require(subsample > 0 && subsample <= 1, .subsample, "in (0, 1]")
        try require(colsample > 0 && colsample <= 1, .colsample, "in (0, 1]")
        try require(scalePositiveWeight > 0 && scalePositiveWeight.isFinite, .scalePositiveWeight, "positive")
        try require(earlyStoppingRounds.map { $0 >= 1 } ?? true, .earlyStoppingRounds, "at least 1")
        try require(threads >= 1, .threads, "at least 1")
        try require(logEvery >= 0, .logEvery, "≥ 0")
        try require(gradientBins.map { $0 >= 2 && $0 <= 64 && $0 % 2 == 0 } ?? true, .gradientBins, "an even number from 2 to 64")
    }
}
