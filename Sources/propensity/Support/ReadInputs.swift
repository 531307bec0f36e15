import PropensityData
import PropensityInput
import PropensityModel

/// Reads a CSV file as input for a model's schema, reporting the time taken.
func readInputs(file: String, schema: FeatureSchema, delimiter: UInt8?, label: String? = nil) throws
    -> (table: Table, features: [Float])
{
    try timed("loaded \(file)") {
        try ModelInput.read(file: file, schema: schema, delimiter: delimiter, extraColumns: label.map { [$0] } ?? [])
    }
}
