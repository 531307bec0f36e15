import PropensityModel

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A model turned into an evaluation plan: preprocessing folded into flat per-feature arrays, so scoring a row is
/// one pass over its features with no allocation and no dynamic dispatch.
///
/// Inputs are float32 in schema order (see `FeatureSchema`); the probability is computed in double and returned as
/// float32. `propensity predict` and the server both score through this type, so their outputs are identical.
public final class Scorer: Sendable {
    public let schema: FeatureSchema
    public let featureCount: Int

    /// Per feature: 0 numeric, 1 categorical.
    private let kinds: [UInt8]
    /// Numeric: weight / scale, so the term is `slope · x`.
    private let slopes: [Double]
    /// Numeric: the whole contribution of a missing value (imputed term + indicator weight), relative to the
    /// folded intercept.
    private let missingTerms: [Double]
    /// Categorical: where its weights start in `categoryWeights`, and how many there are.
    private let tableOffsets: [Int]
    private let tableCounts: [Int]
    private let categoryWeights: [Double]
    private let bias: Double

    public init(model: Model) {
        switch model.body {
        case .logisticRegression(let lr):
            schema = lr.schema
            featureCount = lr.schema.count
            var kinds: [UInt8] = []
            var slopes: [Double] = []
            var missingTerms: [Double] = []
            var offsets: [Int] = []
            var counts: [Int] = []
            var table: [Double] = []
            var bias = lr.intercept
            for term in lr.terms {
                switch term {
                case .numeric(let t):
                    let slope = t.weight / t.scale
                    bias -= slope * t.center
                    kinds.append(0)
                    slopes.append(slope)
                    missingTerms.append(slope * t.imputedValue + (t.missingWeight ?? 0))
                    offsets.append(0)
                    counts.append(0)
                case .categorical(let weights):
                    kinds.append(1)
                    slopes.append(0)
                    missingTerms.append(0)
                    offsets.append(table.count)
                    counts.append(weights.count)
                    table += weights
                }
            }
            self.kinds = kinds
            self.slopes = slopes
            self.missingTerms = missingTerms
            self.tableOffsets = offsets
            self.tableCounts = counts
            self.categoryWeights = table
            self.bias = bias
        }
    }

    /// Scores `rowCount` rows of little-endian float32 features (row-major, `featureCount` per row, no alignment
    /// required) into `output` (`rowCount` little-endian float32, no alignment required).
    public func score(rows input: UnsafeRawBufferPointer, rowCount: Int, into output: UnsafeMutableRawBufferPointer) {
        precondition(input.count >= rowCount * featureCount * 4 && output.count >= rowCount * 4)
        let width = featureCount
        kinds.withUnsafeBufferPointer { kinds in
        slopes.withUnsafeBufferPointer { slopes in
        missingTerms.withUnsafeBufferPointer { missing in
        tableOffsets.withUnsafeBufferPointer { offsets in
        tableCounts.withUnsafeBufferPointer { counts in
        categoryWeights.withUnsafeBufferPointer { table in
            for r in 0..<rowCount {
                var z = bias
                let base = r * width * 4
                for j in 0..<width {
                    let bits = UInt32(littleEndian: input.loadUnaligned(fromByteOffset: base + j * 4, as: UInt32.self))
                    let x = Float(bitPattern: bits)
                    if kinds[j] == 0 {
                        z += x.isNaN ? missing[j] : slopes[j] * Double(x)
                    } else if let code = CategoryCode.index(x, count: counts[j]) {
                        z += table[offsets[j] + code]
                    }
                }
                let p = Float(Sigmoid.of(z))
                output.storeBytes(of: p.bitPattern.littleEndian, toByteOffset: r * 4, as: UInt32.self)
            }
        }}}}}}
    }

    /// Convenience for callers holding a float array (row-major, `featureCount` per row).
    public func score(_ features: [Float]) -> [Float] {
        precondition(features.count % max(1, featureCount) == 0)
        let rowCount = featureCount == 0 ? 0 : features.count / featureCount
        var out = [Float](repeating: 0, count: rowCount)
        features.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in score(rows: input, rowCount: rowCount, into: output) }
        }
        return out
    }
}
