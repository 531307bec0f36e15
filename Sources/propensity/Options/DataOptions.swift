import ArgumentParser
import PropensityData

/// How `train` reads its CSV file.
struct DataOptions: ParsableArguments {
    @Option(help: "Training data (CSV with a header row).") var data: String
    @Option(help: "Label column.") var label: String
    @Option(help: "The label value that means 'converted' (inferred for 1/true/yes).") var positive: String?
    @Option(help: "Columns to ignore, comma-separated (identifiers, leakage).") var drop: String?
    @Option(help: "Columns to treat as categorical, comma-separated.") var categorical: String?
    @Option(help: "Columns that must be numeric, comma-separated.") var numeric: String?
    @Option(help: "Field delimiter: , ; tab | (detected when omitted).") var delimiter: String?
    @Option(help: "Sample-weight column (numbers ≥ 0; rows of weight 0 are ignored; metrics are then weighted).")
    var weight: String?
    @Flag(help: "No progress output (bars on a terminal, periodic lines otherwise).") var quiet = false

    func csvOptions() throws -> CSVOptions {
        CSVOptions(
            delimiter: try parseDelimiter(delimiter), drop: parseList(drop),
            categorical: parseList(categorical) + [label], numeric: parseList(numeric) + (weight.map { [$0] } ?? []),
            required: [label] + (weight.map { [$0] } ?? []))
    }
}
