import Foundation
import Testing

@testable import PropensityMetrics

/// DeLong's test and the report's curves against independent references (Tests/Fixtures/make_delong_fixtures.py:
/// DeLong from its O(mn) definition with scipy's normal distribution; scikit-learn's roc_curve,
/// precision_recall_curve and average_precision_score).
@Suite struct DeLongTests {
    struct Case {
        let name: String
        let a: [Double], b: [Double], labels: [UInt8]
        let reference: [String: Any]
    }

    static func cases() throws -> [Case] {
        let path = try #require(Bundle.module.path(forResource: "delong_reference", ofType: "json", inDirectory: "Fixtures"))
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        return try #require(root["cases"] as? [[String: Any]]).map { c in
            Case(
                name: c["name"] as! String, a: c["scores_a"] as! [Double], b: c["scores_b"] as! [Double],
                labels: (c["labels"] as! [Int]).map(UInt8.init), reference: c)
        }
    }

    @Test func varianceCovarianceAndTestMatchTheDefinition() throws {
        for c in try Self.cases() {
            let test = try DeLong.compare(scoresA: c.a, scoresB: c.b, labels: c.labels)
            let r = c.reference
            func expectClose(_ value: Double, _ key: String, _ tolerance: Double = 1e-9) {
                let expected = r[key] as! Double
                #expect(abs(value - expected) <= tolerance, "\(c.name) \(key): \(value) vs \(expected)")
            }
            expectClose(test.a.auc, "auc_a")
            expectClose(test.b.auc, "auc_b")
            expectClose(test.a.variance, "var_a")
            expectClose(test.b.variance, "var_b")
            expectClose(test.covariance, "covariance")
            expectClose(test.difference, "difference")
            expectClose(test.standardError, "standard_error")
            expectClose(test.z, "z")
            expectClose(test.pValue, "p_value")
            expectClose(test.lower, "lower")
            expectClose(test.upper, "upper")
            let placements = DeLong.placements(scores: c.a, labels: c.labels)
            let v10 = r["v10_a"] as! [Double], v01 = r["v01_a"] as! [Double]
            #expect(placements.positive.count == v10.count && placements.negative.count == v01.count)
            #expect(zip(placements.positive, v10).allSatisfy { abs($0 - $1) <= 1e-12 }, "\(c.name) V10")
            #expect(zip(placements.negative, v01).allSatisfy { abs($0 - $1) <= 1e-12 }, "\(c.name) V01")
            // The AUC is the one the metrics report.
            #expect(abs(test.a.auc - RankMetrics.auc(scores: c.a, labels: c.labels)) <= 1e-12)
        }
    }

    @Test func identicalScoresAreNoDifference() throws {
        let c = try #require(try Self.cases().first)
        let test = try DeLong.compare(scoresA: c.a, scoresB: c.a, labels: c.labels)
        #expect(test.difference == 0 && test.z == 0 && test.pValue == 1)
        #expect(test.standardError < 1e-12)
    }

    @Test func refusesTooFewRowsOfAClass() {
        #expect(throws: DeLong.Failure.tooFewRows(positives: 1, negatives: 3)) {
            try DeLong.compare(scoresA: [0.1, 0.2, 0.3, 0.9], scoresB: [0.1, 0.2, 0.3, 0.9], labels: [0, 0, 0, 1])
        }
        #expect(throws: DeLong.Failure.lengthMismatch) {
            try DeLong.compare(scoresA: [0.1, 0.2], scoresB: [0.1], labels: [0, 1])
        }
        #expect(throws: DeLong.Failure.levelOutOfRange(1)) {
            try DeLong.compare(scoresA: [0.1, 0.2, 0.3, 0.4], scoresB: [0.1, 0.2, 0.3, 0.4], labels: [0, 0, 1, 1], level: 1)
        }
    }

    @Test func normalQuantileInvertsTheCDF() {
        #expect(abs(NormalDistribution.quantile(0.975) - 1.959963984540054) < 1e-12)
        #expect(abs(NormalDistribution.quantile(0.5)) < 1e-15)
        #expect(abs(NormalDistribution.twoSidedPValue(1.959963984540054) - 0.05) < 1e-12)
    }

    @Test func curvesMatchScikitLearn() throws {
        for c in try Self.cases() {
            let reference = c.reference["curves_a"] as! [String: Any]
            let curves = EvaluationCurves(scores: c.a, labels: c.labels, resolution: 0)
            let fpr = reference["roc_fpr"] as! [Double], tpr = reference["roc_tpr"] as! [Double]
            #expect(curves.roc.count == fpr.count, "\(c.name): ROC points")
            #expect(zip(curves.roc, zip(fpr, tpr)).allSatisfy { abs($0.x - $1.0) <= 1e-12 && abs($0.y - $1.1) <= 1e-12 }, "\(c.name) ROC")
            #expect(curves.roc.dropFirst().map { $0.threshold! } == reference["roc_thresholds"] as! [Double])
            let recall = reference["pr_recall"] as! [Double], precision = reference["pr_precision"] as! [Double]
            #expect(curves.precisionRecall.count == recall.count, "\(c.name): PR points")
            #expect(zip(curves.precisionRecall, zip(recall, precision)).allSatisfy { abs($0.x - $1.0) <= 1e-12 && abs($0.y - $1.1) <= 1e-12 },
                    "\(c.name) PR")
            #expect(abs(curves.averagePrecision - (reference["average_precision"] as! Double)) <= 1e-12, "\(c.name) AP")
        }
    }

    @Test func thinnedCurvesKeepEndsAndResolution() throws {
        let c = try #require(try Self.cases().first)
        let full = EvaluationCurves(scores: c.a, labels: c.labels, resolution: 0).roc
        let thin = EvaluationCurves(scores: c.a, labels: c.labels).roc
        #expect(thin.first == full.first && thin.last == full.last && thin.count < full.count)
        #expect(thin.allSatisfy { full.contains($0) })
        for (p, q) in zip(thin.dropLast(2), thin.dropFirst().dropLast()) {
            #expect(abs(q.x - p.x) >= 0.005 || abs(q.y - p.y) >= 0.005)
        }
    }

    @Test func gainAndHistogramCountRows() {
        let scores = [0.05, 0.15, 0.95, 0.55, 1.0, 0.0, 0.45, 0.75, 0.85, 0.35]
        let labels: [UInt8] = [0, 0, 1, 1, 1, 0, 0, 1, 0, 0]
        let curves = EvaluationCurves(scores: scores, labels: labels, histogramBins: 10)
        #expect(curves.gain.count == 100)
        #expect(curves.gain[9].rows == 1 && curves.gain[9].captureRate == 0.25)  // top 10 %: the 1.0 row
        #expect(curves.gain[99].captureRate == 1 && abs(curves.gain[99].lift - 1) < 1e-15)
        #expect(curves.histogram.positives == [0, 0, 0, 0, 0, 1, 0, 1, 0, 2])  // 1.0 falls in the last bin
        #expect(curves.histogram.negatives == [2, 1, 0, 1, 1, 0, 0, 0, 1, 0])
        // Lift at the fixed fractions agrees with BinaryMetrics'.
        let metrics = BinaryMetrics(scores: scores, labels: labels, liftFractions: [0.1, 0.5])
        #expect(metrics.lift[0].lift == curves.gain[9].lift && metrics.lift[1].captureRate == curves.gain[49].captureRate)
    }
}
