import PropensityData
import PropensityInput
import PropensityModel

/// Bank Marketing's inputs (the label and `duration`, known only after the call, dropped) as the scorer reads them,
/// with the schema of the table's own columns: rows whose index mod 5 is not 0 as a reference, the others as
/// current data (the drift tests' split).
public enum BankMarketing {
    public static let inputs: (schema: FeatureSchema, reference: [Float], current: [Float]) = {
        let table = try! CSVReader.read(
            file: SharedDatasets.path + "/bank_marketing/bank-additional-full.csv",
            options: CSVOptions(delimiter: UInt8(ascii: ";"), drop: ["duration", "y"]))
        let schema = FeatureSchema(features: table.columns.map {
            $0.kind == .numeric ? .numeric($0.name) : .categorical($0.name, $0.categories)
        })
        let rows = try! table.inputRows(schema.inputSpecs)
        let width = schema.count
        var reference: [Float] = [], current: [Float] = []
        for i in 0..<table.rowCount {
            let row = rows[(i * width)..<((i + 1) * width)]
            if i % 5 == 0 { current += row } else { reference += row }
        }
        return (schema, reference, current)
    }()
}
