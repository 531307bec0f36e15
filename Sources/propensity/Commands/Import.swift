import ArgumentParser
import Foundation
import PropensityData
import PropensityDrift
import PropensityImport
import PropensityModel
import PropensityModelFile
import PropensityScoring
import PropensityTraining

extension ImportFormat: ExpressibleByArgument {}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert an XGBoost JSON or LightGBM text model into a Propensity model file.")

    @Option(help: "Source format: xgboost (Booster.save_model(\"m.json\")) or lightgbm (Booster.save_model(\"m.txt\")).")
    var from: ImportFormat
    @Argument(help: "The model file to import.") var file: String
    @Option(help: "Output model file.") var out: String
    @Option(help: "Calibrate the probabilities (platt or isotonic) on --calibration-data.") var calibrate: CalibrationMethod?
    @Option(help: "Labelled CSV rows the model was not trained on, for --calibrate.") var calibrationData: String?
    @Option(help: "Label column of --calibration-data.") var label: String?
    @Option(help: "The label value that means 'converted' (inferred for 1/true/yes).") var positive: String?
    @Option(help: "Field delimiter of --calibration-data and --reference-data: , ; tab | (detected when omitted).")
    var delimiter: String?
    @Option(help: "CSV rows like the model's training data: stored as the reference profile that `drift` and the server's drift gauges compare with.")
    var referenceData: String?

    @Flag(help: "No progress output (bars on a terminal, periodic lines otherwise).") var quiet = false

    func run() async throws {
        ProgressReporter.quiet = quiet
        try await reportingErrors {
            if calibrate != nil, calibrationData == nil {
                throw CLIError("--calibrate needs --calibration-data: labelled rows the model was not trained on")
            }
            if calibrate == nil, calibrationData != nil || label != nil || positive != nil {
                throw CLIError("--calibration-data, --label and --positive are only used with --calibrate")
            }
            var model = try from.load(from: file)
            model.metadata.properties.insert((ModelMetadata.Key.created, creationTime()), at: 0)
            model.metadata.properties.append((ModelMetadata.Key.propensityVersion, Propensity.version))
            var outcome: CalibrationOutcome?
            if let calibrate, let calibrationData { (model, outcome) = try calibrated(model, calibrate, on: calibrationData) }
            if let referenceData { model.drift = try referenceProfile(model, from: referenceData) }
            try saveModel(model, to: out)
            if case .treeEnsemble(let ensemble) = model.body {
                let categorical = model.schema.features.filter { $0.kind != .numeric }.count
                print("model: \(out) (\(model.metadata[property: ModelMetadata.Key.source] ?? from.rawValue), \(ensemble.trees.count) trees, "
                    + "\(model.schema.count) features, \(categorical) categorical)")
            }
            if let outcome { print(outcome.summary) }
            if let profile = model.drift { print("drift reference: \(profile.rows) rows of \(referenceData ?? "")") }
        }
    }

    /// The profile of `file`'s rows and the model's (calibrated) scores on them.
    private func referenceProfile(_ model: Model, from file: String) throws -> DriftProfile {
        let (_, features) = try readInputs(file: file, schema: model.schema, delimiter: try parseDelimiter(delimiter))
        guard let profile = DriftProfileBuilder.profile(
            rows: features, schema: model.schema, scores: Scorer(model: model).score(features))
        else { throw CLIError("--reference-data \(file) has no rows") }
        return profile
    }

    private func calibrated(_ model: Model, _ method: CalibrationMethod, on data: String) throws -> (Model, CalibrationOutcome) {
        let (labelColumn, features, labels, _) = try readLabelledInputs(
            file: data, model: model, modelName: file, label: label, positive: positive, delimiter: delimiter)
        do {
            let name = URL(fileURLWithPath: data).lastPathComponent  // a file name, never a path, in metadata
            let (calibrated, outcome) = try model.calibrated(method, features: features, labels: labels.values, source: .file(name))
            var result = calibrated
            if model.metadata[property: ModelMetadata.Key.label] == nil {
                result.metadata.properties.append((ModelMetadata.Key.label, labelColumn))
                result.metadata.properties.append((ModelMetadata.Key.positive, labels.positive))
            }
            return (result, outcome)
        } catch {
            throw CLIError("cannot calibrate on \(data): \(error)")
        }
    }
}
