import Foundation
import PropensityMetrics
import PropensityModel
import Testing

@testable import PropensityDrift

struct DriftProfileTests {
    static let schema = FeatureSchema(features: [.numeric("x"), .categorical("c", ["a", "b", "c", "d"])])

    @Test func psiMatchesTheFormula() {
        #expect(PopulationStability.index(reference: [0.5, 0.5], counts: [50, 50]) == 0)
        // (0.8 − 0.5)·ln(0.8/0.5) + (0.2 − 0.5)·ln(0.2/0.5)
        let up: Double = 0.3 * log(0.8 / 0.5)
        let down: Double = -0.3 * log(0.2 / 0.5)
        let expected = up + down
        #expect(abs(PopulationStability.index(reference: [0.5, 0.5], counts: [80, 20]) - expected) < 1e-15)
        // Empty bins are floored at 1e-4, not infinite.
        let emptied: Double = (1e-4 - 0.5) * log(1e-4 / 0.5)
        let floored: Double = emptied + 0.5 * log(2.0)
        #expect(abs(PopulationStability.index(reference: [0.5, 0.5], counts: [0, 10]) - floored) < 1e-12)
        #expect(PopulationStability.index(reference: [0.5, 0.5], counts: [0, 0]).isNaN)
    }

    @Test func numericColumnsAreCutAtDeciles() {
        let values = (0..<1000).map(Float.init) + [.nan, .nan]
        let bins = DriftProfileBuilder.numeric(values)
        #expect(bins.kind == .numeric(edges: [99, 199, 299, 399, 499, 599, 699, 799, 899]))
        #expect(bins.binCount == 11)
        #expect(bins.fractions.prefix(10).allSatisfy { abs($0 - 100 / 1002) < 1e-12 })
        #expect(abs(bins.fractions[10] - 2 / 1002) < 1e-12)
        #expect(bins.bin(of: -5) == 0 && bins.bin(of: 99) == 0 && bins.bin(of: 99.5) == 1 && bins.bin(of: 1e9) == 9)
        #expect(bins.bin(of: .nan) == 10)
    }

    @Test func tiesCollapseEdges() {
        // 80 % zeros, then 1…200: the zero edges are one edge; nothing is above the maximum.
        let values = [Float](repeating: 0, count: 800) + (1...200).map(Float.init)
        guard case .numeric(let edges) = DriftProfileBuilder.numeric(values).kind else { Issue.record(); return }
        #expect(edges == [0, 100])
        #expect(DriftProfileBuilder.numeric([3, 3, 3]).kind == .numeric(edges: []))
        #expect(DriftProfileBuilder.numeric([.nan]).fractions == [0, 1])
    }

    @Test func categoricalColumnsKeepTheirCommonestCategories() {
        // b × 3, d × 2, a × 1, c never; one missing, one unseen index (7), one fraction (1.5).
        let values: [Float] = [1, 1, 1, 3, 3, 0, .nan, 7, 1.5]
        let bins = DriftProfileBuilder.categorical(values, categoryCount: 4)
        #expect(bins.kind == .categorical(categories: [1, 3, 0]))
        #expect(bins.fractions.map { ($0 * 9).rounded() } == [3, 2, 1, 2, 1])  // b, d, a, other (7, 1.5), missing
        #expect(bins.bin(of: 2) == 3 && bins.bin(of: -1) == 3 && bins.bin(of: 3) == 1)
    }

    @Test func categoryBinsAreBounded() {
        let values = (0..<1000).map { Float($0 % 100) }
        let bins = DriftProfileBuilder.categorical(values, categoryCount: 100)
        #expect(bins.binCount == DriftProfileBuilder.maxCategoryBins + 2)
        #expect(abs(bins.fractions[DriftProfileBuilder.maxCategoryBins] - 0.68) < 1e-12)
    }

    @Test func theSameDataHasNoDrift() throws {
        let rows = (0..<500).flatMap { i -> [Float] in [Float(i % 37), Float(i % 4)] }
        let scores = (0..<500).map { Float($0 % 11) / 11 }
        let profile = try #require(DriftProfileBuilder.profile(rows: rows, schema: Self.schema, scores: scores))
        let report = DriftReport(
            profile: profile, schema: Self.schema, counts: DriftCounts.of(rows: rows, scores: scores, profile: profile))
        #expect(report.columns.map(\.psi) == [0, 0] && report.scorePSI == 0)
        #expect(report.currentRows == 500 && profile.rows == 500)
        #expect(DriftProfileBuilder.profile(rows: [], schema: Self.schema, scores: []) == nil)
    }
}
