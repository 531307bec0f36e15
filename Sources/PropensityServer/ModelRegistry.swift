import Foundation
import NIOConcurrencyHelpers
import PropensityModel
import PropensityModelFile
import PropensityScoring

/// A model ready to serve: its compiled scorer and the identity clients check.
public struct ServedModel: Sendable {
    public var name: String
    public var model: Model
    public var scorer: Scorer
    public var fingerprint: UInt64
    public var path: String

    public init(name: String, model: Model, path: String) {
        self.name = name
        self.model = model
        self.scorer = Scorer(model: model)
        self.fingerprint = ModelFile.fingerprint(of: model.schema)
        self.path = path
    }

    /// What identifies this file's contents to a client: when it was trained.
    public var version: String { model.metadata[property: "created"] ?? "unknown" }
}

/// The models the server answers for, by name. Readers take a snapshot under a lock; a load replaces entries whole,
/// so a request sees either the old model or the new one, never a mix.
public final class ModelRegistry: Sendable {
    private let models = NIOLockedValueBox<[String: ServedModel]>([:])

    public init() {}

    public struct LoadFailure: Sendable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { reason }
    }

    /// Loads every `*.model` file in `directory` (model name = file name without extension). A file that fails to
    /// load is reported and skipped; if a model of that name was already loaded, it stays.
    @discardableResult
    public func loadDirectory(_ directory: String) throws -> [LoadFailure] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        var failures: [LoadFailure] = []
        for file in names where file.hasSuffix("." + ModelFile.fileExtension) {
            let path = (directory as NSString).appendingPathComponent(file)
            do {
                try load(path: path)
            } catch {
                failures.append(LoadFailure(path: path, reason: "\(error)"))
            }
        }
        return failures
    }

    /// Loads one file; on failure the previous model of that name (if any) keeps serving.
    public func load(path: String, name: String? = nil) throws(ModelFileError) {
        let model = try ModelFile.load(from: path)
        let name = name ?? ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let served = ServedModel(name: name, model: model, path: path)
        models.withLockedValue { $0[name] = served }
    }

    public func add(_ model: Model, name: String) {
        models.withLockedValue { $0[name] = ServedModel(name: name, model: model, path: "") }
    }

    public func model(named name: String) -> ServedModel? {
        models.withLockedValue { $0[name] }
    }

    public var all: [ServedModel] {
        models.withLockedValue { Array($0.values) }.sorted { $0.name < $1.name }
    }
}
