import PropensityModel
import Testing

@testable import PropensityModelFile

/// The optional DRFT section (the reference profile drift is measured against): round trip, files without it, and
/// malformed ones.
@Suite struct DriftSectionTests {
    /// For ModelFileTests.model's schema: age (numeric), device (3 categories), visits (numeric).
    static let profile = DriftProfile(
        rows: 1000,
        columns: [
            DriftBins(kind: .numeric(edges: [25, 40, 60]), fractions: [0.2, 0.3, 0.3, 0.1, 0.1]),
            DriftBins(kind: .categorical(categories: [1, 0]), fractions: [0.6, 0.3, 0.1, 0]),
            DriftBins(kind: .numeric(edges: []), fractions: [1, 0]),
        ],
        score: DriftBins(kind: .numeric(edges: [0.1, 0.5]), fractions: [0.5, 0.25, 0.25, 0]))

    static var model: Model {
        var m = ModelFileTests.model
        m.drift = profile
        return m
    }

    @Test func profileRoundTripsAndFilesWithoutOneStillLoad() throws {
        #expect(try ModelFile.decode(ModelFile.encode(Self.model), source: "d.model") == Self.model)
        #expect(try ModelFile.decode(ModelFile.encode(ModelFileTests.model), source: "o.model").drift == nil)
        // Optional: a reader that does not know DRFT skips it.
        let bytes = ModelFile.encode(Self.model)
        let drft = ModelFileSpecTests().payload("DRFT", in: bytes)
        #expect(bytes[(drft.lowerBound - 12)..<(drft.lowerBound - 8)] == [0, 0, 0, 0])
    }

    func refusal(_ change: (inout [UInt8], Range<Int>) -> Void) -> String? {
        let spec = ModelFileSpecTests()
        var bytes = ModelFile.encode(Self.model)
        change(&bytes, spec.payload("DRFT", in: bytes))
        guard case .malformedSection("DRFT", let detail) = spec.reason(bytes) else { return nil }
        return detail
    }

    func put(_ bytes: inout [UInt8], _ value: UInt32, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + 4), with: $0) }
    }

    @Test func malformedProfilesAreRefused() throws {
        // Layout: u64 rows, u32 columns, then column 0: u8 kind, u32 n = 3, 3 × f32 edges, 5 × f64 fractions.
        #expect(try #require(refusal { b, r in put(&b, 2, at: r.lowerBound + 8) }).contains("2 columns"))
        #expect(try #require(refusal { b, r in b[r.lowerBound + 12] = 1 }).contains("does not match"))
        #expect(try #require(refusal { b, r in b[r.lowerBound + 12] = 7 }).contains("unknown bin kind"))
        #expect(try #require(refusal { b, r in put(&b, Float(20).bitPattern, at: r.lowerBound + 17 + 4) }).contains("increasing"))
        #expect(try #require(refusal { b, r in put(&b, Float.nan.bitPattern, at: r.lowerBound + 17) }).contains("increasing"))
        // The first fraction 0.2 → 0.3: they no longer sum to 1.
        #expect(try #require(refusal { b, r in
            withUnsafeBytes(of: (0.3).bitPattern.littleEndian) { b.replaceSubrange((r.lowerBound + 29)..<(r.lowerBound + 37), with: $0) }
        }).contains("sum to 1"))
        #expect(try #require(refusal { b, r in b.replaceSubrange(r.lowerBound..<(r.lowerBound + 8), with: [0, 0, 0, 0, 0, 0, 0, 0]) }).contains("at least 1"))
        // Column 1 (device): its categories follow column 0's 1 + 4 + 12 + 40 bytes.
        let device = 12 + 57
        #expect(try #require(refusal { b, r in put(&b, 3, at: r.lowerBound + device + 5) }).contains("below the schema's 3"))
        #expect(try #require(refusal { b, r in put(&b, 1, at: r.lowerBound + device + 9) }).contains("unique"))
    }
}
