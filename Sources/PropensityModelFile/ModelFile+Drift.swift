import PropensityModel

/// The `DRFT` section: the reference profile drift is measured against (docs/model-format.md, docs/drift.md).
extension ModelFile {
    static let numericBins: UInt8 = 0
    static let categoricalBins: UInt8 = 1

    static func encodeDrift(_ profile: DriftProfile) -> [UInt8] {
        var w = ByteWriter()
        w.u64(UInt64(profile.rows))
        w.u32(UInt32(profile.columns.count))
        for bins in profile.columns + [profile.score] {
            switch bins.kind {
            case .numeric(let edges):
                w.u8(numericBins)
                w.u32(UInt32(edges.count))
                for e in edges { w.u32(e.bitPattern) }
            case .categorical(let categories):
                w.u8(categoricalBins)
                w.u32(UInt32(categories.count))
                for c in categories { w.u32(UInt32(c)) }
            }
            for f in bins.fractions { w.f64(f) }
        }
        return w.bytes
    }

    /// Fractions may be off 1 by rounding only: they are computed as counts / rows in float64.
    static let fractionSumTolerance = 1e-9

    static func decodeDrift(_ r: inout ByteReader, schema: FeatureSchema, _ fail: (String) -> ModelFileError) throws
        -> DriftProfile
    {
        let rows = try r.u64("reference rows")
        guard rows >= 1, rows <= UInt64(Int.max) else { throw fail("the reference row count must be at least 1") }
        let count = Int(try r.u32("column count"))
        guard count == schema.count else { throw fail("\(count) columns for a schema of \(schema.count) features") }
        var columns: [DriftBins] = []
        for index in 0...count {
            let name = index == count ? "the score" : "column \(index) (\(schema.features[index].name))"
            let expected: FeatureKind = index == count ? .numeric : schema.features[index].kind
            columns.append(try decodeBins(&r, name: name, expected: expected, fail))
        }
        let score = columns.removeLast()
        return DriftProfile(rows: Int(rows), columns: columns, score: score)
    }

    private static func decodeBins(
        _ r: inout ByteReader, name: String, expected: FeatureKind, _ fail: (String) -> ModelFileError
    ) throws -> DriftBins {
        let kindCode = try r.u8("bin kind")
        let n = try r.count("bin count", minimumItemSize: 4)
        let kind: DriftBins.Kind
        switch (kindCode, expected) {
        case (numericBins, .numeric):
            let edges = try (0..<n).map { _ in Float(bitPattern: try r.u32("edge")) }
            guard edges.allSatisfy(\.isFinite), zip(edges, edges.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw fail("\(name): edges must be finite and strictly increasing")
            }
            kind = .numeric(edges: edges)
        case (categoricalBins, .categorical(let categories)):
            let indices = try (0..<n).map { _ in Int(try r.u32("category")) }
            guard indices.allSatisfy({ $0 < categories.count }), Set(indices).count == n else {
                throw fail("\(name): category indices must be unique and below the schema's \(categories.count)")
            }
            kind = .categorical(categories: indices)
        case (numericBins, _), (categoricalBins, _):
            throw fail("\(name): bin kind \(kindCode) does not match the feature's kind")
        default:
            throw fail("\(name): unknown bin kind \(kindCode)")
        }
        let binCount = n + 2
        guard binCount * 8 <= r.remaining else { throw fail("\(name): fractions run past the end of the section") }
        let fractions = try (0..<binCount).map { _ in try r.f64("fraction") }
        guard fractions.allSatisfy({ $0.isFinite && $0 >= 0 }),
              abs(fractions.reduce(0, +) - 1) <= fractionSumTolerance
        else { throw fail("\(name): fractions must be non-negative and sum to 1") }
        return DriftBins(kind: kind, fractions: fractions)
    }
}
