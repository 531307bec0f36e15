import PropensityData
import PropensityModel

extension FeatureSchema {
    /// How to read this schema's inputs from a table.
    public var inputSpecs: [Table.InputSpec] {
        features.map { Table.InputSpec(name: $0.name, categories: $0.kind.categories) }
    }

    /// CSV options that read a file for this schema: categorical and numeric columns forced to the model's kinds.
    /// `extraColumns` (a label) are read as text, `extraNumeric` (a weight) as numbers.
    public func csvOptions(delimiter: UInt8? = nil, extraColumns: [String] = [], extraNumeric: [String] = []) -> CSVOptions {
        CSVOptions(
            delimiter: delimiter,
            categorical: features.filter { $0.kind != .numeric }.map(\.name) + extraColumns,
            numeric: features.filter { $0.kind == .numeric }.map(\.name) + extraNumeric,
            required: names + extraColumns + extraNumeric,
            only: names + extraColumns + extraNumeric)
    }
}
