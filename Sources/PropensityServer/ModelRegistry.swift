import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import PropensityDrift
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
    /// Nil when the model cannot explain (a tree ensemble without covers): EXPLAIN then answers error 15.
    public let explainer: Explainer?
    /// Counts this version's requests against its reference profile; nil without one (or with drift tracking off).
    public let drift: DriftMonitor?

    public init(name: String, version: String, model: Model, path: String, drift settings: DriftSettings = DriftSettings()) {
        self.name = name
        self.version = version
        self.model = model
        self.scorer = Scorer(model: model)
        self.fingerprint = ModelFile.fingerprint(of: model.schema)
        self.path = path
        self.explainer = try? Explainer(model: model)
        self.drift = settings.enabled ? model.drift.map {
            DriftMonitor(
                profile: $0, shards: settings.shards, window: settings.window, slots: settings.slots,
                sampleEvery: settings.sampleEvery)
        } : nil
    }

    /// When the model was made; "newest" means the latest of these (then the greatest version).
    public var created: String { model.metadata[property: ModelMetadata.Key.created] ?? "" }

    /// `name@version`, how clients address this version.
    public var key: String { name + "@" + version }
}

/// The models the server answers for. Files are `NAME.model` or `NAME@VERSION.model`; a model is addressed as
/// `NAME` (its newest version) or `NAME@VERSION`. Without a version in the file name, the version is the first 12
/// hex digits of the file's SHA-256 trailer, so a retrained file gets a new version.
///
/// What is served is derived from the files present after every change: each file that loads provides one
/// `name@version`; two files that provide the same one are one entry (the first path in byte order serves), so
/// removing either keeps the other serving. A file that fails to load keeps serving the version it provided before,
/// if any. Readers take the current entry under a lock and score with it; a reload replaces entries whole, so a
/// request finishes on the model it started with.
public final class ModelRegistry: Sendable {
    struct FileStamp: Equatable {
        var modified: timespec
        var size: Int

        static func == (a: FileStamp, b: FileStamp) -> Bool {
            a.size == b.size && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
        }
    }

    /// One file of the directory as last seen.
    private struct FileEntry {
        var stamp: FileStamp
        /// What the file provides: the model it last loaded successfully (kept when a later version fails).
        var served: ServedModel?
    }

    private struct State {
        var files: [String: FileEntry] = [:]
        /// Files whose names are not UTF-8, reported once while they stay.
        var unnamed: Set<String> = []
        /// Models registered directly with `add`, by "name@version".
        var added: [String: ServedModel] = [:]
        /// Every served version, by "name@version": derived from `files` and `added`.
        var models: [String: ServedModel] = [:]
        /// The newest version of each name, kept up to date so a lookup by name is one hash probe.
        var newest: [String: ServedModel] = [:]

        /// Recomputes what is served; returns the keys that appeared (or changed model) and those that went.
        mutating func derive() -> (loaded: [String], removed: [String]) {
            var next = added
            for path in files.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
                guard let served = files[path]?.served else { continue }
                if next[served.key] == nil { next[served.key] = served }
            }
            let loaded = next.filter { key, model in models[key] !== model }.keys.sorted()
            let removed = models.keys.filter { next[$0] == nil }.sorted()
            models = next
            newest = [:]
            for m in models.values {
                if let current = newest[m.name], (current.created, current.version) >= (m.created, m.version) { continue }
                newest[m.name] = m
            }
            return (loaded, removed)
        }
    }

    private let state = NIOLockedValueBox(State())
    private let changes = Atomic<UInt64>(0)
    /// Model files larger than this are refused without being read.
    public let maxFileBytes: Int
    /// How loaded models track drift.
    public let drift: DriftSettings

    /// Goes up whenever the set of models changes: connections keep the model they used last and look it up again
    /// only when this moved, so the request path takes no lock.
    public var generation: UInt64 { changes.load(ordering: .acquiring) }

    public init(maxFileBytes: Int = ModelFile.defaultMaxFileBytes, drift: DriftSettings = DriftSettings()) {
        self.maxFileBytes = maxFileBytes
        self.drift = drift
    }

    /// A file in the model directory that provides no model.
    public struct LoadFailure: Sendable, CustomStringConvertible {
        public var path: String
        public var reason: ModelLoadError
        /// The `name@version` the file provided before, which keeps serving; nil when it never provided one.
        public var keptServing: String?
        public var description: String { reason.description }
    }

    /// What a (re)load did, for the audit log.
    public struct ReloadReport: Sendable {
        public var loaded: [String] = []
        public var removed: [String] = []
        public var failures: [LoadFailure] = []
        public var isEmpty: Bool { loaded.isEmpty && removed.isEmpty && failures.isEmpty }
    }

    /// Brings the registry in line with `directory`: new and changed `*.model` files are loaded, unchanged files are
    /// not read again, and what is served is derived again from the files present (see the type's comment).
    /// - Throws: `ModelDirectoryError` when the directory cannot be listed; nothing changes then.
    @discardableResult
    public func loadDirectory(_ directory: String) throws(ModelDirectoryError) -> ReloadReport {
        let listing = try ModelDirectory.list(directory)
        var report = ReloadReport()
        var present = Set<String>()
        var unnamed = Set<String>()
        for file in listing {
            guard let name = file.name else {
                if state.withLockedValue({ $0.unnamed.insert(file.path).inserted }) {
                    report.failures.append(LoadFailure(path: file.path, reason: .fileNameNotUTF8, keptServing: nil))
                }
                unnamed.insert(file.path)
                continue
            }
            let path = file.path
            guard let stamp = ModelDirectory.stamp(path) else { continue }  // gone since the listing
            present.insert(path)
            let previous = state.withLockedValue { $0.files[path] }
            if previous?.stamp == stamp { continue }
            do {
                let identity = try ModelFileName(name)
                let served = try Self.load(path: path, identity: identity, maxBytes: maxFileBytes, drift: drift)
                state.withLockedValue { $0.files[path] = FileEntry(stamp: stamp, served: served) }
            } catch {
                // Retried when the file changes again; the version it provided, if any, keeps serving.
                state.withLockedValue { $0.files[path] = FileEntry(stamp: stamp, served: previous?.served) }
                report.failures.append(LoadFailure(path: path, reason: error, keptServing: previous?.served?.key))
            }
        }
        let (loaded, removed) = state.withLockedValue { s in
            for path in s.files.keys where !present.contains(path) { s.files[path] = nil }
            s.unnamed.formIntersection(unnamed)
            return s.derive()
        }
        report.loaded = loaded
        report.removed = removed
        if !loaded.isEmpty || !removed.isEmpty { changes.add(1, ordering: .releasing) }
        return report
    }

    /// Loads one file without registering it.
    static func load(
        path: String, identity: ModelFileName, maxBytes: Int, drift: DriftSettings
    ) throws(ModelLoadError) -> ServedModel {
        let bytes: [UInt8]
        let model: Model
        do {
            bytes = try ModelFile.read(path, maxBytes: maxBytes)
            model = try ModelFile.decode(bytes, source: path)
        } catch {
            throw .file(error.reason)
        }
        let version = identity.version
            ?? bytes.suffix(ModelFile.checksumSize).prefix(6).map { String(format: "%02x", $0) }.joined()
        return ServedModel(name: identity.name, version: version, model: model, path: path, drift: drift)
    }

    /// Registers a model directly (tests, embedding).
    public func add(_ model: Model, name: String, version: String = "1") {
        state.withLockedValue { s in
            let served = ServedModel(name: name, version: version, model: model, path: "", drift: drift)
            s.added[served.key] = served
            _ = s.derive()
        }
        changes.add(1, ordering: .releasing)
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
