import PropensityData
import PropensityModel

/// How each input column becomes columns of the design matrix, fitted on the training rows only.
///
/// Numeric columns are standardized with the training mean and population standard deviation; a missing value is
/// imputed with the mean (0 after standardizing) and, when the training rows had any missing value, flagged in an
/// extra indicator column. Categorical columns are one-hot encoded over the categories seen in training; an unseen or
/// missing category is all zeros.
public struct FeatureEncoder: Sendable {
    public enum Encoding: Sendable {
        case numeric(center: Double, scale: Double, hasIndicator: Bool)
        case categorical(categories: [String])

        var width: Int {
            switch self {
            case .numeric(_, _, let indicator): indicator ? 2 : 1
            case .categorical(let categories): categories.count
            }
        }
    }

    public var schema: FeatureSchema
    public var encodings: [Encoding]
    /// Design-matrix width, the leading intercept column included.
    public var width: Int { 1 + encodings.reduce(0) { $0 + $1.width } }

    /// Names of the design-matrix columns after the intercept (`col`, `col:missing`, `col=value`).
    public var encodedNames: [String] {
        zip(schema.features, encodings).flatMap { feature, encoding -> [String] in
            switch encoding {
            case .numeric(_, _, let indicator): indicator ? [feature.name, feature.name + ":missing"] : [feature.name]
            case .categorical(let categories): categories.map { feature.name + "=" + $0 }
            }
        }
    }

    /// Fits on `rows` of `table`, using every column except those in `excluding` (the label).
    public init(table: Table, rows: [Int], excluding: Set<String>, threads: Int = 1) {
        let columns = table.columns.filter { !excluding.contains($0.name) }
        let results = ChunkResults<(Feature, Encoding)>(count: columns.count)
        ParallelFor.run(count: columns.count, threads: threads) { c in
            results.set(c, Self.fit(columns[c], rows: rows))
        }
        let fitted = results.values()
        schema = FeatureSchema(features: fitted.map(\.0))
        encodings = fitted.map(\.1)
    }

    private static func fit(_ column: Column, rows: [Int]) -> (Feature, Encoding) {
        switch column.kind {
        case .numeric:
            // Two passes (mean, then squared deviations) for accuracy on columns with a large offset.
            var sum = 0.0
            var count = 0
            column.numbers.withUnsafeBufferPointer { values in
                for i in rows {
                    let v = Double(values[i])
                    if !v.isNaN {
                        sum += v
                        count += 1
                    }
                }
            }
            let mean = count > 0 ? sum / Double(count) : 0
            var squares = 0.0
            column.numbers.withUnsafeBufferPointer { values in
                for i in rows {
                    let v = Double(values[i])
                    if !v.isNaN { squares += (v - mean) * (v - mean) }
                }
            }
            let std = count > 0 ? (squares / Double(count)).squareRoot() : 0
            // A constant column keeps scale 1: it centers to zeros and its weight stays at 0.
            let scale = std > 0 && std.isFinite ? std : 1
            return (.numeric(column.name), .numeric(center: mean, scale: scale, hasIndicator: count < rows.count))
        case .categorical:
            var seen = [Bool](repeating: false, count: column.categories.count)
            for i in rows where column.codes[i] >= 0 { seen[Int(column.codes[i])] = true }
            // Keep first-seen order of the file so the vocabulary is stable for a given input.
            let categories = column.categories.indices.filter { seen[$0] }.map { column.categories[$0] }
            return (.categorical(column.name, categories), .categorical(categories: categories))
        }
    }

    /// The row-major `rows.count × width` design matrix, intercept column first.
    ///
    /// Filled a block of rows at a time, feature by feature (writing one column down the whole matrix would touch a
    /// new cache line per value), blocks spread over `threads` workers. Every byte is written exactly once, so the
    /// fresh pages are touched once, by the thread that fills them.
    public func designMatrix(table: Table, rows: [Int], threads: Int = 1) -> [Double] {
        let d = width
        let byName = table.columnIndexByName
        let columns = schema.features.map { table.columns[byName[$0.name]!] }
        let categoryMaps: [[Int32]] = zip(columns, encodings).map { column, encoding in
            guard case .categorical(let categories) = encoding else { return [] }
            let index = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, Int32($0)) })
            return column.categories.map { index[$0] ?? -1 }
        }
        let encodings = self.encodings
        let blockRows = 512
        let blockCount = (rows.count + blockRows - 1) / blockRows
        return [Double](unsafeUninitializedCapacity: rows.count * d) { buffer, initialized in
            let out = UnsafeMutableSendablePointer(buffer.baseAddress!)
            let fill: @Sendable (Int) -> Void = { block in
                let x = out.pointer
                let blockStart = block * blockRows
                let blockEnd = min(blockStart + blockRows, rows.count)
                (x + blockStart * d).initialize(repeating: 0, count: (blockEnd - blockStart) * d)
                for r in blockStart..<blockEnd { x[r * d] = 1 }
                var offset = 1
                for (f, encoding) in encodings.enumerated() {
                    switch encoding {
                    case .numeric(let center, let scale, let indicator):
                        columns[f].numbers.withUnsafeBufferPointer { values in
                            for r in blockStart..<blockEnd {
                                let v = Double(values[rows[r]])
                                if v.isNaN {
                                    if indicator { x[r * d + offset + 1] = 1 }
                                } else {
                                    x[r * d + offset] = (v - center) / scale
                                }
                            }
                        }
                    case .categorical:
                        let mapped = categoryMaps[f]
                        columns[f].codes.withUnsafeBufferPointer { codes in
                            for r in blockStart..<blockEnd {
                                let code = codes[rows[r]]
                                if code >= 0 {
                                    let k = mapped[Int(code)]
                                    if k >= 0 { x[r * d + offset + Int(k)] = 1 }
                                }
                            }
                        }
                    }
                    offset += encoding.width
                }
            }
            ParallelFor.run(count: blockCount, threads: threads, fill)
            initialized = rows.count * d
        }
    }

    /// The model for fitted design-matrix weights (`weights[0]` is the intercept).
    public func model(weights: [Double]) -> LogisticRegressionModel {
        precondition(weights.count == width)
        var terms: [LogisticRegressionModel.Term] = []
        var offset = 1
        for encoding in encodings {
            switch encoding {
            case .numeric(let center, let scale, let indicator):
                terms.append(.numeric(.init(
                    center: center, scale: scale, imputedValue: center, weight: weights[offset],
                    missingWeight: indicator ? weights[offset + 1] : nil)))
            case .categorical(let categories):
                terms.append(.categorical(categoryWeights: Array(weights[offset..<(offset + categories.count)])))
            }
            offset += encoding.width
        }
        return LogisticRegressionModel(schema: schema, intercept: weights[0], terms: terms)
    }
}
