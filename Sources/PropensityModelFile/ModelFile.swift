import Crypto
import Foundation
import PropensityModel

/// The binary model file: header, tagged sections, SHA-256 trailer. Specified byte by byte in docs/model-format.md.
public enum ModelFile {
    public static let magic: [UInt8] = [0x89, 0x50, 0x52, 0x4F, 0x50, 0x0D, 0x0A, 0x1A]  // \x89PROP\r\n\x1a
    public static let formatVersion: UInt16 = 1
    public static let headerSize = 24
    public static let checksumSize = 32
    /// The conventional file extension; the scorer serves `NAME.model` as model `NAME`.
    public static let fileExtension = "model"

    /// Section tags, four ASCII bytes read as a little-endian u32.
    enum Tag: UInt32, CaseIterable {
        case metadata = 0x4154_454D  // "META"
        case schema = 0x4D48_4353  // "SCHM"
        case logistic = 0x5247_4F4C  // "LOGR"
        case ensemble = 0x4D53_4E45  // "ENSM"
        case importance = 0x5450_4D49  // "IMPT"
        case covers = 0x5256_4F43  // "COVR"
        case calibration = 0x424C_4143  // "CALB"
        case drift = 0x5446_5244  // "DRFT"

        var name: String { String(decoding: withUnsafeBytes(of: rawValue.littleEndian) { Array($0) }, as: UTF8.self) }
    }

    static let requiredFlag: UInt32 = 1

    // MARK: Writing

    public static func encode(_ model: Model) -> [UInt8] {
        var sections: [(Tag, [UInt8])] = [
            (.metadata, encodeMetadata(model.metadata)),
            (.schema, encodeSchema(model.schema)),
        ]
        switch model.body {
        case .logisticRegression(let lr):
            sections.append((.logistic, encodeLogistic(lr)))
        case .treeEnsemble(let ensemble):
            sections.append((.ensemble, encodeEnsemble(ensemble)))
            sections.append((.importance, encodeImportance(ensemble.importance)))
            if ensemble.hasCovers { sections.append((.covers, encodeCovers(ensemble.trees))) }
        }
        // Required: a reader that skipped it would report uncalibrated probabilities as if they were the model's.
        if let calibrator = model.calibrator { sections.append((.calibration, encodeCalibrator(calibrator))) }
        if let drift = model.drift { sections.append((.drift, encodeDrift(drift))) }
        var w = ByteWriter()
        w.raw(magic)
        w.u16(formatVersion)
        w.u16(model.kind.rawValue)
        w.u32(UInt32(sections.count))
        w.u64(0)  // file length, patched below
        for (tag, payload) in sections {
            w.u32(tag.rawValue)
            w.u32(tag == .metadata || tag == .importance || tag == .covers || tag == .drift ? 0 : requiredFlag)
            w.u64(UInt64(payload.count))
            w.raw(payload)
            w.pad(to: 8)
        }
        var bytes = w.bytes
        let length = UInt64(bytes.count + checksumSize)
        withUnsafeBytes(of: length.littleEndian) { bytes.replaceSubrange(16..<24, with: $0) }
        bytes.append(contentsOf: SHA256.hash(data: bytes))
        return bytes
    }

    /// Writes the model file atomically (temporary file, then rename) so a scorer never sees half a file.
    /// - Parameters:
    ///   - model: the model, metadata included.
    ///   - path: where to write; an existing file is replaced.
    /// - Throws: Foundation's file error when the file cannot be written.
    public static func save(_ model: Model, to path: String) throws {
        try Data(encode(model)).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static func encodeSchema(_ schema: FeatureSchema) -> [UInt8] {
        var w = ByteWriter()
        w.u32(UInt32(schema.features.count))
        for feature in schema.features {
            w.string(feature.name)
            switch feature.kind {
            case .numeric:
                w.u8(0)
            case .categorical(let categories):
                w.u8(1)
                w.u32(UInt32(categories.count))
                for c in categories { w.string(c) }
            }
        }
        return w.bytes
    }

    static func encodeMetadata(_ metadata: ModelMetadata) -> [UInt8] {
        var w = ByteWriter()
        w.u32(UInt32(metadata.properties.count))
        for (k, v) in metadata.properties {
            w.string(k)
            w.string(v)
        }
        w.u32(UInt32(metadata.metrics.count))
        for (k, v) in metadata.metrics {
            w.string(k)
            w.f64(v)
        }
        return w.bytes
    }

    static func encodeLogistic(_ model: LogisticRegressionModel) -> [UInt8] {
        var w = ByteWriter()
        w.f64(model.intercept)
        for term in model.terms {
            switch term {
            case .numeric(let t):
                w.u8(0)
                w.u8(t.missingWeight == nil ? 0 : 1)
                w.f64(t.center)
                w.f64(t.scale)
                w.f64(t.imputedValue)
                w.f64(t.weight)
                w.f64(t.missingWeight ?? 0)
            case .categorical(let weights):
                w.u8(1)
                w.u32(UInt32(weights.count))
                for x in weights { w.f64(x) }
            }
        }
        return w.bytes
    }

    static func encodeEnsemble(_ model: TreeEnsembleModel) -> [UInt8] {
        var w = ByteWriter()
        w.f64(model.baseScore)
        w.u32(UInt32(model.trees.count))
        for tree in model.trees {
            w.u32(UInt32(tree.nodes.count))
            w.u32(UInt32(tree.leafValues.count))
            w.u32(UInt32(tree.categoryWords.count))
            for node in tree.nodes {
                w.u32(UInt32(bitPattern: node.feature))
                w.u8(node.kind.rawValue)
                w.u8((node.defaultLeft ? 1 : 0) | (node.zeroIsMissing ? 2 : 0))
                w.u16(0)
                w.u32(node.threshold.bitPattern)
                w.u32(UInt32(bitPattern: node.left))
                w.u32(UInt32(bitPattern: node.right))
                w.u32(node.categoryOffset)
                w.u32(node.categoryCount)
            }
            for v in tree.leafValues { w.f64(v) }
            for word in tree.categoryWords { w.u32(word) }
        }
        return w.bytes
    }

    static func encodeCovers(_ trees: [DecisionTree]) -> [UInt8] {
        var w = ByteWriter()
        w.u32(UInt32(trees.count))
        for tree in trees {
            w.u32(UInt32(tree.covers.count))
            for c in tree.covers { w.f64(c) }
        }
        return w.bytes
    }

    static func encodeCalibrator(_ calibrator: Calibrator) -> [UInt8] {
        var w = ByteWriter()
        w.u16(calibrator.method.rawValue)
        w.u16(0)
        switch calibrator {
        case .platt(let slope, let intercept):
            w.u32(0)
            w.f64(slope)
            w.f64(intercept)
        case .isotonic(let curve):
            w.u32(UInt32(curve.margins.count))
            for x in curve.margins { w.f64(x) }
            for p in curve.probabilities { w.f64(p) }
        }
        return w.bytes
    }

    static func encodeImportance(_ importance: [FeatureImportance]) -> [UInt8] {
        var w = ByteWriter()
        w.u32(UInt32(importance.count))
        for i in importance {
            w.f64(i.gain)
            w.u64(UInt64(i.splits))
        }
        return w.bytes
    }

    /// A 64-bit identity of a schema: the first 8 bytes (little-endian) of the SHA-256 of its SCHM section payload.
    /// Clients send it with every score request so a request built for another schema is refused.
    public static func fingerprint(of schema: FeatureSchema) -> UInt64 {
        let digest = Array(SHA256.hash(data: encodeSchema(schema)))
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(digest[k]) << (8 * UInt64(k)) }
        return v
    }
}
