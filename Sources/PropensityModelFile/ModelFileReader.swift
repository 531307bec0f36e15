import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PropensityModel

extension ModelFile {
    /// The largest file `load` reads unless told otherwise: far above any real model (10,000 trees of 255 leaves
    /// take about 70 MB) and far below what would take the machine's memory.
    public static let defaultMaxFileBytes = 1 << 30

    /// Reads, verifies (checksum, structure) and decodes a model file.
    ///
    /// The header is checked before the rest is read: a file that is not a model, has another format version,
    /// declares a length other than its size, or is larger than `maxBytes` is refused after reading 24 bytes.
    /// - Parameters:
    ///   - path: the file.
    ///   - maxBytes: files larger than this are refused (`.tooLarge`) without being read.
    /// - Throws: `ModelFileError` with `.notFound`, `.unreadable`, `.tooLarge`, or any of the reasons `decode` gives.
    public static func load(from path: String, maxBytes: Int = defaultMaxFileBytes) throws(ModelFileError) -> Model {
        try decode(try read(path, maxBytes: maxBytes), source: path)
    }

    /// The bytes of a model file whose header and size pass the checks that need no more than the header.
    /// - Throws: `ModelFileError` with `.notFound`, `.unreadable`, `.tooLarge`, `.notAModelFile`, `.truncated`,
    ///   `.unsupportedVersion` or `.trailingBytes`.
    public static func read(_ path: String, maxBytes: Int = defaultMaxFileBytes) throws(ModelFileError) -> [UInt8] {
        func fail(_ reason: ModelFileError.Reason) -> ModelFileError { ModelFileError(file: path, reason: reason) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw fail(errno == ENOENT ? .notFound : .unreadable) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { throw fail(.unreadable) }
        let size = Int(status.st_size)
        guard size <= maxBytes else { throw fail(.tooLarge(bytes: size, limit: maxBytes)) }
        var bytes = [UInt8](repeating: 0, count: size)
        func readFully(_ range: Range<Int>) -> Bool {
            var done = range.lowerBound
            while done < range.upperBound {
                let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, range.upperBound - done, off_t(done)) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                done += n
            }
            return true
        }
        let head = min(size, headerSize)
        guard readFully(0..<head) else { throw fail(.unreadable) }
        try checkHeader(Array(bytes[0..<head]), fileSize: size, source: path)
        guard readFully(head..<size) else { throw fail(.truncated(bytes: size, declared: UInt64(size))) }
        return bytes
    }

    /// The checks that need only the header and the file's size, in the order `decode` makes them.
    static func checkHeader(_ head: [UInt8], fileSize: Int, source: String) throws(ModelFileError) {
        func fail(_ reason: ModelFileError.Reason) -> ModelFileError { ModelFileError(file: source, reason: reason) }
        guard head.count >= magic.count, Array(head[0..<magic.count]) == magic else { throw fail(.notAModelFile) }
        guard fileSize >= headerSize + checksumSize, head.count >= headerSize else {
            throw fail(.truncated(bytes: fileSize, declared: nil))
        }
        var header = ByteReader(head, from: magic.count)
        guard let version = try? header.u16("version"), (try? header.u16("kind")) != nil,
              (try? header.u32("section count")) != nil, let declaredLength = try? header.u64("file length")
        else { throw fail(.truncated(bytes: fileSize, declared: nil)) }
        guard version == formatVersion else {
            throw fail(.unsupportedVersion(found: version, supported: formatVersion))
        }
        if declaredLength > UInt64(fileSize) { throw fail(.truncated(bytes: fileSize, declared: declaredLength)) }
        if declaredLength < UInt64(fileSize) { throw fail(.trailingBytes(Int(UInt64(fileSize) - declaredLength))) }
    }

    /// Verifies and decodes a whole file: nothing is returned unless every check passes.
    /// - Parameters:
    ///   - bytes: the file's bytes.
    ///   - source: the name errors carry (a path or a label).
    /// - Throws: `ModelFileError`: `.notAModelFile`, `.truncated`, `.unsupportedVersion`, `.trailingBytes`,
    ///   `.checksumMismatch`, `.unknownModelKind`, `.malformedLayout`, `.unsupportedRequiredSection`,
    ///   `.duplicateSection`, `.missingSection` or `.malformedSection`.
    public static func decode(_ bytes: [UInt8], source: String) throws(ModelFileError) -> Model {
        func fail(_ reason: ModelFileError.Reason) -> ModelFileError { ModelFileError(file: source, reason: reason) }

        try checkHeader(Array(bytes.prefix(headerSize)), fileSize: bytes.count, source: source)
        var header = ByteReader(bytes, from: magic.count + 2)
        guard let kindCode = try? header.u16("kind"), let sectionCount = try? header.u32("section count") else {
            throw fail(.truncated(bytes: bytes.count, declared: nil))
        }
        let bodyEnd = bytes.count - checksumSize
        let expected = Array(bytes[bodyEnd...])
        guard Array(SHA256.hash(data: bytes[0..<bodyEnd])) == expected else {
            throw fail(.checksumMismatch)
        }
        guard let kind = ModelKind(rawValue: kindCode) else { throw fail(.unknownModelKind(kindCode)) }

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
                throw fail(.malformedLayout("section \(index + 1) of \(sectionCount): header runs past the end of the file"))
            }
            guard length <= UInt64(reader.remaining) else {
                throw fail(.malformedLayout(
                    "section \(index + 1) of \(sectionCount) declares \(length) bytes, only \(reader.remaining) remain"))
            }
            guard flags & ~requiredFlag == 0 else {
                throw fail(.malformedLayout(
                    "section \(index + 1) of \(sectionCount) has undefined flag bits 0x\(String(flags, radix: 16))"))
            }
            let start = reader.offset
            let padded = (Int(length) + 7) & ~7
            _ = try? reader.take(min(padded, reader.remaining), "payload")
            guard let tag = Tag(rawValue: tagValue) else {
                if flags & requiredFlag != 0 {
                    throw fail(.unsupportedRequiredSection(tagName(tagValue)))
                }
                continue
            }
            guard payloads[tag] == nil else { throw fail(.duplicateSection(tag.name)) }
            payloads[tag] = (start, start + Int(length))
        }
        guard reader.remaining == 0 else { throw fail(.malformedLayout("\(reader.remaining) bytes after the last section")) }

        /// What a section's decoder throws: `.malformedSection` naming that section.
        func malformed(_ tag: Tag) -> (String) -> ModelFileError {
            { detail in fail(.malformedSection(tag.name, detail: detail)) }
        }
        func section(_ tag: Tag) throws(ModelFileError) -> ByteReader {
            guard let (start, end) = payloads[tag] else { throw fail(.missingSection(tag.name)) }
            return ByteReader(bytes, from: start, to: end)
        }
        func finish(_ r: ByteReader, _ tag: Tag) throws(ModelFileError) {
            guard r.remaining == 0 else {
                throw fail(.malformedSection(tag.name, detail: "\(r.remaining) bytes left over (inconsistent sizes)"))
            }
        }
        func within<T>(_ tag: Tag, _ body: (inout ByteReader) throws -> T) throws(ModelFileError) -> T {
            var r = try section(tag)
            let value: T
            do {
                value = try body(&r)
            } catch let e as ByteReader.OutOfBounds {
                throw fail(.malformedSection(tag.name, detail: "\(e.what) runs past the end of the section (inconsistent sizes)"))
            } catch let e as ModelFileError {
                throw e
            } catch {
                throw fail(.malformedSection(tag.name, detail: "\(error)"))
            }
            try finish(r, tag)
            return value
        }

        let metadata = payloads[.metadata] == nil ? ModelMetadata() : try within(.metadata) { r in
            try decodeMetadata(&r, malformed(.metadata))
        }
        let schema = try within(.schema) { r in try decodeSchema(&r, malformed(.schema)) }
        let calibrator = payloads[.calibration] == nil ? nil : try within(.calibration) { r in
            try decodeCalibrator(&r, malformed(.calibration))
        }
        let drift = payloads[.drift] == nil ? nil : try within(.drift) { r in
            try decodeDrift(&r, schema: schema, malformed(.drift))
        }
        switch kind {
        case .logisticRegression:
            let model = try within(.logistic) { r in try decodeLogistic(&r, schema: schema, malformed(.logistic)) }
            return Model(body: .logisticRegression(model), metadata: metadata, calibrator: calibrator, drift: drift)
        case .treeEnsemble:
            var model = try within(.ensemble) { r in try decodeEnsemble(&r, schema: schema, malformed(.ensemble)) }
            if payloads[.importance] != nil {
                model.importance = try within(.importance) { r in try decodeImportance(&r, features: schema.count, malformed(.importance)) }
            }
            if payloads[.covers] != nil {
                let covers = try within(.covers) { r in try decodeCovers(&r, trees: model.trees, malformed(.covers)) }
                for t in model.trees.indices { model.trees[t].covers = covers[t] }
            }
            return Model(body: .treeEnsemble(model), metadata: metadata, calibrator: calibrator, drift: drift)
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
                throw fail("a property is not valid UTF-8")
            }
            metadata.properties.append((key, value))
        }
        let m = try r.count("metric count", minimumItemSize: 12)
        for _ in 0..<m {
            guard let key = try r.string("metric name") else { throw fail("a metric name is not valid UTF-8") }
            metadata.metrics.append((key, try r.f64("metric value")))
        }
        return metadata
    }

    static func decodeSchema(_ r: inout ByteReader, _ fail: (String) -> ModelFileError) throws -> FeatureSchema {
        let n = try r.count("feature count", minimumItemSize: 5)
        guard n > 0 else { throw fail("the schema has no features") }
        var features: [Feature] = []
        var names = Set<String>()
        for i in 0..<n {
            guard let name = try r.string("feature \(i + 1) name"), !name.isEmpty else {
                throw fail("feature \(i + 1) has an empty or invalid name")
            }
            guard names.insert(name).inserted else { throw fail("feature '\(name)' appears twice") }
            switch try r.u8("feature \(i + 1) kind") {
            case 0:
                features.append(.numeric(name))
            case 1:
                let count = try r.count("category count of '\(name)'", minimumItemSize: 4)
                var categories: [String] = []
                categories.reserveCapacity(count)
                for _ in 0..<count {
                    guard let c = try r.string("a category of '\(name)'") else {
                        throw fail("a category of '\(name)' is not valid UTF-8")
                    }
                    categories.append(c)
                }
                guard Set(categories).count == categories.count else {
                    throw fail("'\(name)' lists a category twice")
                }
                features.append(.categorical(name, categories))
            case let k:
                throw fail("feature '\(name)' has unknown kind \(k)")
            }
        }
        return FeatureSchema(features: features)
    }

    static func decodeLogistic(_ r: inout ByteReader, schema: FeatureSchema, _ fail: (String) -> ModelFileError) throws
        -> LogisticRegressionModel
    {
        func finite(_ v: Double, _ what: String) throws -> Double {
            guard v.isFinite else { throw fail("\(what) is not a finite number") }
            return v
        }
        let intercept = try finite(try r.f64("intercept"), "the intercept")
        var terms: [LogisticRegressionModel.Term] = []
        for feature in schema.features {
            let kind = try r.u8("term kind of '\(feature.name)'")
            switch (kind, feature.kind) {
            case (0, .numeric):
                let hasMissing = try r.u8("missing flag of '\(feature.name)'")
                guard hasMissing <= 1 else { throw fail("bad missing flag for '\(feature.name)'") }
                let center = try finite(try r.f64("center"), "the center of '\(feature.name)'")
                let scale = try finite(try r.f64("scale"), "the scale of '\(feature.name)'")
                guard scale > 0 else { throw fail("the scale of '\(feature.name)' is not positive") }
                let imputed = try finite(try r.f64("imputed value"), "the imputed value of '\(feature.name)'")
                let weight = try finite(try r.f64("weight"), "the weight of '\(feature.name)'")
                let missing = try finite(try r.f64("missing weight"), "the missing weight of '\(feature.name)'")
                guard hasMissing == 1 || missing == 0 else {
                    throw fail("'\(feature.name)' has a missing weight but its flag says it has none")
                }
                terms.append(.numeric(.init(
                    center: center, scale: scale, imputedValue: imputed, weight: weight,
                    missingWeight: hasMissing == 1 ? missing : nil)))
            case (1, .categorical(let categories)):
                let count = Int(try r.u32("category count of '\(feature.name)'"))
                guard count == categories.count else {
                    throw fail("'\(feature.name)' has \(count) weights for \(categories.count) categories")
                }
                guard count * 8 <= r.remaining else {
                    throw fail("weights of '\(feature.name)' run past the end of the section")
                }
                var weights: [Double] = []
                weights.reserveCapacity(count)
                for _ in 0..<count { weights.append(try finite(try r.f64("weight"), "a weight of '\(feature.name)'")) }
                terms.append(.categorical(categoryWeights: weights))
            default:
                throw fail("the term for '\(feature.name)' does not match its kind in the schema")
            }
        }
        return LogisticRegressionModel(schema: schema, intercept: intercept, terms: terms)
    }

    static func decodeEnsemble(_ r: inout ByteReader, schema: FeatureSchema, _ fail: (String) -> ModelFileError) throws
        -> TreeEnsembleModel
    {
        let base = try r.f64("base score")
        guard base.isFinite else { throw fail("the base score is not a finite number") }
        let treeCount = try r.count("tree count", minimumItemSize: 20)
        var trees: [DecisionTree] = []
        trees.reserveCapacity(treeCount)
        for t in 0..<treeCount {
            func bad(_ message: String) -> ModelFileError { fail("tree \(t): \(message)") }
            let nodeCount = Int(try r.u32("node count"))
            let leafCount = Int(try r.u32("leaf count"))
            let wordCount = Int(try r.u32("category word count"))
            guard nodeCount * 28 + leafCount * 8 + wordCount * 4 <= r.remaining else {
                throw fail("tree \(t) runs past the end of the section (inconsistent sizes)")
            }
            guard leafCount == nodeCount + 1 else { throw bad("\(nodeCount) internal nodes need \(nodeCount + 1) leaves, found \(leafCount)") }
            var nodes: [DecisionTree.Node] = []
            nodes.reserveCapacity(nodeCount)
            for _ in 0..<nodeCount {
                let feature = Int32(bitPattern: try r.u32("feature"))
                let kindCode = try r.u8("split kind")
                let flags = try r.u8("flags")
                let reserved = try r.u16("reserved")
                let threshold = Float(bitPattern: try r.u32("threshold"))
                let left = Int32(bitPattern: try r.u32("left child"))
                let right = Int32(bitPattern: try r.u32("right child"))
                let offset = try r.u32("category offset")
                let count = try r.u32("category count")
                guard let kind = DecisionTree.SplitKind(rawValue: kindCode), flags <= 3, reserved == 0 else {
                    throw bad("node \(nodes.count) has an unknown split kind, undefined flag bits or a non-zero reserved field")
                }
                guard kind == .categorical || (offset == 0 && count == 0) else {
                    throw bad("node \(nodes.count) is a numeric split with a category set")
                }
                guard kind == .numeric || flags & 2 == 0 else {
                    throw bad("node \(nodes.count) is a categorical split that counts zero as missing")
                }
                nodes.append(DecisionTree.Node(
                    feature: feature, kind: kind, defaultLeft: flags & 1 != 0, threshold: threshold, left: left,
                    right: right, categoryOffset: offset, categoryCount: count, zeroIsMissing: flags & 2 != 0))
            }
            var leaves: [Double] = []
            leaves.reserveCapacity(leafCount)
            for _ in 0..<leafCount {
                let v = try r.f64("leaf value")
                guard v.isFinite else { throw bad("a leaf value is not a finite number") }
                leaves.append(v)
            }
            var words: [UInt32] = []
            words.reserveCapacity(wordCount)
            for _ in 0..<wordCount { words.append(try r.u32("category word")) }
            let tree = DecisionTree(nodes: nodes, leafValues: leaves, categoryWords: words)
            try validateTree(tree, schema: schema, bad)
            trees.append(tree)
        }
        return TreeEnsembleModel(
            schema: schema, baseScore: base, trees: trees,
            importance: Array(repeating: FeatureImportance(gain: 0, splits: 0), count: schema.count))
    }

    /// A tree must be a tree: children point forward (no cycles), every node but the root and every leaf is
    /// reached exactly once, splits name existing features of the matching kind.
    static func validateTree(_ tree: DecisionTree, schema: FeatureSchema, _ bad: (String) -> ModelFileError) throws {
        var leafSeen = [Bool](repeating: false, count: tree.leafValues.count)
        var nodeSeen = [Bool](repeating: false, count: tree.nodes.count)
        for (i, node) in tree.nodes.enumerated() {
            guard node.feature >= 0, Int(node.feature) < schema.count else {
                throw bad("node \(i) splits on feature \(node.feature), the schema has \(schema.count)")
            }
            let feature = schema.features[Int(node.feature)]
            switch node.kind {
            case .numeric:
                guard feature.kind == .numeric else { throw bad("node \(i) is a numeric split on categorical '\(feature.name)'") }
                guard !node.threshold.isNaN else { throw bad("node \(i) has a NaN threshold") }
            case .categorical:
                guard let categories = feature.kind.categories else {
                    throw bad("node \(i) is a categorical split on numeric '\(feature.name)'")
                }
                let end = Int(node.categoryOffset) + Int(node.categoryCount)
                guard end <= tree.categoryWords.count, Int(node.categoryCount) <= (categories.count + 31) / 32 + 1 else {
                    throw bad("node \(i) has a category set outside the tree's words")
                }
            }
            for child in [node.left, node.right] {
                if child >= 0 {
                    guard Int(child) > i, Int(child) < tree.nodes.count, !nodeSeen[Int(child)] else {
                        throw bad("node \(i) has an invalid child \(child)")
                    }
                    nodeSeen[Int(child)] = true
                } else {
                    let leaf = Int(~child)
                    guard leaf < tree.leafValues.count, !leafSeen[leaf] else { throw bad("node \(i) has an invalid leaf \(leaf)") }
                    leafSeen[leaf] = true
                }
            }
        }
        guard tree.nodes.isEmpty || (nodeSeen.dropFirst().allSatisfy { $0 } && !nodeSeen[0] && leafSeen.allSatisfy { $0 }) else {
            throw bad("some nodes or leaves are unreachable")
        }
    }

    /// A method code, a zero reserved field, then Platt's slope and intercept or isotonic knots.
    static func decodeCalibrator(_ r: inout ByteReader, _ fail: (String) -> ModelFileError) throws -> Calibrator {
        let code = try r.u16("calibration method")
        guard let method = CalibrationMethod(rawValue: code) else { throw fail("unknown calibration method \(code)") }
        guard try r.u16("reserved") == 0 else { throw fail("the reserved field is not 0") }
        let knots = Int(try r.u32("knot count"))
        switch method {
        case .platt:
            guard knots == 0 else { throw fail("Platt scaling has \(knots) knots (it takes none)") }
            let slope = try r.f64("slope"), intercept = try r.f64("intercept")
            guard slope.isFinite, intercept.isFinite, slope >= 0 else {
                throw fail("Platt scaling needs a finite slope ≥ 0 and a finite intercept")
            }
            return .platt(slope: slope, intercept: intercept)
        case .isotonic:
            guard knots > 0 else { throw fail("isotonic calibration has no knots") }
            guard knots * 16 <= r.remaining else { throw fail("\(knots) knots run past the end of the section") }
            let margins = try (0..<knots).map { _ in try r.f64("knot margin") }
            let probabilities = try (0..<knots).map { _ in try r.f64("knot probability") }
            guard let curve = IsotonicCurve(margins: margins, probabilities: probabilities) else {
                throw fail("isotonic knots must have finite, strictly increasing margins and non-decreasing probabilities in [0, 1]")
            }
            return .isotonic(curve)
        }
    }

    /// Per tree, `nodes + leaves` non-negative finite covers, nodes first.
    static func decodeCovers(_ r: inout ByteReader, trees: [DecisionTree], _ fail: (String) -> ModelFileError) throws
        -> [[Double]]
    {
        let n = Int(try r.u32("tree count"))
        guard n == trees.count else { throw fail("\(n) trees of covers for \(trees.count) trees") }
        var result: [[Double]] = []
        result.reserveCapacity(n)
        for (t, tree) in trees.enumerated() {
            let count = Int(try r.u32("cover count"))
            let expected = tree.nodes.count + tree.leafValues.count
            guard count == expected else { throw fail("tree \(t): \(count) covers for \(expected) nodes and leaves") }
            guard count * 8 <= r.remaining else { throw fail("tree \(t): covers run past the end of the section") }
            var covers: [Double] = []
            covers.reserveCapacity(count)
            for _ in 0..<count {
                let c = try r.f64("cover")
                guard c.isFinite, c >= 0 else { throw fail("tree \(t): a cover is negative or not a finite number") }
                covers.append(c)
            }
            result.append(covers)
        }
        return result
    }

    static func decodeImportance(_ r: inout ByteReader, features: Int, _ fail: (String) -> ModelFileError) throws
        -> [FeatureImportance]
    {
        let n = Int(try r.u32("feature count"))
        guard n == features else { throw fail("\(n) entries for \(features) features") }
        var result: [FeatureImportance] = []
        for _ in 0..<n {
            let gain = try r.f64("gain")
            let splits = try r.u64("splits")
            guard splits <= UInt64(Int.max) else { throw fail("split count out of range") }
            result.append(FeatureImportance(gain: gain, splits: Int(splits)))
        }
        return result
    }
}
