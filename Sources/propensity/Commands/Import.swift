import ArgumentParser
import Foundation
import PropensityImport
import PropensityModel
import PropensityModelFile

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert an XGBoost JSON or LightGBM text model into a Propensity model file.")

    @Option(help: "Source format: xgboost (Booster.save_model(\"m.json\")) or lightgbm (Booster.save_model(\"m.txt\")).")
    var from: String
    @Argument(help: "The model file to import.") var file: String
    @Option(help: "Output model file.") var out: String

    func run() async throws {
        try await reportingErrors {
            var model: Model
            switch from {
            case "xgboost": model = try XGBoostJSONImporter.load(from: file)
            case "lightgbm": model = try LightGBMTextImporter.load(from: file)
            default: throw CLIError("--from must be xgboost or lightgbm")
            }
            model.metadata.properties.insert(("created", ISO8601DateFormatter().string(from: Date())), at: 0)
            model.metadata.properties.append(("propensity_version", Propensity.version))
            try ModelFile.save(model, to: out)
            guard case .treeEnsemble(let ensemble) = model.body else { return }
            let categorical = model.schema.features.filter { $0.kind != .numeric }.count
            print("model: \(out) (\(model.metadata[property: "source"] ?? from), \(ensemble.trees.count) trees, "
                + "\(model.schema.count) features, \(categorical) categorical)")
        }
    }
}
