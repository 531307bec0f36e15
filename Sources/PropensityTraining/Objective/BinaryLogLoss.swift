import Foundation

/// Binary log-loss on margins: gradient `w·(p − y)` and hessian `w·p(1 − p)` with `p = sigmoid(margin)`, where
/// positives weigh `positiveWeight` (LightGBM's and XGBoost's `scale_pos_weight`).
struct BinaryLogLoss: Sendable {
    let labels: [UInt8]
    let positiveWeight: Double
    /// Per row, the sample weight (`train --weight`); nil: 1. Gradient and hessian both scale by it.
    var rowWeights: [Double]? = nil

    /// The margin every row starts from: the log-odds of the (weighted) positive rate.
    func baseScore() -> Double {
        var positives = 0.0, negatives = 0.0
        for (i, y) in labels.enumerated() {
            let w = rowWeights?[i] ?? 1
            if y == 1 { positives += w } else { negatives += w }
        }
        let weighted = positives * positiveWeight
        return log(weighted / negatives)
    }

    /// (gradient, hessian) per row, interleaved: the histogram loop reads both with one load. With `rows`, only
    /// those rows' pairs are written (a bagged tree reads no others).
    func gradients(margins: [Double], gh: inout [SIMD2<Float>], rows: [Int32]? = nil, threads: Int) {
        let n = rows?.count ?? labels.count
        let chunks = min(64, max(1, n / 16_384))
        let labels = self.labels
        let w = positiveWeight
        let rowWeights = self.rowWeights
        gh.withUnsafeMutableBufferPointer { out in
            let target = UnsafeMutableSendablePointer(out.baseAddress!)
            margins.withUnsafeBufferPointer { mb in
                let m = UnsafeSendableBuffer(mb)
                func run(_ list: UnsafeSendableBuffer<Int32>?) {
                    ParallelFor.run(count: chunks, threads: threads) { c in
                        for k in (c * n / chunks)..<((c + 1) * n / chunks) {
                            let i = list.map { Int($0.buffer[k]) } ?? k
                            let z = m.buffer[i]
                            let e = exp(-abs(z))
                            let p = z >= 0 ? 1 / (1 + e) : e / (1 + e)
                            let weight = (labels[i] == 1 ? w : 1) * (rowWeights?[i] ?? 1)
                            target.pointer[i] = SIMD2(
                                Float(weight * (p - Double(labels[i]))), Float(max(weight * p * (1 - p), 1e-16)))
                        }
                    }
                }
                if let rows { rows.withUnsafeBufferPointer { run(UnsafeSendableBuffer($0)) } } else { run(nil) }
            }
        }
    }
}
