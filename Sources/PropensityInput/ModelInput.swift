import PropensityData
import PropensityModel

/// A CSV file read as a model's input: columns found by name, their kinds forced to the model's, categories mapped
/// to the model's vocabulary.
public enum ModelInput {
    /// The table (for labels and other extra columns) and its rows as the scorer reads them: row-major, one float32
    /// per schema feature, NaN for missing.
    public static func read(
        file: String, schema: FeatureSchema, delimiter: UInt8? = nil, extraColumns: [String] = [],
        extraNumeric: [String] = [], progress: (@Sendable (CSVReadProgress) -> Void)? = nil
    ) throws(CSVError) -> (table: Table, features: [Float]) {
        var options = schema.csvOptions(delimiter: delimiter, extraColumns: extraColumns, extraNumeric: extraNumeric)
        options.progress = progress
        let table = try CSVReader.read(file: file, options: options)
        return (table, try table.inputRows(schema.inputSpecs))
    }
}
