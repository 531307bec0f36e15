import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import UnixSignals

/// Keeps a registry in step with its model directory: reloads on SIGHUP and, every `interval`, when a file was
/// added, replaced or removed (the registry's reload is a cheap stat of each file when nothing changed). Every
/// change is logged as an audit event; a file that fails to load is logged once (until it changes again) and the
/// version it provided, if any, keeps serving. Reloads run on the watcher's task, never on an event loop, so a slow
/// file does not hold up scoring.
public struct ModelDirectoryWatcher: Service {
    public let directory: String
    public let registry: ModelRegistry
    public let metrics: ServerMetrics
    /// Seconds between checks of the directory; nil checks only on SIGHUP.
    public let interval: Duration?
    public let logger: Logger
    /// Also run on every SIGHUP, before the reload (`serve` re-reads its token file there).
    public var onHangup: (@Sendable () -> Void)? = nil
    /// When set, the directory's `experiments.json` is reloaded with the models (after them, so that a new route
    /// may name a model added in the same change).
    public var routes: RouteTable? = nil
    /// The last directory error logged: a directory that stays unreadable is logged once, then again on change.
    private let lastDirectoryError = NIOLockedValueBox<ModelDirectoryError?>(nil)

    public init(
        directory: String, registry: ModelRegistry, metrics: ServerMetrics, interval: Duration?, logger: Logger
    ) {
        self.directory = directory
        self.registry = registry
        self.metrics = metrics
        self.interval = interval
        self.logger = logger
    }

    /// Reloads the directory now; `trigger` goes into the audit log ("start", "SIGHUP", "file change").
    @discardableResult
    public func reload(trigger: String) -> ModelRegistry.ReloadReport {
        let report: ModelRegistry.ReloadReport
        do {
            report = try registry.loadDirectory(directory)
        } catch {
            metrics.directoryError()
            let changed = lastDirectoryError.withLockedValue { last in
                defer { last = error }
                return last != error
            }
            if changed {
                logger.error("audit: cannot read the model directory; the loaded models keep serving", metadata: [
                    "reason": "\(error)", "trigger": "\(trigger)",
                ])
            }
            return ModelRegistry.ReloadReport()
        }
        if lastDirectoryError.withLockedValue({ last in defer { last = nil }; return last != nil }) {
            logger.notice("audit: the model directory is readable again", metadata: ["trigger": "\(trigger)"])
        }
        for key in report.loaded {
            logger.notice("audit: model loaded", metadata: ["model": "\(LogSafe.escape(key))", "trigger": "\(trigger)"])
        }
        for key in report.removed {
            logger.notice("audit: model removed", metadata: ["model": "\(LogSafe.escape(key))", "trigger": "\(trigger)"])
        }
        for failure in report.failures {
            metrics.loadFailure(failure.reason)
            var metadata: Logger.Metadata = [
                "file": "\(LogSafe.escape(failure.path))", "reason": "\(LogSafe.escape(failure.reason.description))",
                "trigger": "\(trigger)",
            ]
            if let kept = failure.keptServing {
                metadata["model"] = "\(LogSafe.escape(kept))"
                logger.error("audit: model file not loaded; the previous version keeps serving", metadata: metadata)
            } else {
                logger.error("audit: model file not loaded", metadata: metadata)
            }
        }
        metrics.setModelsLoaded(registry.all.count)
        if let routes { reloadRoutes(routes, trigger: trigger, modelsChanged: !report.loaded.isEmpty || !report.removed.isEmpty) }
        return report
    }

    private func reloadRoutes(_ routes: RouteTable, trigger: String, modelsChanged: Bool) {
        do {
            switch try routes.reload(directory: directory, registry: registry, modelsChanged: modelsChanged) {
            case .unchanged: break
            case .loaded(let names):
                logger.notice("audit: experiments loaded", metadata: [
                    "routes": "\(LogSafe.escape(names.joined(separator: ",")))", "trigger": "\(trigger)",
                ])
            case .removed:
                logger.notice("audit: experiments removed", metadata: ["trigger": "\(trigger)"])
            }
        } catch {
            logger.error("audit: experiments file not loaded; the previous routes keep serving", metadata: [
                "reason": "\(LogSafe.escape(error.description))", "trigger": "\(trigger)",
            ])
        }
        if modelsChanged {
            for name in routes.unresolved(in: registry) {
                logger.warning("a route names a model that is not loaded: its requests for that variant get error 10", metadata: [
                    "route": "\(LogSafe.escape(name))", "trigger": "\(trigger)",
                ])
            }
        }
    }

    public func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in hangups.cancelOnGracefulShutdown() {
                    onHangup?()
                    reload(trigger: "SIGHUP")
                }
            }
            if let interval {
                group.addTask {
                    // Sleeping throws once graceful shutdown cancels it, which ends the loop.
                    try? await cancelWhenGracefulShutdown {
                        while true {
                            try await Task.sleep(for: interval)
                            reload(trigger: "file change")
                        }
                    }
                }
            }
        }
    }
}
