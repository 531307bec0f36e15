import Testing

@testable import PropensityMetrics

/// The radix sort behind the rank metrics: the order a stable comparison sort gives, signs, zeros, infinities and
/// ties included, and every digit pass exercised (scores spread over many exponents).
@Suite struct ScoreOrderTests {
    func stableOrder(_ scores: [Double]) -> [Int] {
        scores.indices.sorted { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
    }

    func order(_ scores: [Double]) -> [Int] {
        scores.withUnsafeBufferPointer { ScoreOrder.ascendingRows($0) }.map { Int($0) }
    }

    @Test func matchesAStableComparisonSort() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
        var scores: [Double] = [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                                .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        for i in 0..<5000 {
            let magnitude = Double(next() % 1_000_000) / 1000 * Double(sign: .plus, exponent: Int(next() % 80) - 40, significand: 1)
            scores.append(next() % 2 == 0 ? magnitude : -magnitude)
            if i % 7 == 0 { scores.append(scores[Int(next() % UInt64(scores.count))]) }  // ties
        }
        let radix = order(scores)
        #expect(radix.map { scores[$0] } == stableOrder(scores).map { scores[$0] })
        // Ties (−0 and +0 count as one value) keep ascending row order.
        for k in 1..<radix.count where scores[radix[k]] == scores[radix[k - 1]] && scores[radix[k]] != 0 {
            #expect(radix[k - 1] < radix[k])
        }
        #expect(order([]) == [] && order([3]) == [0])
        #expect(order([2, 2, 2]) == [0, 1, 2])  // every pass skipped
        #expect(order([0.5, -1, 0.25, -0.5]) == [1, 3, 2, 0])
    }

    /// The radix passes see only the top 33 bits; scores that share them (a few ulps apart, ties among them, both
    /// signs) are put in order by the comparison pass, still stably.
    @Test func scoresAFewUlpsApartAreOrderedByTheirLowBits() {
        var scores: [Double] = []
        for base in [0.7310585786300049, -0.25, 3.0e-9, -812.5] {
            var v = base
            for k in 0..<40 {
                scores.append(v)
                if k % 3 == 0 { scores.append(v) }  // a tie inside the run
                v = k % 2 == 0 ? v.nextUp.nextUp.nextUp : v.nextDown
            }
            scores.append(base)
        }
        let radix = order(scores)
        #expect(radix.map { scores[$0] } == stableOrder(scores).map { scores[$0] })
        #expect(radix == stableOrder(scores))
    }

    @Test func aucOverTheRadixOrderEqualsThePairCount() {
        let scores: [Double] = [0.3, -0.2, 0.3, 0.9, -0.2, 0.1, 0.3]
        let labels: [UInt8] = [1, 0, 0, 1, 1, 0, 1]
        var pairs = 0.0, total = 0.0
        for i in scores.indices where labels[i] == 1 {
            for j in scores.indices where labels[j] == 0 {
                total += 1
                pairs += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0
            }
        }
        #expect(RankMetrics.auc(scores: scores, labels: labels) == pairs / total)
    }
}
