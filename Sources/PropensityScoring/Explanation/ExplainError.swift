/// Why a model cannot explain, or an explanation request cannot be answered.
public enum ExplainError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A tree ensemble without node covers (written before covers were stored, or imported from a file without
    /// them): retrain, or import again from a file that has them.
    case noCovers
    /// A top-K outside 1 … the model's column count.
    case invalidTopK(Int, columns: Int)

    public var description: String {
        switch self {
        case .noCovers:
            "the model has no node covers, which explanations need (it was written before they were stored, or imported "
                + "from a file without them): train it again, or import it again"
        case .invalidTopK(let k, let columns): "top-K must be between 1 and the model's \(columns) columns, not \(k)"
        }
    }
}
