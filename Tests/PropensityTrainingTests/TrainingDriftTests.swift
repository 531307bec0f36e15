import PropensityData
import PropensityDrift
import PropensityInput
import PropensityModel
import Testing

@testable import PropensityTraining

/// The drift reference a training run stores: a boosting run reads its inputs' half before the trees are grown (so
/// the raw columns can be released), and it must be the profile of the training rows as the scorer reads them.
@Suite struct TrainingDriftTests {
    /// `rows` rows of a numeric column with missing values, a categorical one (one category rarer than the bin limit
    /// keeps) and a 0/1 label that depends on both (seeded).
    static func table(rows: Int = 600) throws -> (Table, BinaryLabels) {
        var rng = SplitMix64(seed: 11)
        var csv = "x,colour,y\n"
        let colours = ["red", "green", "blue", "teal"]
        for i in 0..<rows {
            let x = Double(rng.next() % 1000) / 10 - 50
            let colour = colours[i % 17 == 0 ? 3 : Int(rng.next() % 3)]
            let label = (x > 0) != (colour == "red") ? 1 : (rng.next() % 4 == 0 ? 1 : 0)
            csv += "\(i % 9 == 0 ? "" : String(x)),\(colour),\(label)\n"
        }
        let table = try CSVReader.parse(csv, source: "drift.csv", options: CSVOptions(categorical: ["y"]))
        return (table, try LabelReader.read(table, column: "y", positive: "1"))
    }

    @Test func aBoostedModelsInputProfileIsThatOfItsTrainingRows() throws {
        let (table, labels) = try Self.table()
        var options = GBDTOptions()
        options.trees = 8
        options.threads = 1
        options.logEvery = 0
        options.maxBin = 3  // "teal" gets no bin: the profile must use the model's category indices
        var settings = TrainingSettings(label: "y", algorithm: .gbdt(options))
        settings.validationFraction = 0.25
        let result = try TrainingRun.run(table: table, labels: labels, settings: settings)
        let schema = result.model.schema
        let rows = try table.inputRows(schema.inputSpecs)
        let expected = try #require(DriftProfileBuilder.profile(
            rows: rows, schema: schema, scores: [Float](repeating: 0.5, count: table.rowCount)))
        let drift = try #require(result.model.drift)
        #expect(drift.rows == table.rowCount)
        #expect(drift.columns == expected.columns)
        #expect(drift.columns.count == 2)
    }

    @Test func aLogisticModelsInputProfileIsThatOfItsTrainingRows() throws {
        let (table, labels) = try Self.table()
        var options = LogisticRegressionOptions()
        options.threads = 1
        let result = try TrainingRun.run(table: table, labels: labels, settings: TrainingSettings(label: "y", algorithm: .logistic(options)))
        let schema = result.model.schema
        let expected = try #require(DriftProfileBuilder.profile(
            rows: try table.inputRows(schema.inputSpecs), schema: schema,
            scores: [Float](repeating: 0.5, count: table.rowCount)))
        #expect(result.model.drift?.columns == expected.columns)
    }
}
