import PropensityModel

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A model turned into an evaluation plan: preprocessing folded into flat arrays, trees flattened into contiguous
/// node arrays, so scoring a row is one pass with no allocation and no dynamic dispatch per feature or node.
///
/// Inputs are float32 in schema order (see `FeatureSchema`); the probability is computed in double and returned as
/// float32. `propensity predict` and the server both score through this type, so their outputs are identical.
public final class Scorer: Sendable {
    public let schema: FeatureSchema
    public let featureCount: Int
    private let plan: PlanKind
    // One of these is set, per `plan`. Separate properties rather than enum payloads: a call then borrows the plan
    // instead of copying it out of the enum (a retain and release per call, per array of a struct plan).
    private let logistic: LogisticPlan?
    private let forest: FlatForest?
    private let trees: TreePlan?
    /// The model's calibrator, as the plans apply it (nil: the sigmoid).
    private let calibration: CalibratedLink?
    public var calibrator: Calibrator? { calibration?.calibrator }

    /// Which evaluation plan the model compiled to (for benchmarks and `inspect`).
    public var planName: String {
        switch plan {
        case .logistic: "logistic"
        case .forest: "flat-forest"
        case .trees: "general-trees"
        }
    }

    /// The batch walk a tree ensemble's plan uses (nil for the other plans): `TreeWalk.fastest` when the model fits it.
    public var treeWalk: TreeWalk? {
        switch plan {
        case .forest: forest.unsafelyUnwrapped.walk
        case .trees: .scalar
        case .logistic: nil
        }
    }

    /// The fewest rows for which scoring several rows in one call beats scoring them one by one (nil: never, the
    /// cost per row is the same). The server gathers small pipelined requests into batches of at least this many.
    public var batchingPays: Int? {
        switch plan {
        case .forest: FlatForest.minimumBlockRows
        case .logistic, .trees: nil
        }
    }

    private enum PlanKind: Sendable {
        case logistic, forest, trees
    }

    /// Compiles `model` into its scoring plan: flat arrays for logistic regression, a branch-free flat forest for
    /// ensembles it fits, the general tree walk otherwise. Never fails: a `Model` is valid by construction (files
    /// are checked on load).
    /// - Parameters:
    ///   - model: a native or imported model.
    ///   - treeWalk: the batch tree walk wanted, one of `TreeWalk.available` (every walk scores the same bits; the
    ///     choice is for tests and benchmarks).
    public init(model: Model, treeWalk: TreeWalk = .fastest) {
        precondition(TreeWalk.available.contains(treeWalk), "this CPU cannot run the \(treeWalk) tree walk")
        schema = model.schema
        featureCount = model.schema.count
        calibration = model.calibrator.map(CalibratedLink.init)
        switch model.body {
        case .logisticRegression(let lr):
            (plan, logistic, forest, trees) = (.logistic, LogisticPlan(lr), nil, nil)
        case .treeEnsemble(let ensemble):
            if let flat = FlatForest(ensemble, walk: treeWalk) {
                (plan, logistic, forest, trees) = (.forest, nil, flat, nil)
            } else {
                (plan, logistic, forest, trees) = (.trees, nil, nil, TreePlan(ensemble))
            }
        }
    }

    /// Scores `rowCount` rows of little-endian float32 features (row-major, `featureCount` per row, no alignment
    /// required) into `output` (`rowCount` little-endian float32, no alignment required).
    public func score(rows input: UnsafeRawBufferPointer, rowCount: Int, into output: UnsafeMutableRawBufferPointer) {
        precondition(input.count >= rowCount * featureCount * 4 && output.count >= rowCount * 4)
        if let calibration {
            score(rows: input, rowCount: rowCount, into: output, link: calibration)
        } else {
            score(rows: input, rowCount: rowCount, into: output, link: SigmoidLink())
        }
    }

    @inline(__always)
    private func score<Link: ScoreLink>(
        rows input: UnsafeRawBufferPointer, rowCount: Int, into output: UnsafeMutableRawBufferPointer, link: Link
    ) {
        let width = featureCount
        switch plan {
        case .logistic: logistic.unsafelyUnwrapped.score(rows: input, rowCount: rowCount, width: width, into: output, link: link)
        case .forest: forest.unsafelyUnwrapped.score(rows: input, rowCount: rowCount, width: width, into: output, link: link)
        case .trees: trees.unsafelyUnwrapped.score(rows: input, rowCount: rowCount, width: width, into: output, link: link)
        }
    }

    /// Convenience for callers holding a float array.
    /// - Parameter features: row-major, `featureCount` float32 per row in schema order (NaN for missing, a
    ///   category's index for a categorical feature); must be whole rows.
    /// - Returns: one probability per row, bit for bit what the server answers for the same rows.
    public func score(_ features: [Float]) -> [Float] {
        precondition(features.count % max(1, featureCount) == 0)
        let rowCount = featureCount == 0 ? 0 : features.count / featureCount
        var out = [Float](repeating: 0, count: rowCount)
        features.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in score(rows: input, rowCount: rowCount, into: output) }
        }
        return out
    }
}
