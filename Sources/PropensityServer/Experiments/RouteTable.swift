import Foundation
import NIOConcurrencyHelpers

/// The routes the server answers ROUTE_SCORE for, from the experiments file beside the models. A reload replaces the
/// table whole (a request finishes with the route it started with); a file that fails its checks leaves the previous
/// table serving.
public final class RouteTable: Sendable {
    /// A loaded route with its metric handles.
    final class ServedRoute: Sendable {
        let route: Route
        let metrics: RouteMetrics
        init(_ route: Route) {
            self.route = route
            self.metrics = RouteMetrics(route)
        }
    }

    private struct State {
        var routes: [String: ServedRoute] = [:]
        var stamp: ModelRegistry.FileStamp?
        /// The file at `stamp` was refused: worth another look once the models change (it may name one that loads now).
        var refused = false
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// What a reload did, for the audit log.
    public enum Change: Equatable, Sendable {
        case unchanged
        /// The file was read and its routes now serve (their names).
        case loaded([String])
        /// The file is gone: no route serves.
        case removed
    }

    /// Reads `experiments.json` in `directory` when it changed since the last call, checks it against `registry`'s
    /// models and serves its routes.
    /// - Parameter modelsChanged: the models changed since the last call: a file refused before is read again (a
    ///   model it names may have loaded since).
    /// - Throws: `ExperimentsError` when the file cannot be read or fails a check; the previous routes keep serving,
    ///   and the file is read again once it (or, with `modelsChanged`, the set of models) changes.
    @discardableResult
    public func reload(
        directory: String, registry: ModelRegistry, modelsChanged: Bool = false
    ) throws(ExperimentsError) -> Change {
        let path = (directory.hasSuffix("/") ? directory : directory + "/") + ExperimentsFile.fileName
        let stamp = ModelDirectory.stamp(path)
        let (previous, refused) = state.withLockedValue { ($0.stamp, $0.refused) }
        if stamp == previous && !(refused && modelsChanged) { return .unchanged }
        guard stamp != nil else {
            state.withLockedValue { $0 = State() }
            return .removed
        }
        // Remembered before the checks, so a bad file is reported once, not at every poll.
        state.withLockedValue { $0.stamp = stamp; $0.refused = true }
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(file: path) }
        let routes = try ExperimentsFile.parse(data, file: path)
        try Self.check(routes, against: registry, file: path)
        install(routes)
        state.withLockedValue { $0.refused = false }
        return .loaded(routes.map(\.name).sorted())
    }

    /// Serves `routes` (checked by the caller), replacing every route.
    public func install(_ routes: [Route]) {
        let served = Dictionary(uniqueKeysWithValues: routes.map { ($0.name, ServedRoute($0)) })
        state.withLockedValue { $0.routes = served }
    }

    /// Every variant and shadow is a loaded model, and all of a route's share one schema.
    public static func check(_ routes: [Route], against registry: ModelRegistry, file: String) throws(ExperimentsError) {
        for route in routes {
            var fingerprint: UInt64?
            for model in route.variants.map(\.model) + route.shadows {
                guard let served = registry.model(named: model) else {
                    throw .unknownModel(file: file, route: route.name, model: model)
                }
                if let fingerprint, fingerprint != served.fingerprint {
                    throw .schemaDiffers(file: file, route: route.name, model: model)
                }
                fingerprint = served.fingerprint
            }
        }
    }

    /// Routes whose variants or shadows no loaded model answers to any more (after a model was removed): their
    /// requests to those variants fail with error 10 until the model returns or the file changes.
    public func unresolved(in registry: ModelRegistry) -> [String] {
        let routes = state.withLockedValue { Array($0.routes.values) }
        return routes.filter { served in
            (served.route.variants.map(\.model) + served.route.shadows).contains { registry.model(named: $0) == nil }
        }.map(\.route.name).sorted()
    }

    func route(named name: String) -> ServedRoute? {
        state.withLockedValue { $0.routes[name] }
    }

    public var names: [String] { state.withLockedValue { $0.routes.keys.sorted() } }

    /// The route of that name, as loaded.
    public func definition(of name: String) -> Route? { route(named: name)?.route }
}
