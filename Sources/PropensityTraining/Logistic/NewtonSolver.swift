import PropensityLinearAlgebra

/// Newton's method: the Hessian from the objective's single-precision Gram product, the step solved by LAPACK's
/// Cholesky, an Armijo backtracking line search. A Hessian that is not positive definite (collinear columns with
/// λ = 0) is damped (H + μI) until it factors.
///
/// Near the optimum a Newton step lowers the loss by ½·gᵀH⁻¹g, which soon drops below the loss's rounding error, so the
/// loss can no longer judge a step. There the step is taken when the loss did not rise beyond its rounding error and
/// the gradient (computed in double precision, and what convergence is judged on) got smaller; when even that fails,
/// the solver is at the floating-point floor and has converged.
enum NewtonSolver {
    static func minimize(_ objective: LogisticObjective, from start: [Double], tolerance: Double, maxIterations: Int)
        -> (weights: [Double], report: SolverReport)
    {
        let d = objective.width
        let scale = objective.totalWeight
        var w = start
        var current = objective.evaluate(w, gradient: true, hessian: true)
        var iterations = 0
        var watch = DivergenceWatch(window: 4)
        let stop: SolverStop
        while true {
            let gradientNorm = maxAbs(current.gradient)
            guard current.value.isFinite, gradientNorm.isFinite else {
                stop = .nonFinite(current.value.isFinite ? "gradient" : "loss")
                break
            }
            if gradientNorm / scale <= tolerance {
                stop = .gradientTolerance
                break
            }
            if iterations == maxIterations {
                stop = .iterationLimit(maxIterations)
                break
            }
            iterations += 1
            guard let direction = newtonStep(hessian: current.hessian, gradient: current.gradient, width: d) else {
                stop = .nonFinite("Hessian")
                break
            }
            let slope = dot(current.gradient, direction)
            let roundingError = objective.roundingError(of: current.value)
            var candidate = w
            var accepted: LogisticObjective.Evaluation? = nil
            let unresolvable = -slope <= roundingError
            if unresolvable {
                // The loss cannot see this step: judge it by the gradient.
                for j in 0..<d { candidate[j] = w[j] + direction[j] }
                let full = objective.evaluate(candidate, gradient: true, hessian: true)
                if full.value <= current.value + roundingError, maxAbs(full.gradient) < gradientNorm { accepted = full }
            } else {
                var t = 1.0
                while t >= 1e-12 {
                    for j in 0..<d { candidate[j] = w[j] + t * direction[j] }
                    if t == 1 {
                        // A full Newton step is accepted almost always: evaluate everything in the same pass.
                        let full = objective.evaluate(candidate, gradient: true, hessian: true)
                        if full.value <= current.value + 1e-4 * slope { accepted = full; break }
                    } else if objective.value(candidate) <= current.value + 1e-4 * t * slope {
                        accepted = objective.evaluate(candidate, gradient: true, hessian: true)
                        break
                    }
                    t *= 0.5
                }
            }
            guard let next = accepted else {
                stop = unresolvable
                    ? .roundingFloor : .noDescent(predictedDecrease: -slope / 2, roundingError: roundingError)
                break
            }
            current = next
            watch.record(step: (0..<d).map { candidate[$0] - w[$0] }, weights: candidate)
            w = candidate
        }
        return (w, SolverReport(
            solver: "newton-cholesky", iterations: iterations, stop: watch.verdict(on: stop, l2: objective.l2),
            gradientNorm: maxAbs(current.gradient) / scale, objective: current.value))
    }

    /// −H⁻¹g, damping H by growing multiples of its largest diagonal entry until Cholesky succeeds; nil when the
    /// Hessian is not finite or no damping up to 10¹⁰ times that entry makes it factor (ten tries at most).
    private static func newtonStep(hessian: [Double], gradient: [Double], width d: Int) -> [Double]? {
        guard hessian.allSatisfy(\.isFinite) else { return nil }
        let negativeGradient = gradient.map { -$0 }
        let maxDiagonal = (0..<d).map { hessian[$0 * d + $0] }.max() ?? 1
        var damping = 0.0
        for _ in 0..<12 {
            var h = hessian
            if damping > 0 { for j in 0..<d { h[j * d + j] += damping } }
            if let step = Cholesky.solve(upper: h, n: d, rightHandSide: negativeGradient), step.allSatisfy(\.isFinite) {
                return step
            }
            damping = damping == 0 ? max(maxDiagonal, 1e-300) * 1e-10 : damping * 100
        }
        return nil
    }
}
