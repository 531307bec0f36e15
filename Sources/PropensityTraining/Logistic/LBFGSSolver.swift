/// Limited-memory BFGS (two-loop recursion, 10 pairs) for design matrices too wide for a dense Hessian.
///
/// Steps are accepted on the Armijo condition or, where the loss changes by less than its rounding error, on the
/// approximate Wolfe conditions (Hager & Zhang 2005): the loss did not rise beyond rounding and the directional
/// derivative shrank. Where even the predicted decrease is below the rounding error, a step is taken only if it lowers
/// the gradient; when none does, the solver is at the floating-point floor (converged).
enum LBFGSSolver {
    static func minimize(_ objective: LogisticObjective, from start: [Double], tolerance: Double, maxIterations: Int)
        -> (weights: [Double], report: SolverReport)
    {
        let d = objective.width
        let memory = 10
        let scale = objective.totalWeight
        var w = start
        var current = objective.evaluate(w, gradient: true, hessian: false)
        var sHistory: [[Double]] = []
        var yHistory: [[Double]] = []
        var iterations = 0
        var watch = DivergenceWatch(window: 10)
        let stop: SolverStop
        while true {
            guard current.value.isFinite, maxAbs(current.gradient).isFinite else {
                stop = .nonFinite(current.value.isFinite ? "gradient" : "loss")
                break
            }
            if maxAbs(current.gradient) / scale <= tolerance {
                stop = .gradientTolerance
                break
            }
            if iterations == maxIterations {
                stop = .iterationLimit(maxIterations)
                break
            }
            iterations += 1
            var direction = twoLoopDirection(gradient: current.gradient, s: sHistory, y: yHistory)
            var slope = dot(current.gradient, direction)
            if !(slope < 0) {  // not a descent direction (or NaN): restart from steepest descent
                sHistory.removeAll()
                yHistory.removeAll()
                direction = current.gradient.map { -$0 }
                slope = dot(current.gradient, direction)
            }
            let roundingError = objective.roundingError(of: current.value)
            var candidate = w
            var next: LogisticObjective.Evaluation? = nil
            let unresolvable = -slope <= roundingError
            var t = 1.0
            if unresolvable {
                // The loss cannot see this step: judge it by the gradient, as Newton does.
                let gradientNorm = maxAbs(current.gradient)
                for _ in 0..<4 {
                    for j in 0..<d { candidate[j] = w[j] + t * direction[j] }
                    let trial = objective.evaluate(candidate, gradient: true, hessian: false)
                    if trial.value <= current.value + roundingError, maxAbs(trial.gradient) < gradientNorm {
                        next = trial
                        break
                    }
                    t *= 0.5
                }
            } else {
                while t >= 1e-14 {
                    for j in 0..<d { candidate[j] = w[j] + t * direction[j] }
                    let trial = objective.evaluate(candidate, gradient: true, hessian: false)
                    if trial.value <= current.value + 1e-4 * t * slope { next = trial; break }
                    let trialSlope = dot(trial.gradient, direction)
                    if trial.value <= current.value + roundingError, abs(trialSlope) <= 0.9 * abs(slope) {
                        next = trial
                        break
                    }
                    t *= 0.5
                }
            }
            guard let accepted = next else {
                stop = unresolvable
                    ? .roundingFloor : .noDescent(predictedDecrease: -slope / 2, roundingError: roundingError)
                break
            }
            let s = (0..<d).map { candidate[$0] - w[$0] }
            let y = (0..<d).map { accepted.gradient[$0] - current.gradient[$0] }
            if dot(s, y) > 1e-12 * dot(y, y).squareRoot() * dot(s, s).squareRoot() {
                sHistory.append(s)
                yHistory.append(y)
                if sHistory.count > memory {
                    sHistory.removeFirst()
                    yHistory.removeFirst()
                }
            }
            watch.record(step: s, weights: candidate)
            w = candidate
            current = accepted
        }
        return (w, SolverReport(
            solver: "lbfgs", iterations: iterations, stop: watch.verdict(on: stop, l2: objective.l2),
            gradientNorm: maxAbs(current.gradient) / scale, objective: current.value))
    }

    /// −H⁻¹g for the inverse-Hessian approximation the pairs (s, y) define.
    private static func twoLoopDirection(gradient: [Double], s: [[Double]], y: [[Double]]) -> [Double] {
        let d = gradient.count
        var q = gradient
        var alphas = [Double](repeating: 0, count: s.count)
        for k in stride(from: s.count - 1, through: 0, by: -1) {
            let rho = 1 / dot(y[k], s[k])
            alphas[k] = rho * dot(s[k], q)
            for j in 0..<d { q[j] -= alphas[k] * y[k][j] }
        }
        if let last = s.last, let lastY = y.last {
            let gamma = dot(last, lastY) / dot(lastY, lastY)
            for j in 0..<d { q[j] *= gamma }
        } else {
            let norm = dot(q, q).squareRoot()
            for j in 0..<d { q[j] /= max(norm, 1e-300) }
        }
        for k in 0..<s.count {
            let rho = 1 / dot(y[k], s[k])
            let beta = rho * dot(y[k], q)
            for j in 0..<d { q[j] += s[k][j] * (alphas[k] - beta) }
        }
        return q.map { -$0 }
    }
}
