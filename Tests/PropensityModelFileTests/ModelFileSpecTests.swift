import Crypto
import PropensityModel
import Testing

@testable import PropensityModelFile

/// Fields that docs/model-format.md fixes (undefined flag bits, reserved words, fields that belong to the other
/// kind of split or term) are refused when set, even in a file whose checksum is right.
@Suite struct ModelFileSpecTests {
    /// The payload range of the section tagged `tag`, walking the section table from offset 24.
    func payload(_ tag: String, in bytes: [UInt8]) -> Range<Int> {
        var offset = ModelFile.headerSize
        let wanted = Array(tag.utf8)
        while offset < bytes.count - ModelFile.checksumSize {
            let length = (0..<8).reduce(0) { $0 | Int(bytes[offset + 8 + $1]) << (8 * $1) }
            if Array(bytes[offset..<(offset + 4)]) == wanted { return (offset + 16)..<(offset + 16 + length) }
            offset += 16 + (length + 7) & ~7
        }
        fatalError("no section \(tag)")
    }

    func resealed(_ bytes: [UInt8]) -> [UInt8] {
        let body = Array(bytes.dropLast(ModelFile.checksumSize))
        return body + Array(SHA256.hash(data: body))
    }

    func reason(_ bytes: [UInt8]) -> ModelFileError.Reason? {
        do {
            _ = try ModelFile.decode(resealed(bytes), source: "m.model")
            return nil
        } catch {
            return error.reason
        }
    }

    @Test func undefinedSectionFlagBitsAreRefused() {
        var bytes = ModelFile.encode(ModelFileTests.model)
        bytes.replaceSubrange(28..<32, with: [0xFF, 0xFF, 0xFF, 0xFF])  // the first section's flags
        guard case .malformedLayout(let detail) = reason(bytes) else { Issue.record("accepted"); return }
        #expect(detail.contains("undefined flag bits"))
        #expect(reason(ModelFile.encode(ModelFileTests.model)) == nil)
    }

    @Test func aMissingWeightWithoutItsFlagIsRefused() {
        var bytes = ModelFile.encode(ModelFileTests.model)
        let logr = payload("LOGR", in: bytes)
        // intercept (8), age (1 + 1 + 5 × 8), device (1 + 4 + 3 × 8), then visits: kind, flag 0, 4 f64, missing weight.
        let visits = logr.lowerBound + 8 + 42 + 29
        #expect(bytes[visits] == 0 && bytes[visits + 1] == 0)
        withUnsafeBytes(of: (1.0).bitPattern.littleEndian) { bytes.replaceSubrange((visits + 34)..<(visits + 42), with: $0) }
        guard case .malformedSection("LOGR", let detail) = reason(bytes) else { Issue.record("accepted"); return }
        #expect(detail.contains("missing weight"))
    }

    @Test func treeNodeFieldsOutsideTheSpecAreRefused() {
        let bytes = ModelFile.encode(TreeModelFileTests.model([TreeModelFileTests.tree]))
        let ensm = payload("ENSM", in: bytes)
        let numericNode = ensm.lowerBound + 8 + 4 + 12  // base score, tree count, the tree's three counts
        let categoricalNode = numericNode + 28
        func refused(_ change: (inout [UInt8]) -> Void) -> String? {
            var copy = bytes
            change(&copy)
            guard case .malformedSection("ENSM", let detail) = reason(copy) else { return nil }
            return detail
        }
        #expect(refused { $0[numericNode + 6] = 1 }?.contains("reserved") == true)
        #expect(refused { $0[numericNode + 24] = 1 }?.contains("numeric split with a category set") == true)
        #expect(refused { $0[numericNode + 20] = 1 }?.contains("numeric split with a category set") == true)
        #expect(refused { $0[categoricalNode + 5] |= 2 }?.contains("counts zero as missing") == true)
        #expect(refused { $0[numericNode + 5] |= 4 }?.contains("undefined flag bits") == true)
    }
}

/// The optional COVR section (TreeSHAP covers): round trip, older files without it, and malformed ones.
@Suite struct CoverSectionTests {
    static let tree: DecisionTree = {
        var tree = TreeModelFileTests.tree
        tree.covers = [10, 6, 4, 2.5, 3.5]  // two nodes, then three leaves
        return tree
    }()

    @Test func coversRoundTripAndFilesWithoutThemStillLoad() throws {
        let with = TreeModelFileTests.model([Self.tree])
        let decoded = try ModelFile.decode(ModelFile.encode(with), source: "c.model")
        guard case .treeEnsemble(let e) = decoded.body else { Issue.record("kind"); return }
        #expect(e.trees[0].covers == Self.tree.covers && e.hasCovers)
        let without = try ModelFile.decode(ModelFile.encode(TreeModelFileTests.model([TreeModelFileTests.tree])), source: "o.model")
        guard case .treeEnsemble(let old) = without.body else { Issue.record("kind"); return }
        #expect(!old.hasCovers)
    }

    @Test func malformedCoversAreRefused() {
        let spec = ModelFileSpecTests()
        let bytes = ModelFile.encode(TreeModelFileTests.model([Self.tree]))
        let covr = spec.payload("COVR", in: bytes)
        var count = bytes
        count[covr.lowerBound + 4] = 4  // four covers for five nodes and leaves
        guard case .malformedSection("COVR", _) = spec.reason(count) else { Issue.record("accepted a short cover list"); return }
        var negative = bytes
        withUnsafeBytes(of: (-1.0).bitPattern.littleEndian) { negative.replaceSubrange((covr.lowerBound + 8)..<(covr.lowerBound + 16), with: $0) }
        guard case .malformedSection("COVR", let detail) = spec.reason(negative) else { Issue.record("accepted a negative cover"); return }
        #expect(detail.contains("negative"))
    }
}
