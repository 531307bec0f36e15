import Testing

import PropensityMetrics

/// The float32 radix sort behind training's bin bounds and the drift profiles' quantiles.
@Suite struct FloatSortTests {
    /// It orders like the standard sort (equal floats may differ only as −0 before +0), over signs, zeros,
    /// infinities, subnormals, ties and values spread over many exponents (every digit pass matters).
    @Test func ordersLikeTheStandardSort() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
        var values: [Float] = [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 1, -1]
        for i in 0..<20_000 {
            let magnitude = Float(next() % 1_000_000) / 1000 * Float(sign: .plus, exponent: Int(next() % 60) - 30, significand: 1)
            values.append(next() % 2 == 0 ? magnitude : -magnitude)
            if i % 9 == 0 { values.append(Float(Int(next() % 7)) - 3) }  // ties
        }
        let sorted = FloatSort.ascending(values)
        #expect(sorted == values.sorted())
        #expect(sorted.map(\.bitPattern).sorted() == values.map(\.bitPattern).sorted())  // a permutation
        #expect(FloatSort.ascending([]) == [] && FloatSort.ascending([2]) == [2])
        #expect(FloatSort.ascending([0, -0.0, 0]).map(\.sign) == [.minus, .plus, .plus])
    }
}
