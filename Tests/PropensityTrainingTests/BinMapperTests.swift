import PropensityData
import Testing

@testable import PropensityTraining

@Suite struct BinMapperTests {
    /// The table lookup (binning's hot loop) lands every value where the binary search does: values on, just above
    /// and just below every bound, ±0, ±∞, NaN and subnormals, against 1, 2, 3 and 255 bins of Gaussian values, and
    /// 255 bins crowded into one narrow range (where the lookup falls back to the search within the range).
    @Test(arguments: [(1, 1.0), (2, 1.0), (3, 1.0), (255, 1.0), (255, 1e-3)])
    func tableLookupBinsLikeTheBinarySearch(maxBin: Int, spread: Double) {
        var rng = SplitMix64(seed: UInt64(maxBin))
        // Spread 1: Gaussian around 0. Spread 1e-3: around 1, where a 1/128-binade range holds dozens of bounds.
        let train = (0..<5000).map { _ in Float(spread < 1 ? 1 + rng.nextGaussian() * spread : rng.nextGaussian()) }
        let mapper = BinMapper.numeric(train, rows: Array(train.indices), maxBin: maxBin, sampleSize: 200_000)
        guard case .numeric(let bounds) = mapper.kind else {
            Issue.record("a numeric column got \(mapper.kind)")
            return
        }
        var values: [Float] = [
            0, -0, .infinity, -.infinity, .nan, Float(bitPattern: 0xFFC0_0001), -1e30, 1e30, .leastNonzeroMagnitude,
            -.leastNonzeroMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
        ]
        for b in bounds where b.isFinite { values += [b, b.nextUp, b.nextDown, -b] }
        values += train.prefix(1000)
        values += (0..<1000).map { _ in Float(rng.nextGaussian() * 3) }
        bounds.withUnsafeBufferPointer { ub in
            let lookup = NumericBinLookup(upperBounds: ub, missingBin: mapper.missingBin)
            for v in values {
                let expected = BinMapper.bin(of: v, upperBounds: ub, missingBin: mapper.missingBin)
                #expect(lookup.bin(of: v) == expected, "value \(v)")
            }
        }
    }
}
