import Dispatch
import Foundation
import PropensityLinearAlgebra

/// The penalized logistic loss over a dense design matrix, evaluated in cache-sized blocks of rows:
///
///     f(w) = Σᵢ sᵢ · [log(1 + exp(zᵢ)) − yᵢ zᵢ] + (λ/2) · Σ_{j≥1} w_j²,   z = X w
///
/// with sample weights `s` and an unpenalized intercept `w₀`. Each pass streams X once: `gemv` for the margins,
/// `gemv` (transposed) for the gradient and `syrk` on the √h-scaled block for the Hessian Xᵀ diag(h) X.
///
/// Rows are cut into a fixed number of chunks reduced in chunk order, so results do not depend on the thread count.
final class LogisticObjective: @unchecked Sendable {
    let x: [Double]
    let y: [UInt8]
    let sampleWeights: [Double]?
    let rows: Int
    let width: Int
    let l2: Double
    let threads: Int

    static let blockRows = 1024
    static let chunkCount = 16

    init(x: [Double], y: [UInt8], sampleWeights: [Double]?, width: Int, l2: Double, threads: Int) {
        self.x = x
        self.y = y
        self.sampleWeights = sampleWeights
        self.rows = y.count
        self.width = width
        self.l2 = l2
        self.threads = max(1, threads)
    }

    var totalWeight: Double { sampleWeights?.reduce(0, +) ?? Double(rows) }

    /// How far a computed loss `value` may be from the exact one, so that two evaluations closer than this cannot be
    /// told apart. Each row's term is within a few ulps of exact (one exp, one log1p, a product and a sum, ≤ 4ε), and
    /// each of the running sums (⌈rows / chunks⌉ terms per chunk, then the chunks) adds at most ε·|partial sum| per
    /// addition; rounding errors of both kinds have random signs, so they grow like √m·ε·f rather than m·ε·f
    /// (Higham, Accuracy and Stability of Numerical Algorithms, §4.2). The factor 8 covers the constants and the
    /// margins' own rounding (z = Xw through `gemv`).
    func roundingError(of value: Double) -> Double {
        let chunks = min(Self.chunkCount, max(1, rows))
        let additions = Double((rows + chunks - 1) / chunks + chunks)
        return 8 * Double.ulpOfOne * abs(value) * additions.squareRoot()
    }

    struct Evaluation {
        var value: Double
        var gradient: [Double]
        /// Upper triangle, row-major `width × width`; empty when not asked for.
        var hessian: [Double]
    }

    /// The loss alone (line searches).
    func value(_ w: [Double]) -> Double {
        evaluate(w, gradient: false, hessian: false).value
    }

    func evaluate(_ w: [Double], gradient wantGradient: Bool, hessian wantHessian: Bool) -> Evaluation {
        let d = width
        let chunkCount = min(Self.chunkCount, max(1, rows))
        let partials = ChunkResults<Evaluation>(count: chunkCount)
        let work: @Sendable (Int) -> Void = { chunk in
            let lower = chunk * self.rows / chunkCount
            let upper = (chunk + 1) * self.rows / chunkCount
            partials.set(chunk, self.evaluateRows(lower..<upper, w, wantGradient, wantHessian))
        }
        // The reduction below is in chunk order whichever worker evaluated a chunk.
        ParallelFor.run(count: chunkCount, threads: threads, work)
        var total = Evaluation(
            value: 0, gradient: wantGradient ? [Double](repeating: 0, count: d) : [],
            hessian: wantHessian ? [Double](repeating: 0, count: d * d) : [])
        for p in partials.values() {
            total.value += p.value
            for j in 0..<total.gradient.count { total.gradient[j] += p.gradient[j] }
            for j in 0..<total.hessian.count { total.hessian[j] += p.hessian[j] }
        }
        // The penalty, leaving the intercept out.
        for j in 1..<d {
            total.value += 0.5 * l2 * w[j] * w[j]
            if wantGradient { total.gradient[j] += l2 * w[j] }
            if wantHessian { total.hessian[j * d + j] += l2 }
        }
        return total
    }

    private func evaluateRows(_ range: Range<Int>, _ w: [Double], _ wantGradient: Bool, _ wantHessian: Bool)
        -> Evaluation
    {
        let d = width
        var value = 0.0
        var gradient = [Double](repeating: 0, count: wantGradient ? d : 0)
        // The Hessian only steers the step: the gradient (double) decides convergence, so single precision is
        // enough here, and it halves the cost of the Gram product that dominates each pass.
        var hessian32 = [Float](repeating: 0, count: wantHessian ? d * d : 0)
        var margins = [Double](repeating: 0, count: Self.blockRows)
        var residuals = [Double](repeating: 0, count: Self.blockRows)
        var scaled = [Float](repeating: 0, count: wantHessian ? Self.blockRows * d : 0)
        x.withUnsafeBufferPointer { xp in
            var start = range.lowerBound
            while start < range.upperBound {
                let n = min(Self.blockRows, range.upperBound - start)
                let block = xp.baseAddress! + start * d
                margins.withUnsafeMutableBufferPointer { z in
                    BLAS.gemv(
                        transposed: false, rows: n, columns: d, alpha: 1, a: block, lda: d, x: w, beta: 0,
                        y: z.baseAddress!)
                }
                for k in 0..<n {
                    let i = start + k
                    let z = margins[k]
                    let s = sampleWeights?[i] ?? 1
                    let label = Double(y[i])
                    // One exp and one log1p: e = exp(−|z|) gives both log(1 + e^z) and the sigmoid without overflow.
                    let e = exp(-abs(z))
                    value += s * (max(z, 0) + log1p(e) - label * z)
                    let p = z >= 0 ? 1 / (1 + e) : e / (1 + e)
                    residuals[k] = s * (p - label)
                    margins[k] = s * p * (1 - p)  // reused as the Hessian weight h
                }
                if wantGradient {
                    BLAS.gemv(
                        transposed: true, rows: n, columns: d, alpha: 1, a: block, lda: d, x: residuals, beta: 1,
                        y: &gradient)
                }
                if wantHessian {
                    scaled.withUnsafeMutableBufferPointer { sp in
                        for k in 0..<n {
                            let root = margins[k].squareRoot()
                            let source = block + k * d
                            let target = sp.baseAddress! + k * d
                            for j in 0..<d { target[j] = Float(root * source[j]) }
                        }
                        BLAS.gramFloat(rows: n, columns: d, a: sp.baseAddress!, lda: d, beta: 1, c: &hessian32)
                    }
                }
                start += n
            }
        }
        return Evaluation(value: value, gradient: gradient, hessian: hessian32.map(Double.init))
    }
}

