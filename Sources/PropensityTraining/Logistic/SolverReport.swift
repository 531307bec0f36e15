/// Why a solver stopped. Two stops are convergence; every other one says what went wrong.
public enum SolverStop: Sendable, Equatable, CustomStringConvertible {
    /// max |∂f/∂w_j| / total weight fell to the tolerance.
    case gradientTolerance
    /// The remaining decrease a step could bring is below the loss's rounding error, and no step lowers the gradient
    /// any further: the weights are as exact as double precision can tell. Converged.
    case roundingFloor
    /// The iteration limit was reached first.
    case iterationLimit(Int)
    /// Without a penalty the coefficients grew at every step and did not slow down: the classes are (quasi-)separable,
    /// so no finite optimum exists.
    case separable
    /// No step along the search direction lowered the loss, although the decrease it predicted is larger than the
    /// loss's rounding error (an ill-conditioned Hessian).
    case noDescent(predictedDecrease: Double, roundingError: Double)
    /// The loss, gradient or Hessian at the current weights is not finite, or the Hessian could not be factored
    /// with any finite damping: `what` names it. The fit cannot go on.
    case nonFinite(String)

    public var isConvergence: Bool {
        switch self {
        case .gradientTolerance, .roundingFloor: true
        case .iterationLimit, .separable, .noDescent, .nonFinite: false
        }
    }

    public var description: String {
        switch self {
        case .gradientTolerance:
            "the gradient reached the tolerance"
        case .roundingFloor:
            "the gradient reached the floating-point floor (no step changes the loss by more than its rounding error)"
        case .iterationLimit(let limit):
            "reached the iteration limit (\(limit))"
        case .separable:
            "the coefficients grow without bound: the training classes are (almost) perfectly separable, add a penalty"
        case .noDescent(let predicted, let rounding):
            "no step lowered the loss although the predicted decrease (\(predicted)) exceeds its rounding error "
                + "(\(rounding)): the problem is ill-conditioned, add a penalty"
        case .nonFinite(let what):
            "the \(what) is not a finite number"
        }
    }
}

/// What a solver did, for the user and the model's metadata.
public struct SolverReport: Sendable {
    public var solver: String
    public var iterations: Int
    public var stop: SolverStop
    /// max |∂f/∂w_j| divided by the total sample weight, at the returned weights.
    public var gradientNorm: Double
    public var objective: Double

    public var converged: Bool { stop.isConvergence }
}
