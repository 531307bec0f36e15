import ArgumentParser
import Dispatch
import Foundation
import Logging
import PropensityServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve every model in a directory over the binary protocol.")

    @Option(help: "Directory of .model files (model name = file name without extension).") var models: String
    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "TCP port (0 picks a free one).") var port: Int = 7878
    @Option(help: "Largest accepted frame, bytes.") var maxFrameBytes: Int = 16 << 20
    @Option(help: "Most rows per score request.") var maxRows: Int = 1 << 20

    func run() async throws {
        try await reportingErrors {
            var logger = Logger(label: "propensity.serve")
            logger.logLevel = .info
            let registry = ModelRegistry()
            let failures = try registry.loadDirectory(models)
            for failure in failures { logger.error("model not loaded", metadata: ["reason": "\(failure.reason)"]) }
            guard !registry.all.isEmpty else { throw CLIError("no model could be loaded from \(models)") }
            for m in registry.all {
                logger.info("model loaded", metadata: [
                    "model": "\(m.name)", "kind": "\(m.model.kind.name)", "features": "\(m.model.schema.count)",
                    "fingerprint": "\(String(m.fingerprint, radix: 16))",
                ])
            }
            var limits = ServerLimits()
            limits.maxFrameBytes = maxFrameBytes
            limits.maxRowsPerRequest = maxRows
            let server = try await ScoringServer.start(
                host: host, port: port, registry: registry, limits: limits, logger: logger)
            logger.info("listening", metadata: ["host": "\(host)", "port": "\(server.port)"])

            // SIGINT / SIGTERM close the listener; the command returns once it is closed.
            signal(SIGINT, SIG_IGN)
            signal(SIGTERM, SIG_IGN)
            let sources = [SIGINT, SIGTERM].map { DispatchSource.makeSignalSource(signal: $0, queue: .main) }
            for source in sources {
                source.setEventHandler {
                    logger.info("shutting down")
                    server.channel.close(promise: nil)
                }
                source.resume()
            }
            try await server.channel.closeFuture.get()
            sources.forEach { $0.cancel() }
        }
    }
}
