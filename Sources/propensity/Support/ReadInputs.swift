import Foundation
import PropensityData
import PropensityInput
import PropensityModel

/// Reads a CSV file as input for a model's schema, reporting the time taken.
func readInputs(
    file: String, schema: FeatureSchema, delimiter: UInt8?, label: String? = nil, weight: String? = nil,
    extraColumns: [String] = []
) throws -> (table: Table, features: [Float]) {
    let reporter = readingProgress(file)
    defer { reporter.finish() }
    return try timed("loaded \(file)") {
        try ModelInput.read(
            file: file, schema: schema, delimiter: delimiter, extraColumns: (label.map { [$0] } ?? []) + extraColumns,
            extraNumeric: weight.map { [$0] } ?? [], progress: { reporter.update(Double($0.bytesRead), detail: "\($0.rows) rows") })
    }
}

/// Reads a CSV file with progress on stderr (a bar on a terminal for large files), reporting the time taken.
func readTable(_ file: String, options: CSVOptions) throws -> Table {
    var options = options
    let reporter = readingProgress(file)
    defer { reporter.finish() }
    options.progress = { reporter.update(Double($0.bytesRead), detail: "\($0.rows) rows") }
    return try timed("loaded \(file)") { try CSVReader.read(file: file, options: options) }
}

private func readingProgress(_ file: String) -> ProgressReporter {
    let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.doubleValue
    return ProgressReporter("reading \((file as NSString).lastPathComponent)", total: size, unit: .bytes, mode: .current())
}

/// Reads labelled rows for a model: its input columns and the label (`--label`, else the one the model records),
/// with the positive value given or the model's, and the sample weights when a weight column is named.
func readLabelledInputs(
    file: String, model: Model, modelName: String, label: String?, positive: String?, delimiter: String?,
    weight: String? = nil
) throws -> (labelColumn: String, features: [Float], labels: BinaryLabels, weights: [Double]?) {
    guard let labelColumn = label ?? model.metadata[property: ModelMetadata.Key.label] else {
        throw CLIError("\(modelName) does not record its label column: pass --label for \(file)")
    }
    let (table, features) = try readInputs(
        file: file, schema: model.schema, delimiter: try parseDelimiter(delimiter), label: labelColumn,
        weight: weight)
    let labels = try LabelReader.read(
        table, column: labelColumn, positive: positive ?? model.metadata[property: ModelMetadata.Key.positive])
    let weights = try weight.map { try WeightReader.read(table, column: $0) }
    return (labelColumn, features, labels, weights)
}
