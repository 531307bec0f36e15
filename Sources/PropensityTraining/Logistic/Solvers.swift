import Foundation
import PropensityLinearAlgebra

/// What a solver did, for the user and the model's metadata.
public struct SolverReport: Sendable {
    public var solver: String
    public var iterations: Int
    public var converged: Bool
    /// max |∂f/∂w_j| divided by the total sample weight, at the returned weights.
    public var gradientNorm: Double
    public var objective: Double
    /// Why the solver stopped without converging, if it did.
    public var stopReason: String?
}

/// Newton's method: H built by `syrk`, the step solved by LAPACK's Cholesky, with an Armijo backtracking line search.
/// A Hessian that is not positive definite (collinear columns with λ = 0) is damped (H + μI) until it factors.
enum NewtonSolver {
    static func minimize(_ objective: LogisticObjective, from start: [Double], tolerance: Double, maxIterations: Int)
        -> (weights: [Double], report: SolverReport)
    {
        let d = objective.width
        let scale = objective.totalWeight
        var w = start
        var current = objective.evaluate(w, gradient: true, hessian: true)
        var iterations = 0
        var stopReason: String? = nil
        while true {
            let gradientNorm = maxAbs(current.gradient) / scale
            if gradientNorm <= tolerance { break }
            if iterations == maxIterations {
                stopReason = "reached the iteration limit (\(maxIterations))"
                break
            }
            iterations += 1
            let negativeGradient = current.gradient.map { -$0 }
            var damping = 0.0
            let maxDiagonal = (0..<d).map { current.hessian[$0 * d + $0] }.max() ?? 1
            var step: [Double]? = nil
            while step == nil {
                var h = current.hessian
                if damping > 0 { for j in 0..<d { h[j * d + j] += damping } }
                step = Cholesky.solve(upper: h, n: d, rightHandSide: negativeGradient)
                damping = damping == 0 ? max(maxDiagonal, 1e-300) * 1e-10 : damping * 100
            }
            let direction = step!
            let slope = zip(current.gradient, direction).reduce(0) { $0 + $1.0 * $1.1 }
            var t = 1.0
            var accepted: LogisticObjective.Evaluation? = nil
            var candidate = w
            while t >= 1e-12 {
                for j in 0..<d { candidate[j] = w[j] + t * direction[j] }
                if t == 1 {
                    // A full Newton step is accepted almost always: evaluate everything in the same pass.
                    let full = objective.evaluate(candidate, gradient: true, hessian: true)
                    if full.value <= current.value + 1e-4 * t * slope { accepted = full; break }
                } else if objective.value(candidate) <= current.value + 1e-4 * t * slope {
                    accepted = objective.evaluate(candidate, gradient: true, hessian: true)
                    break
                }
                t *= 0.5
            }
            guard let next = accepted else {
                stopReason = "the line search found no decrease (the loss is flat to machine precision)"
                break
            }
            let improvement = current.value - next.value
            w = candidate
            current = next
            if improvement <= 1e-15 * max(1, abs(current.value)) && maxAbs(current.gradient) / scale > tolerance {
                stopReason = "the loss stopped decreasing; the classes may be separable: add --l2"
                break
            }
        }
        let gradientNorm = maxAbs(current.gradient) / scale
        return (w, SolverReport(
            solver: "newton-cholesky", iterations: iterations, converged: gradientNorm <= tolerance,
            gradientNorm: gradientNorm, objective: current.value,
            stopReason: gradientNorm <= tolerance ? nil : stopReason))
    }
}

/// Limited-memory BFGS (two-loop recursion, 10 pairs) for design matrices too wide for a dense Hessian.
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
        var stopReason: String? = nil
        while maxAbs(current.gradient) / scale > tolerance {
            if iterations == maxIterations {
                stopReason = "reached the iteration limit (\(maxIterations))"
                break
            }
            iterations += 1
            // Two-loop recursion: direction = −H⁻¹ g.
            var q = current.gradient
            var alphas = [Double](repeating: 0, count: sHistory.count)
            for k in stride(from: sHistory.count - 1, through: 0, by: -1) {
                let rho = 1 / dot(yHistory[k], sHistory[k])
                alphas[k] = rho * dot(sHistory[k], q)
                for j in 0..<d { q[j] -= alphas[k] * yHistory[k][j] }
            }
            if let s = sHistory.last, let y = yHistory.last {
                let gamma = dot(s, y) / dot(y, y)
                for j in 0..<d { q[j] *= gamma }
            } else {
                let norm = dot(q, q).squareRoot()
                for j in 0..<d { q[j] /= max(norm, 1e-300) }
            }
            for k in 0..<sHistory.count {
                let rho = 1 / dot(yHistory[k], sHistory[k])
                let beta = rho * dot(yHistory[k], q)
                for j in 0..<d { q[j] += sHistory[k][j] * (alphas[k] - beta) }
            }
            var direction = q.map { -$0 }
            var slope = dot(current.gradient, direction)
            if slope >= 0 {  // not a descent direction: restart from steepest descent
                sHistory.removeAll()
                yHistory.removeAll()
                direction = current.gradient.map { -$0 }
                slope = dot(current.gradient, direction)
            }
            var t = 1.0
            var candidate = w
            var next: LogisticObjective.Evaluation? = nil
            while t >= 1e-14 {
                for j in 0..<d { candidate[j] = w[j] + t * direction[j] }
                let trial = objective.evaluate(candidate, gradient: true, hessian: false)
                if trial.value <= current.value + 1e-4 * t * slope { next = trial; break }
                // Near the optimum the loss changes by less than its rounding error, so Armijo cannot see progress;
                // accept on the approximate Wolfe conditions (Hager & Zhang 2005): the loss did not rise beyond
                // rounding and the directional derivative shrank.
                let trialSlope = dot(trial.gradient, direction)
                if trial.value <= current.value + 1e-12 * abs(current.value), abs(trialSlope) <= 0.9 * abs(slope) {
                    next = trial
                    break
                }
                t *= 0.5
            }
            guard let accepted = next else {
                stopReason = "the line search found no decrease (the loss is flat to machine precision)"
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
            w = candidate
            current = accepted
        }
        let gradientNorm = maxAbs(current.gradient) / scale
        return (w, SolverReport(
            solver: "lbfgs", iterations: iterations, converged: gradientNorm <= tolerance,
            gradientNorm: gradientNorm, objective: current.value,
            stopReason: gradientNorm <= tolerance ? nil : stopReason))
    }

    private static func dot(_ a: [Double], _ b: [Double]) -> Double { BLAS.dot(a, b) }
}

func maxAbs(_ values: [Double]) -> Double {
    values.reduce(0) { max($0, abs($1)) }
}
