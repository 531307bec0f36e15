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
    public init(table: Table, rows: [Int], excluding: Set<String>) {
        var features: [Feature] = []
        var encodings: [Encoding] = []
        for column in table.columns where !excluding.contains(column.name) {
            switch column.kind {
            case .numeric:
                var sum = 0.0
                var count = 0
                for i in rows where !column.numbers[i].isNaN {
                    sum += column.numbers[i]
                    count += 1
                }
                let mean = count > 0 ? sum / Double(count) : 0
                var squares = 0.0
                for i in rows where !column.numbers[i].isNaN {
                    let d = column.numbers[i] - mean
                    squares += d * d
                }
                let std = count > 0 ? (squares / Double(count)).squareRoot() : 0
                // A constant column keeps scale 1: it centers to zeros and its weight stays at 0.
                let scale = std > 0 && std.isFinite ? std : 1
                features.append(.numeric(column.name))
                encodings.append(.numeric(center: mean, scale: scale, hasIndicator: count < rows.count))
            case .categorical:
                var seen = [Bool](repeating: false, count: column.categories.count)
                for i in rows where column.codes[i] >= 0 { seen[Int(column.codes[i])] = true }
                // Keep first-seen order of the file so the vocabulary is stable for a given input.
                let categories = column.categories.indices.filter { seen[$0] }.map { column.categories[$0] }
                features.append(.categorical(column.name, categories))
                encodings.append(.categorical(categories: categories))
            }
        }
        schema = FeatureSchema(features: features)
        self.encodings = encodings
    }

    /// The row-major `rows.count × width` design matrix, intercept column first.
    public func designMatrix(table: Table, rows: [Int]) -> [Double] {
        let d = width
        var x = [Double](repeating: 0, count: rows.count * d)
        for r in 0..<rows.count { x[r * d] = 1 }
        var offset = 1
        for (feature, encoding) in zip(schema.features, encodings) {
            let column = table.column(named: feature.name)!
            switch encoding {
            case .numeric(let center, let scale, let indicator):
                for (r, i) in rows.enumerated() {
                    let v = column.numbers[i]
                    if v.isNaN {
                        if indicator { x[r * d + offset + 1] = 1 }
                    } else {
                        x[r * d + offset] = (v - center) / scale
                    }
                }
            case .categorical(let categories):
                let index = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, $0) })
                let mapped = column.categories.map { index[$0] }
                for (r, i) in rows.enumerated() {
                    let code = column.codes[i]
                    if code >= 0, let k = mapped[Int(code)] { x[r * d + offset + k] = 1 }
                }
            }
            offset += encoding.width
        }
        return x
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
