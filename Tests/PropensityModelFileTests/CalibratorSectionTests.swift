import PropensityModel
import Testing

@testable import PropensityModelFile

/// The CALB section (a fitted calibrator): round trip for both methods, files without it, malformed payloads.
@Suite struct CalibratorSectionTests {
    static let curve = IsotonicCurve(margins: [-2, -0.5, 1, 3], probabilities: [0.01, 0.05, 0.05, 0.6])!
    let spec = ModelFileSpecTests()

    func calibrated(_ calibrator: Calibrator) -> Model {
        var model = ModelFileTests.model
        model.calibrator = calibrator
        return model
    }

    func detail(_ bytes: [UInt8]) -> String? {
        guard case .malformedSection("CALB", let detail) = spec.reason(bytes) else { return nil }
        return detail
    }

    @Test(arguments: [Calibrator.platt(slope: 0.62, intercept: -1.25), .isotonic(curve)])
    func roundTripKeepsTheCalibratorAndItsProbabilities(_ calibrator: Calibrator) throws {
        let decoded = try ModelFile.decode(ModelFile.encode(calibrated(calibrator)), source: "c.model")
        #expect(decoded.calibrator == calibrator)
        for i in 0..<20 {
            let row: [Float] = [Float(20 + 3 * i), Float(i % 3), i % 4 == 0 ? .nan : Float(i % 7)]
            let expected = calibrator.probability(margin: ModelFileTests.model.margin(row))
            #expect(decoded.probability(row) == expected)
        }
        #expect(decoded.uncalibrated.calibrator == nil)
    }

    @Test func aModelWithoutACalibratorHasNoSection() throws {
        let bytes = ModelFile.encode(ModelFileTests.model)
        let tag = Array("CALB".utf8)
        #expect(!(0...(bytes.count - 4)).contains { Array(bytes[$0..<($0 + 4)]) == tag })
        #expect(try ModelFile.decode(bytes, source: "u.model").calibrator == nil)
    }

    @Test func malformedPlattPayloadsAreRefused() {
        let bytes = ModelFile.encode(calibrated(.platt(slope: 0.62, intercept: -1.25)))
        let calb = spec.payload("CALB", in: bytes)
        func changed(_ change: (inout [UInt8]) -> Void) -> [UInt8] {
            var copy = bytes
            change(&copy)
            return copy
        }
        func f64(_ value: Double, at offset: Int) -> (inout [UInt8]) -> Void {
            { b in withUnsafeBytes(of: value.bitPattern.littleEndian) { b.replaceSubrange((calb.lowerBound + offset)..<(calb.lowerBound + offset + 8), with: $0) } }
        }
        #expect(detail(changed { $0[calb.lowerBound] = 9 })?.contains("unknown calibration method 9") == true)
        #expect(detail(changed { $0[calb.lowerBound + 2] = 1 })?.contains("reserved") == true)
        #expect(detail(changed { $0[calb.lowerBound + 4] = 3 })?.contains("takes none") == true)
        #expect(detail(changed(f64(-0.5, at: 8)))?.contains("slope") == true)
        #expect(detail(changed(f64(.nan, at: 16)))?.contains("intercept") == true)
    }

    @Test func malformedIsotonicPayloadsAreRefused() {
        let bytes = ModelFile.encode(calibrated(.isotonic(Self.curve)))
        let calb = spec.payload("CALB", in: bytes)
        func changed(_ change: (inout [UInt8]) -> Void) -> [UInt8] {
            var copy = bytes
            change(&copy)
            return copy
        }
        func f64(_ value: Double, at offset: Int) -> (inout [UInt8]) -> Void {
            { b in withUnsafeBytes(of: value.bitPattern.littleEndian) { b.replaceSubrange((calb.lowerBound + offset)..<(calb.lowerBound + offset + 8), with: $0) } }
        }
        #expect(detail(changed { $0[calb.lowerBound + 4] = 0 })?.contains("no knots") == true)
        #expect(detail(changed { $0[calb.lowerBound + 4] = 200 })?.contains("run past the end") == true)
        // Knots: 4 margins at 8…40, 4 probabilities at 40…72.
        #expect(detail(changed(f64(5, at: 16)))?.contains("strictly increasing margins") == true)  // margins not increasing
        #expect(detail(changed(f64(0.5, at: 48)))?.contains("non-decreasing probabilities") == true)  // 0.5 then 0.05
        #expect(detail(changed(f64(1.5, at: 64)))?.contains("[0, 1]") == true)  // above 1
        #expect(detail(changed(f64(.infinity, at: 8)))?.contains("finite") == true)
        // A knot count below the knots present leaves bytes over: the section must be exactly its content.
        #expect(detail(changed { $0[calb.lowerBound + 4] = 3 }) != nil)
    }
}
