import PropensityData
import PropensityMetrics

/// How one input column maps to small bin indices, fitted once on the training rows.
///
/// Numeric: bin `b` holds values `v` with `upperBounds[b-1] < Float(v) <= upperBounds[b]` (the last bound is +∞);
/// the bounds are float32 so that a split "bin ≤ b" is exactly "x ≤ upperBounds[b]" on the float32 inputs the
/// scorer sees. Categorical: one bin per kept category. Either way the bin after the value bins (`missingBin`)
/// holds missing values, and for categories also the rare ones that did not get a bin of their own.
public struct BinMapper: Sendable {
    public enum Kind: Sendable {
        case numeric(upperBounds: [Float])
        /// `binOfCode[c]` is the bin of the table's category code `c` (or `missingBin`). Bin `b` is category
        /// `categories[b]`, so bins double as the model's category indices.
        case categorical(categories: [String], binOfCode: [Int32])
    }

    public var kind: Kind
    public var valueBins: Int
    public var missingBin: Int { valueBins }
    public var totalBins: Int { valueBins + 1 }
    /// Categories that did not fit in `maxBin` bins (they score like missing values).
    public var droppedCategories = 0

    public var isCategorical: Bool {
        if case .categorical = kind { return true }
        return false
    }

    /// Quantile bins from (a strided sample of) the training rows: distinct values get a bin each when there are at
    /// most `maxBin` of them; otherwise the cut points are equal-count quantiles, with ties never split.
    static func numeric(_ values: [Float], rows: [Int], maxBin: Int, sampleSize: Int) -> BinMapper {
        let step = max(1, rows.count / sampleSize)
        // Sorted as float32, the values' own type: the same order as their (exact) doubles, in half the bytes.
        var sample: [Float] = []
        sample.reserveCapacity(min(rows.count, sampleSize) + 1)
        var k = 0
        while k < rows.count {
            let v = values[rows[k]]
            if !v.isNaN { sample.append(v) }
            k += step
        }
        sample = FloatSort.ascending(sample)
        var distinct: [Float] = []
        var counts: [Int] = []
        for v in sample {
            if let last = distinct.last, last == v { counts[counts.count - 1] += 1 } else {
                distinct.append(v)
                counts.append(1)
            }
        }
        var bounds: [Float] = []
        if distinct.count <= maxBin {
            for i in 0..<max(0, distinct.count - 1) { bounds.append(midpoint(Double(distinct[i]), Double(distinct[i + 1]))) }
        } else {
            // Greedy equal-count bins over distinct values: close a bin once it holds its share of the remaining rows.
            var remaining = sample.count
            var binsLeft = maxBin
            var inBin = 0
            for i in 0..<(distinct.count - 1) {
                inBin += counts[i]
                let target = Double(remaining) / Double(binsLeft)
                if Double(inBin) >= target || distinct.count - 1 - i < binsLeft {
                    bounds.append(midpoint(Double(distinct[i]), Double(distinct[i + 1])))
                    remaining -= inBin
                    binsLeft -= 1
                    inBin = 0
                    if binsLeft == 1 { break }
                }
            }
        }
        bounds.append(.infinity)
        bounds = bounds.map { $0 == 0 ? 0 : $0 }  // no −0 bound (see `bin(of:)`)
        // Float rounding can merge neighbouring midpoints; keep bounds strictly increasing.
        var unique: [Float] = []
        for b in bounds where unique.last.map({ b > $0 }) ?? true { unique.append(b) }
        return BinMapper(kind: .numeric(upperBounds: unique), valueBins: unique.count)
    }

    private static func midpoint(_ a: Double, _ b: Double) -> Float {
        // The bound must separate the two float32 values: a ≤ bound < b.
        var m = Float((a + b) / 2)
        if Double(m) >= b { m = Float(a) }
        if Double(m) < a { m = Float(a).nextUp }
        return m
    }

    /// One bin per category seen in the training rows, most frequent first when there are more than `maxBin`.
    static func categorical(_ column: Column, rows: [Int], maxBin: Int) -> BinMapper {
        var counts = [Int](repeating: 0, count: column.categories.count)
        for i in rows where column.codes[i] >= 0 { counts[Int(column.codes[i])] += 1 }
        let seen = counts.indices.filter { counts[$0] > 0 }  // file order: stable vocabulary
        var kept = seen
        var dropped = 0
        if seen.count > maxBin {
            kept = seen.sorted { counts[$0] > counts[$1] || (counts[$0] == counts[$1] && $0 < $1) }
                .prefix(maxBin).sorted()
            dropped = seen.count - kept.count
        }
        var binOfCode = [Int32](repeating: Int32(kept.count), count: column.categories.count)
        for (bin, code) in kept.enumerated() { binOfCode[code] = Int32(bin) }
        var mapper = BinMapper(
            kind: .categorical(categories: kept.map { column.categories[$0] }, binOfCode: binOfCode),
            valueBins: kept.count)
        mapper.droppedCategories = dropped
        return mapper
    }

    /// The bin of a numeric value: a branch-free binary search over the upper bounds (the comparison outcome is
    /// data-dependent, so branches would mispredict on every other step).
    @inline(__always)
    static func bin(of value: Float, upperBounds: UnsafeBufferPointer<Float>, missingBin: Int) -> Int {
        if value.isNaN { return missingBin }
        let v = value + 0  // + 0 turns −0 into +0, so the sign test below never sees −0 − 0
        var base = 0
        var count = upperBounds.count
        let bounds = upperBounds.baseAddress!
        while count > 1 {
            let half = count &>> 1
            base &+= half &* greater(bounds[base &+ half &- 1], v)
            count &-= half
        }
        return base
    }

    /// 1 when `v > bound`, else 0: bound − v is negative exactly then (float subtraction keeps the sign of the
    /// exact difference). Taking the sign bit as a number, not a Bool, keeps the compiler from branching.
    @inline(__always)
    private static func greater(_ bound: Float, _ v: Float) -> Int { Int((bound - v).bitPattern &>> 31) }
}
