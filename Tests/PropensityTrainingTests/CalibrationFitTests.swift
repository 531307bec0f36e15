import Foundation
import PropensityData
import PropensityModel
import Testing

@testable import PropensityTraining

/// Calibrators against scikit-learn on the same margins (fixtures from Tests/Fixtures/make_calibration_fixtures.py),
/// and every way a calibration fit can be refused.
@Suite struct CalibrationFitTests {
    struct Reference: Decodable {
        struct Case: Decodable {
            var name: String
            var margins: [Double]
            var labels: [UInt8]
            var queries: [Double]
            var isotonic: [Double]
            var platt_slope: Double
            var platt_intercept: Double
            var platt: [Double]
        }
        var cases: [Case]
    }

    static let reference: Reference = {
        let data = FileManager.default.contents(atPath: TestData.fixture("calibration_sklearn_reference.json"))!
        return try! JSONDecoder().decode(Reference.self, from: data)
    }()

    static var caseNames: [String] { reference.cases.map(\.name) }

    func referenceCase(_ name: String) -> Reference.Case { Self.reference.cases.first { $0.name == name }! }

    @Test(arguments: caseNames)
    func isotonicMatchesScikitLearn(_ name: String) throws {
        let c = referenceCase(name)
        let calibrator = try CalibrationFit.fit(.isotonic, margins: c.margins, labels: c.labels)
        for (query, expected) in zip(c.queries, c.isotonic) {
            let got = calibrator.probability(margin: query)
            #expect(abs(got - expected) <= 1e-6, "\(name): at margin \(query), \(got) vs scikit-learn \(expected)")
        }
    }

    @Test(arguments: caseNames)
    func plattMatchesAOneFeatureLogisticRegression(_ name: String) throws {
        let c = referenceCase(name)
        guard case .platt(let slope, let intercept) = try CalibrationFit.fit(.platt, margins: c.margins, labels: c.labels)
        else { Issue.record("not Platt"); return }
        // Both solvers stop at a gradient near 1e-12; the optimum is then known to far better than 1e-6.
        #expect(abs(slope - c.platt_slope) <= 1e-6 && abs(intercept - c.platt_intercept) <= 1e-6,
                "\(name): (\(slope), \(intercept)) vs scikit-learn (\(c.platt_slope), \(c.platt_intercept))")
        for (query, expected) in zip(c.queries, c.platt) {
            #expect(abs(Sigmoid.of(slope * query + intercept) - expected) <= 1e-6, "\(name) at \(query)")
        }
    }

    @Test func isotonicIsMonotoneAndClipsOutsideItsKnots() throws {
        let c = referenceCase("ties")
        guard case .isotonic(let curve) = try CalibrationFit.fit(.isotonic, margins: c.margins, labels: c.labels)
        else { Issue.record("not isotonic"); return }
        let grid = stride(from: -12.0, through: 12.0, by: 0.01).map { curve.value(at: $0) }
        #expect(zip(grid, grid.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(curve.value(at: -1e9) == curve.probabilities.first && curve.value(at: 1e9) == curve.probabilities.last)
    }

    @Test(arguments: CalibrationMethod.allCases)
    func badCalibrationRowsAreRefusedByCase(_ method: CalibrationMethod) {
        func error(_ margins: [Double], _ labels: [UInt8]) -> CalibrationError? {
            do {
                _ = try CalibrationFit.fit(method, margins: margins, labels: labels)
                return nil
            } catch {
                return error
            }
        }
        #expect(error([], []) == .noRows)
        #expect(error([0.1, 0.2, 0.3], [1, 1, 1]) == .singleClass(positives: 3, rows: 3))
        #expect(error([0.1, 0.2, 0.3], [0, 0, 0]) == .singleClass(positives: 0, rows: 3))
        #expect(error([0.1, .nan, 0.3], [0, 1, 0]) == .nonFiniteMargin(row: 1))
        #expect(error([0.1, -.infinity, 0.3], [0, 1, 0]) == .nonFiniteMargin(row: 1))
    }

    @Test func plattRefusesSeparableAndReversedMargins() {
        #expect(throws: CalibrationError.separable) {
            try CalibrationFit.fit(.platt, margins: [-2, -1, 1, 2], labels: [0, 0, 1, 1])
        }
        // Isotonic fits the same rows: a step from 0 to 1.
        #expect((try? CalibrationFit.fit(.isotonic, margins: [-2, -1, 1, 2], labels: [0, 0, 1, 1]))?.probability(margin: 2) == 1)
        do {
            _ = try CalibrationFit.fit(.platt, margins: [-2, -1, -0.5, 0.5, 1, 2], labels: [1, 1, 0, 1, 0, 0])
            Issue.record("a model that ranks backwards was calibrated")
        } catch {
            guard case .reversed(let slope) = error else { Issue.record("\(error)"); return }
            #expect(slope < 0)
        }
    }

    @Test func aCalibratedModelStartsAtTheIdentity() throws {
        // Labels drawn from the margins' own sigmoid: Platt should stay near (1, 0).
        var rng = SplitMix64(seed: 12)
        func next() -> Double { Double.random(in: 0..<1, using: &rng) }
        let margins = (0..<20_000).map { _ in 6 * next() - 3 }
        let labels = margins.map { next() < Sigmoid.of($0) ? UInt8(1) : 0 }
        guard case .platt(let slope, let intercept) = try CalibrationFit.fit(.platt, margins: margins, labels: labels)
        else { Issue.record("not Platt"); return }
        // Standard errors at 20,000 rows are about 0.02 (slope) and 0.02 (intercept).
        #expect(abs(slope - 1) < 0.1 && abs(intercept) < 0.1, "(\(slope), \(intercept))")
    }
}
