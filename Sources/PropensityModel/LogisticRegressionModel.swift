import Foundation

/// A fitted logistic-regression model with its preprocessing.
///
/// The linear predictor is `intercept + Σ terms`, where each input feature contributes:
/// - numeric: `weight · (x − center) / scale`, and when `x` is missing `x` is replaced by `imputedValue` and
///   `missingWeight` (if present) is added — the missing-indicator column;
/// - categorical: `categoryWeights[code]` for a known category, nothing for a missing or unseen one.
/// Weights are on the standardized scale the solver works in; `originalScaleCoefficients` converts them.
public struct LogisticRegressionModel: Sendable, Equatable {
    public var schema: FeatureSchema
    public var intercept: Double
    public var terms: [Term]

    public init(schema: FeatureSchema, intercept: Double, terms: [Term]) {
        self.schema = schema
        self.intercept = intercept
        self.terms = terms
    }

    public enum Term: Sendable, Equatable {
        case numeric(NumericTerm)
        case categorical(categoryWeights: [Double])
    }

    public struct NumericTerm: Sendable, Equatable {
        public var center: Double
        public var scale: Double
        public var imputedValue: Double
        public var weight: Double
        /// nil when the training data had no missing value in this column (so no indicator was fitted).
        public var missingWeight: Double?

        public init(center: Double, scale: Double, imputedValue: Double, weight: Double, missingWeight: Double?) {
            self.center = center
            self.scale = scale
            self.imputedValue = imputedValue
            self.weight = weight
            self.missingWeight = missingWeight
        }
    }

    /// Intercept and coefficients as they apply to the raw (unscaled) inputs, named by encoded feature:
    /// `col` for a numeric column, `col:missing` for its missing indicator, `col=value` for a category.
    /// A missing numeric value contributes `missingContribution` instead of `coefficient · x`.
    public func originalScaleCoefficients() -> (intercept: Double, coefficients: [(name: String, value: Double)]) {
        var intercept = self.intercept
        var coefficients: [(String, Double)] = []
        for (feature, term) in zip(schema.features, terms) {
            switch term {
            case .numeric(let t):
                let coefficient = t.weight / t.scale
                intercept -= coefficient * t.center
                coefficients.append((feature.name, coefficient))
                if let missing = t.missingWeight {
                    // The indicator's effect on the raw scale: its weight plus the imputed value's term, relative
                    // to the raw-scale linear term that no longer applies.
                    coefficients.append((feature.name + ":missing", missing + coefficient * t.imputedValue))
                }
            case .categorical(let weights):
                for (category, w) in zip(feature.kind.categories ?? [], weights) {
                    coefficients.append((feature.name + "=" + category, w))
                }
            }
        }
        return (intercept, coefficients)
    }

    /// The probability for one row of raw features (schema order, float32 or float64), in double precision.
    @inlinable
    public func probability<Row: Collection>(_ row: Row) -> Double where Row.Element: BinaryFloatingPoint {
        Sigmoid.of(margin(row))
    }

    /// The margin (log-odds) for one row of raw features (schema order, float32 or float64), in double precision.
    @inlinable
    public func margin<Row: Collection>(_ row: Row) -> Double where Row.Element: BinaryFloatingPoint {
        var z = intercept
        for (value, term) in zip(row, terms) {
            let x = Double(value)
            switch term {
            case .numeric(let t):
                if x.isNaN {
                    z += t.weight * (t.imputedValue - t.center) / t.scale + (t.missingWeight ?? 0)
                } else {
                    z += t.weight * (x - t.center) / t.scale
                }
            case .categorical(let weights):
                if let code = CategoryCode.index(x, count: weights.count) { z += weights[code] }
            }
        }
        return z
    }
}

/// How a float feature value selects a category.
public enum CategoryCode {
    /// The category index `x` names, or nil when it is missing (NaN) or not an index below `count`.
    /// Inlinable so the scorer's per-feature loop gets a specialized, branch-only version.
    @inlinable @inline(__always)
    public static func index(_ x: Float, count: Int) -> Int? {
        // A truncating conversion and a compare back instead of rounding: no libm call on baseline x86-64.
        guard x >= 0, x < Float(count) else { return nil }
        let i = Int(x)
        return Float(i) == x ? i : nil
    }

    @inlinable @inline(__always)
    public static func index(_ x: Double, count: Int) -> Int? {
        guard x >= 0, x < Double(count) else { return nil }
        let i = Int(x)
        return Double(i) == x ? i : nil
    }
}

public enum Sigmoid {
    /// 1 / (1 + e^−z), written so neither branch overflows.
    @inlinable @inline(__always)
    public static func of(_ z: Double) -> Double {
        z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z))
    }
}
