import Crypto
import Foundation
import PropensityModel

extension ModelFile {
    public static func load(from path: String) throws(ModelFileError) -> Model {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw ModelFileError(file: path, reason: exists ? "cannot read file" : "no such file")
        }
        return try decode([UInt8](data), source: path)
    }

    /// Verifies and decodes a whole file: nothing is returned unless every check passes.
    public static func decode(_ bytes: [UInt8], source: String) throws(ModelFileError) -> Model {
        func fail(_ reason: String) -> ModelFileError { ModelFileError(file: source, reason: reason) }

        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else {
            throw fail("not a Propensity model file (wrong magic bytes)")
        }
        guard bytes.count >= headerSize + checksumSize else {
            throw fail("truncated: \(bytes.count) bytes is shorter than the header and checksum")
        }
        var header = ByteReader(bytes, from: magic.count)
        let (version, kindCode, sectionCount, declaredLength): (UInt16, UInt16, UInt32, UInt64)
        do {
            version = try header.u16("version")
            kindCode = try header.u16("kind")
            sectionCount = try header.u32("section count")
            declaredLength = try header.u64("file length")
        } catch {
            throw fail("truncated header")
        }
        guard version == formatVersion else {
            throw fail("unsupported format version \(version) (this build reads version \(formatVersion))")
        }
        if declaredLength > UInt64(bytes.count) {
            throw fail("truncated: the header declares \(declaredLength) bytes, the file has \(bytes.count)")
        }
        if declaredLength < UInt64(bytes.count) {
            throw fail("\(UInt64(bytes.count) - declaredLength) unexpected bytes after the declared end of the file")
        }
        let bodyEnd = bytes.count - checksumSize
        let expected = Array(bytes[bodyEnd...])
        guard Array(SHA256.hash(data: bytes[0..<bodyEnd])) == expected else {
            throw fail("checksum mismatch: the file is corrupt")
        }
        guard let kind = ModelKind(rawValue: kindCode) else { throw fail("unknown model kind \(kindCode)") }

        // Sections.
        var reader = ByteReader(bytes, from: headerSize, to: bodyEnd)
        var payloads: [Tag: (Int, Int)] = [:]
        for index in 0..<Int(sectionCount) {
            let tagValue: UInt32, flags: UInt32, length: UInt64
            do {
                tagValue = try reader.u32("tag")
                flags = try reader.u32("flags")
                length = try reader.u64("length")
            } catch {
                throw fail("section \(index + 1) of \(sectionCount): header runs past the end of the file")
            }
            guard length <= UInt64(reader.remaining) else {
                throw fail("section \(index + 1) of \(sectionCount) declares \(length) bytes, only \(reader.remaining) remain")
            }
            let start = reader.offset
            let padded = (Int(length) + 7) & ~7
            _ = try? reader.take(min(padded, reader.remaining), "payload")
            guard let tag = Tag(rawValue: tagValue) else {
                if flags & requiredFlag != 0 {
                    throw fail("required section \(tagName(tagValue)) is not supported by this build (newer file?)")
                }
                continue
            }
            guard payloads[tag] == nil else { throw fail("section \(tag.name) appears twice") }
            payloads[tag] = (start, start + Int(length))
        }
        guard reader.remaining == 0 else { throw fail("\(reader.remaining) bytes after the last section") }

        func section(_ tag: Tag) throws(ModelFileError) -> ByteReader {
            guard let (start, end) = payloads[tag] else { throw fail("missing required section \(tag.name)") }
            return ByteReader(bytes, from: start, to: end)
        }
        func finish(_ r: ByteReader, _ tag: Tag) throws(ModelFileError) {
            guard r.remaining == 0 else {
                throw fail("section \(tag.name): \(r.remaining) bytes left over (inconsistent sizes)")
            }
        }
        func within<T>(_ tag: Tag, _ body: (inout ByteReader) throws -> T) throws(ModelFileError) -> T {
            var r = try section(tag)
            let value: T
            do {
                value = try body(&r)
            } catch let e as ByteReader.OutOfBounds {
                throw fail("section \(tag.name): \(e.what) runs past the end of the section (inconsistent sizes)")
            } catch let e as ModelFileError {
                throw e
            } catch {
                throw fail("section \(tag.name): \(error)")
            }
            try finish(r, tag)
            return value
        }

        let metadata = payloads[.metadata] == nil ? ModelMetadata() : try within(.metadata) { r in
            try decodeMetadata(&r, fail)
        }
        let schema = try within(.schema) { r in try decodeSchema(&r, fail) }
        switch kind {
        case .logisticRegression:
            let model = try within(.logistic) { r in try decodeLogistic(&r, schema: schema, fail) }
            return Model(body: .logisticRegression(model), metadata: metadata)
        case .treeEnsemble:
            throw fail("model kind \(kind.name) is not supported by this build")
        }
    }

    static func tagName(_ value: UInt32) -> String {
        let bytes = withUnsafeBytes(of: value.littleEndian) { Array($0) }
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return "'" + String(decoding: bytes, as: UTF8.self) + "'" }
        return "0x" + String(value, radix: 16)
    }

    static func decodeMetadata(_ r: inout ByteReader, _ fail: (String) -> ModelFileError) throws -> ModelMetadata {
        var metadata = ModelMetadata()
        let n = try r.count("property count", minimumItemSize: 8)
        for _ in 0..<n {
            guard let key = try r.string("property key"), let value = try r.string("property value") else {
                throw fail("section META: a property is not valid UTF-8")
            }
            metadata.properties.append((key, value))
        }
        let m = try r.count("metric count", minimumItemSize: 12)
        for _ in 0..<m {
            guard let key = try r.string("metric name") else { throw fail("section META: a metric name is not valid UTF-8") }
            metadata.metrics.append((key, try r.f64("metric value")))
        }
        return metadata
    }

    static func decodeSchema(_ r: inout ByteReader, _ fail: (String) -> ModelFileError) throws -> FeatureSchema {
        let n = try r.count("feature count", minimumItemSize: 5)
        guard n > 0 else { throw fail("section SCHM: the schema has no features") }
        var features: [Feature] = []
        var names = Set<String>()
        for i in 0..<n {
            guard let name = try r.string("feature \(i + 1) name"), !name.isEmpty else {
                throw fail("section SCHM: feature \(i + 1) has an empty or invalid name")
            }
            guard names.insert(name).inserted else { throw fail("section SCHM: feature '\(name)' appears twice") }
            switch try r.u8("feature \(i + 1) kind") {
            case 0:
                features.append(.numeric(name))
            case 1:
                let count = try r.count("category count of '\(name)'", minimumItemSize: 4)
                var categories: [String] = []
                categories.reserveCapacity(count)
                for _ in 0..<count {
                    guard let c = try r.string("a category of '\(name)'") else {
                        throw fail("section SCHM: a category of '\(name)' is not valid UTF-8")
                    }
                    categories.append(c)
                }
                guard Set(categories).count == categories.count else {
                    throw fail("section SCHM: '\(name)' lists a category twice")
                }
                features.append(.categorical(name, categories))
            case let k:
                throw fail("section SCHM: feature '\(name)' has unknown kind \(k)")
            }
        }
        return FeatureSchema(features: features)
    }

    static func decodeLogistic(_ r: inout ByteReader, schema: FeatureSchema, _ fail: (String) -> ModelFileError) throws
        -> LogisticRegressionModel
    {
        func finite(_ v: Double, _ what: String) throws -> Double {
            guard v.isFinite else { throw fail("section LOGR: \(what) is not a finite number") }
            return v
        }
        let intercept = try finite(try r.f64("intercept"), "the intercept")
        var terms: [LogisticRegressionModel.Term] = []
        for feature in schema.features {
            let kind = try r.u8("term kind of '\(feature.name)'")
            switch (kind, feature.kind) {
            case (0, .numeric):
                let hasMissing = try r.u8("missing flag of '\(feature.name)'")
                guard hasMissing <= 1 else { throw fail("section LOGR: bad missing flag for '\(feature.name)'") }
                let center = try finite(try r.f64("center"), "the center of '\(feature.name)'")
                let scale = try finite(try r.f64("scale"), "the scale of '\(feature.name)'")
                guard scale > 0 else { throw fail("section LOGR: the scale of '\(feature.name)' is not positive") }
                let imputed = try finite(try r.f64("imputed value"), "the imputed value of '\(feature.name)'")
                let weight = try finite(try r.f64("weight"), "the weight of '\(feature.name)'")
                let missing = try finite(try r.f64("missing weight"), "the missing weight of '\(feature.name)'")
                terms.append(.numeric(.init(
                    center: center, scale: scale, imputedValue: imputed, weight: weight,
                    missingWeight: hasMissing == 1 ? missing : nil)))
            case (1, .categorical(let categories)):
                let count = Int(try r.u32("category count of '\(feature.name)'"))
                guard count == categories.count else {
                    throw fail("section LOGR: '\(feature.name)' has \(count) weights for \(categories.count) categories")
                }
                guard count * 8 <= r.remaining else {
                    throw fail("section LOGR: weights of '\(feature.name)' run past the end of the section")
                }
                var weights: [Double] = []
                weights.reserveCapacity(count)
                for _ in 0..<count { weights.append(try finite(try r.f64("weight"), "a weight of '\(feature.name)'")) }
                terms.append(.categorical(categoryWeights: weights))
            default:
                throw fail("section LOGR: the term for '\(feature.name)' does not match its kind in the schema")
            }
        }
        return LogisticRegressionModel(schema: schema, intercept: intercept, terms: terms)
    }
}
