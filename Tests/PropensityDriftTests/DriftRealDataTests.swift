import PropensityData
import PropensityInput
import PropensityModel
import PropensityTestSupport
import Testing

@testable import PropensityDrift

/// Issue 14's acceptance on Bank Marketing: one column of held-out rows shifted → its PSI passes 0.25 and every other
/// column's stays below 0.1 (the server's gauges are checked on the same data in PropensityServerTests).
@Suite(.enabled(if: SharedDatasets.available, "needs ../shared/datasets"))
struct DriftRealDataTests {
    static var bank: (schema: FeatureSchema, reference: [Float], current: [Float]) { BankMarketing.inputs }

    /// A stand-in for a model's probability: any fixed function of the row serves to check the score's bins.
    static func scores(_ rows: [Float], width: Int) -> [Float] {
        (0..<(rows.count / width)).map { i in
            let age = Double(rows[i * width])
            return Float(Sigmoid.of(age / 20 - 2))
        }
    }

    static func report(shifting column: String, by change: (Float) -> Float) throws -> DriftReport {
        let (schema, reference, current) = bank
        let width = schema.count
        let profile = try #require(DriftProfileBuilder.profile(
            rows: reference, schema: schema, scores: scores(reference, width: width)))
        let j = try #require(schema.index(of: column))
        var shifted = current
        for i in 0..<(shifted.count / width) { shifted[i * width + j] = change(shifted[i * width + j]) }
        return DriftReport(
            profile: profile, schema: schema,
            counts: DriftCounts.of(rows: shifted, scores: scores(shifted, width: width), profile: profile))
    }

    @Test func theHeldOutRowsAreStable() throws {
        let report = try Self.report(shifting: "age") { $0 }
        #expect(report.columns.allSatisfy { $0.psi < 0.1 }, "\(report.columns.map { ($0.name, $0.psi) })")
        #expect(report.scorePSI < 0.1)
    }

    enum Shift: String, CaseIterable, Sendable {
        case olderVisitors, twiceTheContacts, aRateCut

        var column: String {
            switch self {
            case .olderVisitors: "age"
            case .twiceTheContacts: "campaign"
            case .aRateCut: "euribor3m"
            }
        }

        func apply(_ x: Float) -> Float {
            switch self {
            case .olderVisitors: x + 8
            case .twiceTheContacts: x * 2
            case .aRateCut: x - 1
            }
        }
    }

    @Test(arguments: Shift.allCases)
    func aShiftedColumnStandsOut(_ shift: Shift) throws {
        let report = try Self.report(shifting: shift.column, by: shift.apply)
        for c in report.columns {
            if c.name == shift.column {
                #expect(c.psi > 0.25, "\(c.name): \(c.psi)")
            } else {
                #expect(c.psi < 0.1, "\(c.name): \(c.psi)")
            }
        }
    }

    @Test func aCategoryTakingOverStandsOut() throws {
        let (schema, _, _) = Self.bank
        let job = try #require(schema.features.first { $0.name == "job" }?.kind.categories)
        let student = Float(try #require(job.firstIndex(of: "student")))
        // Every fourth visitor now a student.
        var k = 0
        let report = try Self.report(shifting: "job") { x in
            k += 1
            return k % 4 == 0 ? student : x
        }
        #expect(report.columns.first { $0.name == "job" }!.psi > 0.25)
        #expect(report.columns.filter { $0.name != "job" }.allSatisfy { $0.psi < 0.1 })
    }
}
