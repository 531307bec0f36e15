import Foundation
import PropensityMetrics

/// The JSON of `evaluate --json`. One model keeps the flat shape earlier releases printed (its figures at the top
/// level, plus `data` and `dataset`); several models give `{data, dataset, models: [...], comparisons: [...]}`.
/// Non-finite numbers are written as null.
extension EvaluationReport: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(dataset.file, forKey: "data")
        try container.encode(dataset, forKey: "dataset")
        if models.count == 1 {
            try models[0].encodeFields(into: &container)
            return
        }
        try container.encode(models, forKey: "models")
        try container.encode(comparisons.map { ComparisonJSON(comparison: $0, models: models) }, forKey: "comparisons")
        try container.encodeIfPresent(comparisonNote, forKey: "comparison_note")
    }

    /// Pretty-printed with sorted keys, as the CLI prints JSON.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

extension ModelEvaluation: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try encodeFields(into: &container)
    }

    func encodeFields(into container: inout KeyedEncodingContainer<JSONKey>) throws {
        try container.encode(description.path, forKey: "model")
        try container.encode(description.kind, forKey: "kind")
        try container.encodeIfPresent(description.calibrator, forKey: "calibrator")
        try metrics.encodeFields(into: &container)
        try container.encodeIfPresent(uncalibrated.map(MetricsJSON.init), forKey: "uncalibrated")
        try container.encodeFinite(curves.averagePrecision, forKey: "average_precision")
        if let aucInterval {
            var interval = container.nestedContainer(keyedBy: JSONKey.self, forKey: "auc_interval")
            try interval.encodeFinite(aucInterval.variance, forKey: "variance")
            try interval.encodeFinite(aucInterval.lower, forKey: "lower")
            try interval.encodeFinite(aucInterval.upper, forKey: "upper")
            try interval.encode(0.95, forKey: "level")
        }
        try container.encode(CurvesJSON(curves: curves), forKey: "curves")
        if let importance = description.contributionImportance {
            try container.encode(importance.rows, forKey: "importance_rows")
            try container.encode(
                importance.columns.map { NamedValue(column: $0.name, key: "mean_abs_contribution", value: $0.value) },
                forKey: "importance")
        }
        if let gain = description.gainImportance {
            try container.encode(gain.map { GainJSON(column: $0.name, gain: $0.gain, splits: $0.splits) }, forKey: "gain_importance")
        }
        try container.encode(
            Dictionary(description.properties.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first }),
            forKey: "metadata")
        var recorded = container.nestedContainer(keyedBy: JSONKey.self, forKey: "recorded_metrics")
        for metric in description.recordedMetrics { try recorded.encodeFinite(metric.value, forKey: JSONKey(metric.key)) }
    }
}

extension BinaryMetrics {
    func encodeFields(into container: inout KeyedEncodingContainer<JSONKey>) throws {
        try container.encode(rows, forKey: "rows")
        try container.encode(positives, forKey: "positives")
        try container.encodeFinite(positiveRate, forKey: "positive_rate")
        try container.encode(weighted, forKey: "weighted")
        try container.encodeFinite(totalWeight, forKey: "total_weight")
        try container.encodeFinite(positiveWeight, forKey: "positive_weight")
        try container.encodeFinite(auc, forKey: "auc")
        try container.encodeFinite(logLoss, forKey: "logloss")
        try container.encodeFinite(brier, forKey: "brier")
        try container.encodeFinite(expectedCalibrationError, forKey: "ece")
        try container.encode(lift.map(LiftJSON.init), forKey: "lift")
        try container.encode(calibration.map(BinJSON.init), forKey: "calibration")
    }
}

private struct MetricsJSON: Encodable {
    let metrics: BinaryMetrics
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try metrics.encodeFields(into: &container)
    }
}

private struct LiftJSON: Encodable {
    let point: LiftPoint
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encodeFinite(point.fraction, forKey: "fraction")
        try container.encode(point.rows, forKey: "rows")
        try container.encodeFinite(point.lift, forKey: "lift")
        try container.encodeFinite(point.captureRate, forKey: "capture_rate")
    }
}

private struct BinJSON: Encodable {
    let bin: CalibrationBin
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(bin.rows, forKey: "rows")
        try container.encodeFinite(bin.weight, forKey: "weight")
        try container.encodeFinite(bin.meanPredicted, forKey: "mean_predicted")
        try container.encodeFinite(bin.observedRate, forKey: "observed_rate")
        try container.encodeFinite(bin.minScore, forKey: "min_score")
        try container.encodeFinite(bin.maxScore, forKey: "max_score")
    }
}

private struct CurvesJSON: Encodable {
    let curves: EvaluationCurves
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(curves.roc.map(PointJSON.init), forKey: "roc")
        try container.encode(curves.precisionRecall.map(PointJSON.init), forKey: "precision_recall")
        try container.encode(curves.gain.map(LiftJSON.init), forKey: "gain")
        var histogram = container.nestedContainer(keyedBy: JSONKey.self, forKey: "histogram")
        try histogram.encode(curves.histogram.edges, forKey: "edges")
        try histogram.encode(curves.histogram.positives, forKey: "positives")
        try histogram.encode(curves.histogram.negatives, forKey: "negatives")
    }
}

private struct PointJSON: Encodable {
    let point: CurvePoint
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encodeFinite(point.x, forKey: "x")
        try container.encodeFinite(point.y, forKey: "y")
        try container.encodeFinite(point.threshold ?? .nan, forKey: "threshold")
    }
}

private struct NamedValue: Encodable {
    let column: String
    let key: String
    let value: Double
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(column, forKey: "column")
        try container.encodeFinite(value, forKey: JSONKey(key))
    }
}

private struct GainJSON: Encodable {
    let column: String
    let gain: Double
    let splits: Int
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(column, forKey: "column")
        try container.encodeFinite(gain, forKey: "gain")
        try container.encode(splits, forKey: "splits")
    }
}

private struct ComparisonJSON: Encodable {
    let comparison: ModelComparison
    let models: [ModelEvaluation]
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(models[comparison.champion].description.path, forKey: "champion")
        try container.encode(models[comparison.challenger].description.path, forKey: "challenger")
        try container.encode(comparison.champion, forKey: "champion_index")
        try container.encode(comparison.challenger, forKey: "challenger_index")
        var differences = container.nestedContainer(keyedBy: JSONKey.self, forKey: "differences")
        for difference in comparison.differences { try differences.encodeFinite(difference.value, forKey: JSONKey(difference.key)) }
        guard let test = comparison.test else { return }
        var delong = container.nestedContainer(keyedBy: JSONKey.self, forKey: "delong")
        try delong.encodeFinite(test.a.auc, forKey: "auc_champion")
        try delong.encodeFinite(test.b.auc, forKey: "auc_challenger")
        try delong.encodeFinite(test.a.variance, forKey: "variance_champion")
        try delong.encodeFinite(test.b.variance, forKey: "variance_challenger")
        try delong.encodeFinite(test.covariance, forKey: "covariance")
        try delong.encodeFinite(test.difference, forKey: "difference")
        try delong.encodeFinite(test.standardError, forKey: "standard_error")
        try delong.encodeFinite(test.z, forKey: "z")
        try delong.encodeFinite(test.pValue, forKey: "p_value")
        try delong.encodeFinite(test.lower, forKey: "ci_lower")
        try delong.encodeFinite(test.upper, forKey: "ci_upper")
        try delong.encode(test.level, forKey: "level")
    }
}

extension DatasetSummary: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(file, forKey: "file")
        try container.encode(label, forKey: "label")
        try container.encode(positiveValue, forKey: "positive")
        try container.encodeIfPresent(weightColumn, forKey: "weight_column")
        try container.encode(rows, forKey: "rows")
        try container.encode(positives, forKey: "positives")
        try container.encode(columns, forKey: "columns")
    }
}

extension ColumnSummary: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(name, forKey: "name")
        try container.encode(kind, forKey: "kind")
        try container.encode(missing, forKey: "missing")
        try container.encodeFinite(missingRate, forKey: "missing_rate")
    }
}

/// A JSON object key spelled at the point of use.
struct JSONKey: CodingKey, ExpressibleByStringLiteral {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init(stringLiteral value: String) { stringValue = value }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension KeyedEncodingContainer where Key == JSONKey {
    /// JSON has no NaN or infinity: they are written as null.
    mutating func encodeFinite(_ value: Double, forKey key: JSONKey) throws {
        if value.isFinite { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }
}
