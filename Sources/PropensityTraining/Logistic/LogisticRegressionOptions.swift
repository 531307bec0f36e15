public struct LogisticRegressionOptions: Sendable {
    /// λ in `Σ loss + (λ/2)‖w‖²` on the standardized scale (scikit-learn: `C = 1/λ`).
    public var l2: Double = 1
    public var classWeight: ClassWeight = .none
    /// Converged when max |gradient| / total sample weight falls to this.
    public var tolerance: Double = 1e-9
    public var maxIterations: Int = 100
    public var solver: Solver = .auto
    /// `auto` switches from Newton to L-BFGS above this many design-matrix columns (the Hessian is width²).
    public var maxNewtonWidth: Int = 2048
    public var threads: Int = 2
    /// Size of the subsample solved first to find a starting point (used when there are at least 4× as many
    /// rows); nil always starts from the intercept-only model.
    public var warmStartRows: Int? = 65_536

    public enum Solver: String, Sendable, CaseIterable {
        case auto, newton, lbfgs
    }

    public init() {}

    /// Refuses nonsense before any work is done.
    public func validate() throws(TrainingError) {
        guard l2 >= 0, l2.isFinite else { throw .invalidParameter(.l2, requirement: "a finite number ≥ 0") }
        guard tolerance > 0, tolerance.isFinite else { throw .invalidParameter(.tolerance, requirement: "positive") }
        guard maxIterations > 0 else { throw .invalidParameter(.maxIterations, requirement: "positive") }
        guard threads >= 1 else { throw .invalidParameter(.threads, requirement: "at least 1") }
        if case .positive(let w) = classWeight, !(w > 0 && w.isFinite) {
            throw .invalidParameter(.classWeight, requirement: "none, balanced or a positive number")
        }
    }
}
