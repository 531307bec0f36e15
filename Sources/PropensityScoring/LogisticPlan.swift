import PropensityModel

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Logistic regression with scaling folded into the weights, numeric and categorical terms in separate loops so
/// that the numeric one has no branch (a missing value selects its term instead). A class: the scorer's plan enum
/// then hands it over with one reference, not one retain per array (measured: that was a third of a call).
final class LogisticPlan: Sendable {
    struct NumericTerm: Sendable {
        /// Byte offset of the feature within a row.
        var offset: Int
        /// weight / scale, so the term is `slope · x`.
        var slope: Double
        /// The whole contribution of a missing value (imputed term + indicator weight), relative to the folded
        /// intercept.
        var missing: Double
    }

    struct CategoricalTerm: Sendable {
        var offset: Int
        /// Where its weights start in `categoryWeights`, and how many there are.
        var table: Int
        var count: Int
    }

    let numeric: [NumericTerm]
    let categorical: [CategoricalTerm]
    let categoryWeights: [Double]
    let bias: Double

    init(_ lr: LogisticRegressionModel) {
        var numeric: [NumericTerm] = []
        var categorical: [CategoricalTerm] = []
        var table: [Double] = []
        var bias = lr.intercept
        for (j, term) in lr.terms.enumerated() {
            switch term {
            case .numeric(let t):
                let slope = t.weight / t.scale
                bias -= slope * t.center
                numeric.append(NumericTerm(
                    offset: j * 4, slope: slope, missing: slope * t.imputedValue + (t.missingWeight ?? 0)))
            case .categorical(let weights):
                categorical.append(CategoricalTerm(offset: j * 4, table: table.count, count: weights.count))
                table += weights
            }
        }
        self.numeric = numeric
        self.categorical = categorical
        self.categoryWeights = table
        self.bias = bias
    }

    func score<Link: ScoreLink>(
        rows input: UnsafeRawBufferPointer, rowCount: Int, width: Int, into output: UnsafeMutableRawBufferPointer,
        link: Link
    ) {
        numeric.withUnsafeBufferPointer { numeric in
        categorical.withUnsafeBufferPointer { categorical in
        categoryWeights.withUnsafeBufferPointer { table in
            for r in 0..<rowCount {
                let row = UnsafeRawBufferPointer(rebasing: input[(r * width * 4)...])
                var z = bias
                for term in numeric {
                    let x = loadFeature(row, term.offset)
                    let value = term.slope * Double(x)
                    z += x.isNaN ? term.missing : value
                }
                for term in categorical {
                    if let code = CategoryCode.index(loadFeature(row, term.offset), count: term.count) {
                        z += table[term.table + code]
                    }
                }
                storeScore(output, r, z, link)
            }
        }}}
    }
}
