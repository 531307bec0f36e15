import PropensityModel

/// Isotonic regression of the labels on the margin, as scikit-learn's `IsotonicRegression(increasing=True,
/// out_of_bounds="clip")` fits it: margins closer than 1e-15 to a group's first are one point (labels averaged,
/// weights summed), pool-adjacent-violators over the points, then only the knots that shape the curve are kept
/// (the ends, and each point whose value differs from a neighbour's).
enum IsotonicFit {
    /// numpy's `finfo(float64).resolution`, the tolerance scikit-learn merges equal inputs with.
    static let mergeTolerance = 1e-15

    static func fit(margins: [Double], labels: [UInt8]) -> IsotonicCurve {
        let order = margins.indices.sorted { margins[$0] < margins[$1] }
        // Unique points: (margin, mean label, weight).
        var xs: [Double] = [], ys: [Double] = [], ws: [Double] = []
        var first = margins[order[0]], sum = 0.0, weight = 0.0
        for i in order {
            if margins[i] - first >= mergeTolerance {
                xs.append(first); ys.append(sum / weight); ws.append(weight)
                (first, sum, weight) = (margins[i], 0, 0)
            }
            sum += Double(labels[i])
            weight += 1
        }
        xs.append(first); ys.append(sum / weight); ws.append(weight)

        // Pool adjacent violators: blocks of (value, weight, count); a block not above its predecessor merges into it.
        var blockValue: [Double] = [], blockWeight: [Double] = [], blockCount: [Int] = []
        for k in ys.indices {
            var value = ys[k], w = ws[k], count = 1
            while let last = blockValue.last, last >= value {
                let lw = blockWeight.removeLast()
                blockValue.removeLast()
                count += blockCount.removeLast()
                value = (last * lw + value * w) / (lw + w)
                w += lw
            }
            blockValue.append(value); blockWeight.append(w); blockCount.append(count)
        }
        var fitted: [Double] = []
        fitted.reserveCapacity(xs.count)
        for (value, count) in zip(blockValue, blockCount) {
            fitted += repeatElement(min(max(value, 0), 1), count: count)
        }

        // Interior points equal to both neighbours change nothing in the interpolation.
        var knotsX: [Double] = [], knotsY: [Double] = []
        for k in xs.indices {
            let interior = k > 0 && k < xs.count - 1
            if !interior || fitted[k - 1] != fitted[k] || fitted[k] != fitted[k + 1] {
                knotsX.append(xs[k]); knotsY.append(fitted[k])
            }
        }
        guard let curve = IsotonicCurve(margins: knotsX, probabilities: knotsY) else {
            preconditionFailure("pool-adjacent-violators produced a curve that is not monotone")
        }
        return curve
    }
}
