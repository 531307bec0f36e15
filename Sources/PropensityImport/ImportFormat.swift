import Foundation
import PropensityModel

/// The model formats `import` reads.
public enum ImportFormat: String, Sendable, CaseIterable {
    /// XGBoost's JSON model (`Booster.save_model("model.json")`).
    case xgboost
    /// LightGBM's text model (`Booster.save_model("model.txt")`).
    case lightgbm

    /// Reads and converts the model at `path`.
    public func load(from path: String) throws(ImportError) -> Model {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImportError(file: path, reason: FileManager.default.fileExists(atPath: path) ? .unreadable : .notFound)
        }
        switch self {
        case .xgboost: return try XGBoostJSONImporter.decode(data, source: path)
        case .lightgbm: return try LightGBMTextImporter.decode(String(decoding: data, as: UTF8.self), source: path)
        }
    }
}
