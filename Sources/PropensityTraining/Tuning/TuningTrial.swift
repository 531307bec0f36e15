import Foundation

/// One point of a search and what cross-validation said of it.
public struct TuningTrial: Sendable {
    /// 0-based, in the order tried.
    public var number: Int
    public var point: [TunedParameter: Double]
    /// Mean held-out AUC over the folds at `trees`, and the folds' standard deviation there (n − 1).
    public var meanAUC: Double
    public var sdAUC: Double
    /// The tree count with the best mean AUC, and how many were grown before stopping.
    public var trees: Int
    public var grown: Int
    /// Stopped by the pruner: `meanAUC` is what it had reached, not a finished figure.
    public var pruned: Bool
    public var seconds: Double

    /// The point in a search-space file's spelling: `learning_rate=0.05 num_leaves=31 …`.
    public var parameters: String {
        point.keys.sorted().map { "\($0.rawValue)=\(Self.format(point[$0]!, integer: $0.isInteger))" }
            .joined(separator: " ")
    }

    static func format(_ x: Double, integer: Bool) -> String {
        integer ? String(Int(x)) : String(format: "%.4g", x)
    }
}
