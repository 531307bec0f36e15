/// How to weight the classes in the loss.
public enum ClassWeight: Sendable, Equatable, CustomStringConvertible {
    case none
    /// n / (2 · n_class) per row, as scikit-learn's `class_weight="balanced"`.
    case balanced
    /// The positive rows count this many times; negatives count once.
    case positive(Double)

    /// `none`, `balanced`, or the positive rows' weight: what the metadata records and `init?(_:)` reads.
    public var description: String {
        switch self {
        case .none: "none"
        case .balanced: "balanced"
        case .positive(let w): String(w)
        }
    }

    public init?(_ text: String) {
        switch text {
        case "none": self = .none
        case "balanced": self = .balanced
        default:
            guard let w = Double(text), w > 0, w.isFinite else { return nil }
            self = .positive(w)
        }
    }
}
