import Testing

@testable import PropensityMetrics

@Suite struct MetricsTests {
    @Test func aucMatchesKnownValues() {
        // scikit-learn's roc_auc_score documentation example.
        #expect(RankMetrics.auc(scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1]) == 0.75)
        #expect(RankMetrics.auc(scores: [0.1, 0.2, 0.3], labels: [0, 1, 1]) == 1)
        #expect(RankMetrics.auc(scores: [0.3, 0.2, 0.1], labels: [0, 1, 1]) == 0)
    }

    @Test func aucCountsTiesAsHalf() {
        #expect(RankMetrics.auc(scores: [0.5, 0.5, 0.5, 0.5], labels: [0, 1, 0, 1]) == 0.5)
        // Pairs: (p=0.5 vs n=0.5) ½, (p=0.5 vs n=0.2) 1, (p=0.9 vs both) 2 → 3.5 / 4.
        #expect(RankMetrics.auc(scores: [0.5, 0.5, 0.2, 0.9], labels: [1, 0, 0, 1]) == 0.875)
    }

    @Test func aucIsUndefinedForOneClass() {
        #expect(RankMetrics.auc(scores: [0.1, 0.2], labels: [1, 1]).isNaN)
    }

    @Test func logLossAndBrier() {
        // scikit-learn's log_loss example: −(ln .9 + ln .9 + ln .8 + ln .65) / 4.
        let ll = PointMetrics.logLoss(scores: [0.9, 0.1, 0.2, 0.65], labels: [1, 0, 0, 1])
        #expect(abs(ll - 0.21616187468057912) < 1e-12)
        #expect(abs(PointMetrics.brier(scores: [0.1, 0.9, 0.8, 0.3], labels: [0, 1, 1, 0]) - 0.0375) < 1e-15)
        #expect(PointMetrics.logLoss(scores: [0, 1], labels: [1, 0]).isFinite)
    }

    @Test func liftAndCapture() {
        // 100 rows, 10 positives; the 5 highest scores are all positive.
        let scores = (0..<100).map { Double($0) / 100 }
        var labels = [UInt8](repeating: 0, count: 100)
        for i in [99, 98, 97, 96, 95, 50, 40, 30, 20, 10] { labels[i] = 1 }
        let m = BinaryMetrics(scores: scores, labels: labels, liftFractions: [0.01, 0.05, 0.10])
        #expect(m.lift.map(\.rows) == [1, 5, 10])
        #expect(m.lift[0].lift == 10)  // 100 % vs 10 % overall
        #expect(m.lift[1].lift == 10)
        #expect(m.lift[1].captureRate == 0.5)
        #expect(m.lift[2].lift == 5)
    }

    @Test func calibrationDeciles() {
        let scores = (0..<1000).map { Double($0) / 1000 }
        let labels: [UInt8] = (0..<1000).map { $0 >= 900 ? 1 : 0 }
        let m = BinaryMetrics(scores: scores, labels: labels)
        #expect(m.calibration.count == 10)
        #expect(m.calibration.allSatisfy { $0.rows == 100 })
        #expect(m.calibration[9].observedRate == 1)
        #expect(m.calibration[0].observedRate == 0)
        #expect(abs(m.calibration[0].meanPredicted - 0.0495) < 1e-12)
        #expect(m.auc == 1)
    }
}
