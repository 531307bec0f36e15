import Logging
import ServiceLifecycle
import UnixSignals

/// Keeps a registry in step with its model directory: reloads on SIGHUP and, every `interval`, when a file was
/// added, replaced or removed (the registry's reload is a cheap stat of each file when nothing changed). Every
/// change is logged as an audit event; a file that fails to load is logged and the previous version keeps serving.
public struct ModelDirectoryWatcher: Service {
    public let directory: String
    public let registry: ModelRegistry
    public let metrics: ServerMetrics
    /// Seconds between checks of the directory; nil checks only on SIGHUP.
    public let interval: Duration?
    public let logger: Logger

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
            logger.error("cannot read the model directory", metadata: ["reason": "\(error)", "trigger": "\(trigger)"])
            return ModelRegistry.ReloadReport()
        }
        for key in report.loaded { logger.notice("audit: model loaded", metadata: ["model": "\(key)", "trigger": "\(trigger)"]) }
        for key in report.removed { logger.notice("audit: model removed", metadata: ["model": "\(key)", "trigger": "\(trigger)"]) }
        for failure in report.failures {
            logger.error("audit: model not loaded; the previous version keeps serving",
                         metadata: ["reason": "\(failure.reason)", "trigger": "\(trigger)"])
        }
        metrics.setModelsLoaded(registry.all.count)
        return report
    }

    public func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in hangups.cancelOnGracefulShutdown() { reload(trigger: "SIGHUP") }
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
