import Foundation
import NIOConcurrencyHelpers
import PropensityModel
import PropensityModelFile
import PropensityScoring
import Synchronization

/// A model ready to serve: its compiled scorer and the identity clients check. A class, so that handing one to a
/// request is a single reference count, whatever the model holds.
public final class ServedModel: Sendable {
    public let name: String
    public let version: String
    public let model: Model
    public let scorer: Scorer
    public let fingerprint: UInt64
    public let path: String

    public init(name: String, version: String, model: Model, path: String) {
        self.name = name
        self.version = version
        self.model = model
        self.scorer = Scorer(model: model)
        self.fingerprint = ModelFile.fingerprint(of: model.schema)
        self.path = path
    }

    /// When the model was made; "newest" means the latest of these (then the greatest version).
    public var created: String { model.metadata[property: ModelMetadata.Key.created] ?? "" }
}

/// The models the server answers for. Files are `NAME.model` or `NAME@VERSION.model`; a model is addressed as
/// `NAME` (its newest version) or `NAME@VERSION`. Without a version in the file name, the version is the first 12
/// hex digits of the file's SHA-256 trailer, so a retrained file gets a new version.
///
/// Readers take the current entry under a lock and score with it; a reload replaces entries whole, so a request
/// finishes on the model it started with, and a file that fails to load leaves the previous version serving.
public final class ModelRegistry: Sendable {
    private struct FileStamp: Equatable {
        var modified: Date
        var size: Int
    }

    private struct State {
        /// Every loaded version, by "name@version".
        var models: [String: ServedModel] = [:]
        /// What each path looked like when it was last (attempted to be) loaded.
        var stamps: [String: FileStamp] = [:]
        /// Which "name@version" a path provides.
        var keyOfPath: [String: String] = [:]
        /// The newest version of each name, kept up to date so a lookup by name is one hash probe.
        var newest: [String: ServedModel] = [:]

        mutating func refreshNewest() {
            newest = [:]
            for m in models.values {
                if let current = newest[m.name], (current.created, current.version) >= (m.created, m.version) { continue }
                newest[m.name] = m
            }
        }
    }

    private let state = NIOLockedValueBox(State())
    private let changes = Atomic<UInt64>(0)

    /// Goes up whenever the set of models changes: connections keep the model they used last and look it up again
    /// only when this moved, so the request path takes no lock.
    public var generation: UInt64 { changes.load(ordering: .acquiring) }

    public init() {}

    public struct LoadFailure: Sendable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { reason }
    }

    /// What a (re)load did, for the audit log.
    public struct ReloadReport: Sendable {
        public var loaded: [String] = []
        public var removed: [String] = []
        public var failures: [LoadFailure] = []
        public var isEmpty: Bool { loaded.isEmpty && removed.isEmpty && failures.isEmpty }
    }

    /// Brings the registry in line with `directory`: new and changed `*.model` files are loaded, models whose file
    /// disappeared are removed, unchanged files are not read again. A file that fails to load is reported and the
    /// version it would have replaced keeps serving.
    @discardableResult
    public func loadDirectory(_ directory: String) throws -> ReloadReport {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        var present = Set<String>()
        var report = ReloadReport()
        for file in names where file.hasSuffix("." + ModelFile.fileExtension) {
            let path = (directory as NSString).appendingPathComponent(file)
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  let modified = attributes[.modificationDate] as? Date, let size = attributes[.size] as? Int
            else { continue }
            present.insert(path)
            let stamp = FileStamp(modified: modified, size: size)
            if state.withLockedValue({ $0.stamps[path] }) == stamp { continue }
            do {
                let served = try Self.load(path: path)
                let key = served.name + "@" + served.version
                state.withLockedValue { s in
                    if let old = s.keyOfPath[path], old != key { s.models[old] = nil }
                    s.models[key] = served
                    s.keyOfPath[path] = key
                    s.stamps[path] = stamp
                    s.refreshNewest()
                    changes.add(1, ordering: .releasing)
                }
                report.loaded.append(key)
            } catch {
                state.withLockedValue { $0.stamps[path] = stamp }  // retried when the file changes again
                report.failures.append(LoadFailure(path: path, reason: "\(error)"))
            }
        }
        state.withLockedValue { s in
            for (path, key) in s.keyOfPath where !present.contains(path) {
                s.models[key] = nil
                s.keyOfPath[path] = nil
                report.removed.append(key)
            }
            for path in s.stamps.keys where !present.contains(path) { s.stamps[path] = nil }
            if !report.removed.isEmpty {
                s.refreshNewest()
                changes.add(1, ordering: .releasing)
            }
        }
        return report
    }

    /// Loads one file without registering it.
    static func load(path: String) throws(ModelFileError) -> ServedModel {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelFileError(file: path, reason: .unreadable)
        }
        let bytes = [UInt8](data)
        let model = try ModelFile.decode(bytes, source: path)
        let base = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let parts = base.split(separator: "@", maxSplits: 1).map(String.init)
        let version = parts.count == 2 && !parts[1].isEmpty
            ? parts[1] : bytes.suffix(ModelFile.checksumSize).prefix(6).map { String(format: "%02x", $0) }.joined()
        return ServedModel(name: parts[0], version: version, model: model, path: path)
    }

    /// Registers a model directly (tests, embedding).
    public func add(_ model: Model, name: String, version: String = "1") {
        state.withLockedValue { s in
            s.models[name + "@" + version] = ServedModel(name: name, version: version, model: model, path: "")
            s.refreshNewest()
            changes.add(1, ordering: .releasing)
        }
    }

    /// `name` (newest version) or `name@version`.
    public func model(named address: String) -> ServedModel? {
        state.withLockedValue { s in s.newest[address] ?? s.models[address] }
    }

    /// Every loaded version, by name then version.
    public var all: [ServedModel] {
        state.withLockedValue { Array($0.models.values) }.sorted { ($0.name, $0.version) < ($1.name, $1.version) }
    }
}
