import Crypto
import PropensityModel
import Testing

@testable import PropensityModelFile

@Suite struct ModelFileTests {
    static let model: Model = {
        let schema = FeatureSchema(features: [
            .numeric("age"), .categorical("device", ["mobile", "desktop", "tablet"]), .numeric("visits"),
        ])
        let lr = LogisticRegressionModel(
            schema: schema, intercept: -1.25,
            terms: [
                .numeric(.init(center: 40, scale: 12.5, imputedValue: 40, weight: 0.3, missingWeight: -0.2)),
                .categorical(categoryWeights: [0.1, 0.4, -0.5]),
                .numeric(.init(center: 3, scale: 1.5, imputedValue: 3, weight: 0.7, missingWeight: nil)),
            ])
        return Model(
            body: .logisticRegression(lr),
            metadata: ModelMetadata(
                properties: [("created", "2026-11-29T00:00:00Z"), ("label", "bought"), ("unicode", "café ✓")],
                metrics: [("validation_auc", 0.81), ("undefined", .nan)]))
    }()

    static let bytes = ModelFile.encode(model)

    func decode(_ bytes: [UInt8]) throws(ModelFileError) -> Model {
        try ModelFile.decode(bytes, source: "m.model")
    }

    /// Replaces the checksum so a test can reach the structural checks behind it.
    func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var body = Array(bytes.dropLast(ModelFile.checksumSize))
        let length = UInt64(body.count + ModelFile.checksumSize)
        withUnsafeBytes(of: length.littleEndian) { body.replaceSubrange(16..<24, with: $0) }
        return body + Array(SHA256.hash(data: body))
    }

    /// The file is refused for exactly this reason.
    func expectError(_ bytes: [UInt8], _ expected: ModelFileError.Reason, sourceLocation: SourceLocation = #_sourceLocation) {
        expectError(bytes, sourceLocation: sourceLocation) { $0 == expected }
    }

    /// The file is refused for a reason `matches` accepts (cases whose detail is a position in words).
    func expectError(
        _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation, _ matches: (ModelFileError.Reason) -> Bool
    ) {
        do {
            _ = try decode(bytes)
            Issue.record("decoded a corrupt file", sourceLocation: sourceLocation)
        } catch {
            #expect(matches(error.reason), "\(error.reason)", sourceLocation: sourceLocation)
        }
    }

    func malformed(_ section: String, _ text: String) -> (ModelFileError.Reason) -> Bool {
        { if case .malformedSection(section, let detail) = $0 { detail.contains(text) } else { false } }
    }

    @Test func roundTrip() throws {
        let decoded = try decode(Self.bytes)
        #expect(decoded == Self.model)
        #expect(ModelFile.encode(decoded) == Self.bytes)
        #expect(Self.bytes.count % 8 == 0)
    }

    @Test func wrongMagic() {
        var b = Self.bytes
        b[1] = UInt8(ascii: "X")
        expectError(b, .notAModelFile)
        expectError(Array("hello, world".utf8), .notAModelFile)
        expectError([], .notAModelFile)
    }

    @Test func unknownVersion() {
        var b = Self.bytes
        b[8] = 2
        expectError(b, .unsupportedVersion(found: 2, supported: ModelFile.formatVersion))
    }

    @Test func everyTruncationIsRefused() {
        for length in 0..<Self.bytes.count {
            #expect(throws: ModelFileError.self) { try decode(Array(Self.bytes[0..<length])) }
        }
        expectError(
            Array(Self.bytes.dropLast(1)), .truncated(bytes: Self.bytes.count - 1, declared: UInt64(Self.bytes.count)))
    }

    @Test func trailingBytes() {
        expectError(Self.bytes + [0], .trailingBytes(1))
    }

    @Test func everySingleByteFlipIsRefused() {
        for i in 0..<Self.bytes.count {
            var b = Self.bytes
            b[i] ^= 0x40
            #expect(throws: ModelFileError.self, "flip at byte \(i)") { try decode(b) }
        }
        var b = Self.bytes
        b[40] ^= 1
        expectError(b, .checksumMismatch)
    }

    @Test func unknownModelKind() {
        var b = Self.bytes
        b[10] = 9
        expectError(resealed(b), .unknownModelKind(9))
    }

    @Test func sectionLengthPastTheEnd() {
        var b = Self.bytes
        b[24 + 8] = 0xFF  // first section's length, low byte
        b[24 + 9] = 0xFF
        expectError(resealed(b)) { if case .malformedLayout(let d) = $0 { d.contains("declares") } else { false } }
    }

    @Test func inconsistentSectionSizes() {
        // Grow the schema section's declared length into its padding: the payload then has bytes left over.
        var r = ByteReader(Self.bytes, from: 24)
        let metaLength = Int(try! { () throws(ByteReader.OutOfBounds) -> UInt64 in
            _ = try r.u32("t"); _ = try r.u32("f"); return try r.u64("l")
        }())
        let schemaHeader = 24 + 16 + ((metaLength + 7) & ~7)
        var b = Self.bytes
        let schemaLength = Int(b[schemaHeader + 8]) | Int(b[schemaHeader + 9]) << 8
        #expect(schemaLength % 8 != 0, "the fixture needs padding after SCHM")
        b[schemaHeader + 8] = UInt8((schemaLength + 1) & 0xFF)
        expectError(resealed(b), malformed("SCHM", "left over"))
        // Shrink it instead: a string then runs past the section's end.
        var c = Self.bytes
        c[schemaHeader + 8] = UInt8((schemaLength - 3) & 0xFF)
        expectError(resealed(c), malformed("SCHM", "past the end of the section"))
    }

    @Test func unknownRequiredSectionIsRefusedAndOptionalSkipped() {
        // Rename the META section (optional) and then mark it required.
        var b = Self.bytes
        b[24] = UInt8(ascii: "X")
        #expect((try? decode(resealed(b)))?.metadata == ModelMetadata())
        b[28] = 1
        expectError(resealed(b), .unsupportedRequiredSection("'XETA'"))
    }

    @Test func missingSchemaSection() {
        var b = Self.bytes
        guard let i = findTag("SCHM", in: b) else { Issue.record("no SCHM"); return }
        b[i] = UInt8(ascii: "s")
        b[i + 4] = 0  // no longer required
        expectError(resealed(b), .missingSection("SCHM"))
    }

    @Test func nonFiniteWeight() throws {
        var bad = Self.model
        guard case .logisticRegression(var lr) = bad.body else { return }
        lr.intercept = .infinity
        bad.body = .logisticRegression(lr)
        expectError(ModelFile.encode(bad), .malformedSection("LOGR", detail: "the intercept is not a finite number"))
    }

    @Test func mismatchedCategoryCount() throws {
        var bad = Self.model
        guard case .logisticRegression(var lr) = bad.body else { return }
        lr.terms[1] = .categorical(categoryWeights: [0.1, 0.2])
        bad.body = .logisticRegression(lr)
        expectError(ModelFile.encode(bad), malformed("LOGR", "2 weights for 3 categories"))
    }

    @Test func missingFile() {
        #expect(throws: ModelFileError(file: "/nonexistent.model", reason: .notFound)) {
            try ModelFile.load(from: "/nonexistent.model")
        }
    }

    @Test func fingerprintFollowsTheSchemaOnly() {
        let a = ModelFile.fingerprint(of: Self.model.schema)
        var other = Self.model.schema
        other.features[1] = .categorical("device", ["mobile", "desktop"])
        #expect(a != ModelFile.fingerprint(of: other))
        #expect(a == ModelFile.fingerprint(of: (try! decode(Self.bytes)).schema))
    }

    func findTag(_ tag: String, in b: [UInt8]) -> Int? {
        let t = Array(tag.utf8)
        return (24..<(b.count - 4)).first { Array(b[$0..<($0 + 4)]) == t }
    }
}
