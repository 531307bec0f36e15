import ArgumentParser
import PropensityData
import PropensityMetrics
import PropensityModel
import PropensityModelFile
import PropensityScoring

struct Evaluate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure a model on labelled data.")

    @Option(help: "Model file.") var model: String
    @Option(help: "Labelled CSV file.") var data: String
    @Option(help: "Label column (default: the one the model was trained with).") var label: String?
    @Option(help: "Positive label value (default: the model's).") var positive: String?
    @Option(help: "Field delimiter: , ; tab | (detected when omitted).") var delimiter: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        try await reportingErrors {
            let loaded = try ModelFile.load(from: model)
            guard let labelColumn = label ?? loaded.metadata[property: ModelMetadata.Key.label] else {
                throw CLIError("the model does not record its label column: pass --label")
            }
            let (table, features) = try readInputs(
                file: data, schema: loaded.schema, delimiter: try parseDelimiter(delimiter), label: labelColumn)
            let labels = try LabelReader.read(
                table, column: labelColumn, positive: positive ?? loaded.metadata[property: ModelMetadata.Key.positive])
            let scores = Scorer(model: loaded).score(features).map(Double.init)
            let metrics = BinaryMetrics(scores: scores, labels: labels.values)
            if json {
                var object = metrics.json
                object["model"] = model
                object["data"] = data
                try printJSON(object)
            } else {
                print(metrics.report(title: "\(data) scored by \(model)"))
            }
        }
    }
}
