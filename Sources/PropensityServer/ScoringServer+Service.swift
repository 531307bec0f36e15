import NIOCore
import ServiceLifecycle

/// Run under a `ServiceGroup`: serves until graceful shutdown (SIGTERM/SIGINT), then stops accepting, answers what
/// every connection already sent, closes the connections and returns.
extension ScoringServer: Service {
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            self.logger.notice("audit: shutting down: no new connections; answering what was received")
            self.channel.close(promise: nil)
        }
        let open = openConnections
        await drainConnections(timeout: shutdownTimeout)
        logger.notice("audit: connections drained", metadata: ["connections": "\(open)"])
    }
}
