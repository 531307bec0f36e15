/// Tells coefficients that run off to infinity from ones that converge, from the accepted steps alone.
///
/// Without a penalty, separable classes have no optimum: the loss keeps falling as the weights grow, and its gradient
/// vanishes with it, so a small gradient alone would report convergence. Solvers ask the watch when they stop. By then
/// a converging iteration's steps have shrunk, fast for Newton and at least linearly for L-BFGS, until they are
/// negligible next to the weights; a diverging one is still taking steps of the same size in a growing direction.
/// (Far from a finite optimum steps can grow for a while too, which is why the watch is not asked earlier.) It
/// reports divergence when, over its window, ‖w‖∞ grew at every step, the last step was at least half the one a
/// window earlier, and it still moved the weights by more than 1 part in 1,000.
struct DivergenceWatch {
    let window: Int
    private var stepNorms: [Double] = []
    private var weightNorms: [Double] = []

    init(window: Int) { self.window = window }

    mutating func record(step: [Double], weights: [Double]) {
        stepNorms.append(maxAbs(step))
        weightNorms.append(maxAbs(weights))
    }

    var isDiverging: Bool {
        guard stepNorms.count > window else { return false }
        let steps = stepNorms.suffix(window + 1)
        let norms = weightNorms.suffix(window + 1)
        let growing = zip(norms.dropFirst(), norms).allSatisfy { $0 > $1 }
        let notShrinking = steps.last! >= 0.5 * steps.first!
        let stillMoving = steps.last! > 1e-3 * norms.last!
        return growing && notShrinking && stillMoving
    }

    /// The stop to report: `.separable` in place of `stop` when unpenalized (`l2 == 0`) coefficients are diverging.
    func verdict(on stop: SolverStop, l2: Double) -> SolverStop {
        l2 == 0 && isDiverging ? .separable : stop
    }
}
