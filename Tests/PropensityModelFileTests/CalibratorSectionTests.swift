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

    /// A file's bytes and its CALB payload's range: copies with one field changed.
    struct Payload {
        var bytes: [UInt8]
        var range: Range<Int>

        func with(byte: UInt8, at offset: Int) -> [UInt8] {
            var copy = bytes
            copy[range.lowerBound + offset] = byte
            return copy
        }

        func with(f64 value: Double, at offset: Int) -> [UInt8] {
            var copy = bytes
            let start = range.lowerBound + offset
            withUnsafeBytes(of: value.bitPattern.littleEndian) { copy.replaceSubrange(start..<(start + 8), with: $0) }
            return copy
        }
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
        let calb = Payload(bytes: bytes, range: spec.payload("CALB", in: bytes))
        #expect(detail(calb.with(byte: 9, at: 0))?.contains("unknown calibration method 9") == true)
        #expect(detail(calb.with(byte: 1, at: 2))?.contains("reserved") == true)
        #expect(detail(calb.with(byte: 3, at: 4))?.contains("takes none") == true)
        #expect(detail(calb.with(f64: -0.5, at: 8))?.contains("slope") == true)
        #expect(detail(calb.with(f64: .nan, at: 16))?.contains("intercept") == true)
    }

    @Test func malformedIsotonicPayloadsAreRefused() {
        let bytes = ModelFile.encode(calibrated(.isotonic(Self.curve)))
        let calb = Payload(bytes: bytes, range: spec.payload("CALB", in: bytes))
        #expect(detail(calb.with(byte: 0, at: 4))?.contains("no knots") == true)
        #expect(detail(calb.with(byte: 200, at: 4))?.contains("run past the end") == true)
        // Knots: 4 margins at 8…40, 4 probabilities at 40…72.
        #expect(detail(calb.with(f64: 5, at: 16))?.contains("strictly increasing margins") == true)  // margins not increasing
        #expect(detail(calb.with(f64: 0.5, at: 48))?.contains("non-decreasing probabilities") == true)  // 0.5 then 0.05
        #expect(detail(calb.with(f64: 1.5, at: 64))?.contains("[0, 1]") == true)  // above 1
        #expect(detail(calb.with(f64: .infinity, at: 8))?.contains("finite") == true)
        // A knot count below the knots present leaves bytes over: the section must be exactly its content.
        #expect(detail(calb.with(byte: 3, at: 4)) != nil)
    }
}
