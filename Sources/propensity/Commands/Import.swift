import ArgumentParser
import Foundation
import PropensityImport
import PropensityModel
import PropensityModelFile

extension ImportFormat: ExpressibleByArgument {}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert an XGBoost JSON or LightGBM text model into a Propensity model file.")

    @Option(help: "Source format: xgboost (Booster.save_model(\"m.json\")) or lightgbm (Booster.save_model(\"m.txt\")).")
    var from: ImportFormat
    @Argument(help: "The model file to import.") var file: String
    @Option(help: "Output model file.") var out: String

    func run() async throws {
        try await reportingErrors {
            var model = try from.load(from: file)
            model.metadata.properties.insert((ModelMetadata.Key.created, creationTime()), at: 0)
            model.metadata.properties.append((ModelMetadata.Key.propensityVersion, Propensity.version))
            try ModelFile.save(model, to: out)
            guard case .treeEnsemble(let ensemble) = model.body else { return }
            let categorical = model.schema.features.filter { $0.kind != .numeric }.count
            print("model: \(out) (\(model.metadata[property: ModelMetadata.Key.source] ?? from.rawValue), \(ensemble.trees.count) trees, "
                + "\(model.schema.count) features, \(categorical) categorical)")
        }
    }
}
