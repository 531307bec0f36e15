import PropensityData
import PropensityModel

/// Reads a CSV file as input for a model's schema (columns by name, kinds forced to the model's).
func readInputs(file: String, schema: FeatureSchema, delimiter: UInt8?, label: String? = nil) throws
    -> (table: Table, features: [Float])
{
    let options = schema.csvOptions(delimiter: delimiter, extraColumns: label.map { [$0] } ?? [])
    let table = try timed("loaded \(file)") { try CSVReader.read(file: file, options: options) }
    return (table, try table.inputRows(schema.inputSpecs))
}
