/// Maps a model's margin (log-odds) to the probability it reports, fitted on held-out predictions so that the
/// probability means what it says (among rows scored 0.2, about one in five converts).
///
/// Both methods are monotone non-decreasing in the margin, so a calibrated model ranks rows as the bare one does
/// (isotonic steps may tie rows the margin told apart).
public enum Calibrator: Sendable, Equatable {
    /// Platt scaling: `sigmoid(slope · margin + intercept)`, a one-feature logistic regression on the margin.
    case platt(slope: Double, intercept: Double)
    /// Isotonic regression: the piecewise-linear interpolation through `points` (margins strictly increasing,
    /// probabilities non-decreasing in [0, 1]), constant beyond the first and last point.
    case isotonic(IsotonicCurve)

    public var method: CalibrationMethod {
        switch self {
        case .platt: .platt
        case .isotonic: .isotonic
        }
    }

    /// The calibrated probability of `margin`.
    @inlinable
    public func probability(margin: Double) -> Double {
        switch self {
        case .platt(let slope, let intercept): Sigmoid.of(slope * margin + intercept)
        case .isotonic(let curve): curve.value(at: margin)
        }
    }
}

/// The calibration methods `train`/`import --calibrate` offer. Stable numbers: they are written into model files.
public enum CalibrationMethod: UInt16, Sendable, CaseIterable {
    case platt = 1
    case isotonic = 2

    public var name: String {
        switch self {
        case .platt: "platt"
        case .isotonic: "isotonic"
        }
    }

    public init?(name: String) {
        guard let method = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = method
    }
}

/// An isotonic fit's step function as scikit-learn's `IsotonicRegression(out_of_bounds="clip")` predicts with it:
/// linear between knots, clipped to the first and last knot outside them.
public struct IsotonicCurve: Sendable, Equatable {
    public let margins: [Double]
    public let probabilities: [Double]

    /// nil unless there is at least one knot, margins are finite and strictly increasing, and probabilities are
    /// non-decreasing within [0, 1].
    public init?(margins: [Double], probabilities: [Double]) {
        guard !margins.isEmpty, margins.count == probabilities.count,
              margins.allSatisfy(\.isFinite), probabilities.allSatisfy({ $0 >= 0 && $0 <= 1 }),
              zip(margins, margins.dropFirst()).allSatisfy({ $0 < $1 }),
              zip(probabilities, probabilities.dropFirst()).allSatisfy({ $0 <= $1 })
        else { return nil }
        self.margins = margins
        self.probabilities = probabilities
    }

    /// Binary search for the segment, then linear interpolation (numpy's `interp` formula).
    @inlinable
    public func value(at margin: Double) -> Double {
        let n = margins.count
        if !(margin > margins[0]) { return margin.isNaN ? .nan : probabilities[0] }
        if margin >= margins[n - 1] { return probabilities[n - 1] }
        var low = 0, high = n - 1  // margins[low] <= margin < margins[high]
        while high - low > 1 {
            let mid = (low + high) / 2
            if margins[mid] <= margin { low = mid } else { high = mid }
        }
        let (x0, x1, y0, y1) = (margins[low], margins[low + 1], probabilities[low], probabilities[low + 1])
        let slope = (y1 - y0) / (x1 - x0)
        return slope * (margin - x0) + y0
    }
}
