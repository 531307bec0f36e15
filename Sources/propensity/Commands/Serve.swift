import ArgumentParser
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import PropensityModelFile
import PropensityPrivacy
import PropensityServer
import ServiceLifecycle

#if GRPC
import PropensityGRPC
#endif

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve every model in a directory over the binary protocol.")

    @Option(help: "Directory of .model files (model name = file name without extension).") var models: String
    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "TCP port (0 picks a free one).") var port: Int = 7878
    @Option(help: "Largest accepted frame, bytes.") var maxFrameBytes: Int = 16 << 20
    @Option(help: "Most rows per score request.") var maxRows: Int = 1 << 20
    @Option(help: "Most simultaneous connections.") var maxConnections: Int = 4096
    @Option(help: "Close a connection silent for this many seconds.") var idleTimeout: Int = 300
    @Option(help: "Close a connection that leaves a frame unfinished for this many seconds.") var frameTimeout: Int = 10
    @Option(help: "TLS certificate chain (PEM); with --tls-key, every connection is TLS.") var tlsCert: String?
    @Option(help: "TLS private key (PEM).") var tlsKey: String?
    @Option(help: "File holding a shared secret that clients must send (AUTH) before any request.") var tokenFile: String?
    @Option(help: "Port for Prometheus metrics, /healthz and /readyz over HTTP (none when omitted).")
    var metricsPort: Int?
    @Option(help: "Port for the Open Inference Protocol (KServe v2) over HTTP/REST (none when omitted).")
    var httpPort: Int?
    @Option(help: "Port for the Open Inference Protocol (KServe v2) over gRPC (none when omitted).")
    var grpcPort: Int?
    @Option(help: "Seconds between checks of the model directory for new, replaced or removed files (0: only on SIGHUP).")
    var watchInterval: Double = 1
    @Option(help: "Refuse model files larger than this many bytes (checked before reading them).")
    var maxModelBytes: Int = ModelFile.defaultMaxFileBytes
    @Option(help: "Event-loop threads that read, score and answer (default: one per core).")
    var threads: Int = System.coreCount
    @Option(help: "Minutes of requests the drift gauges cover (models with a reference profile).")
    var driftWindow: Double = 60
    @Option(help: "Count every N-th scored row into the drift gauges (1: all).") var driftSampleEvery: Int = 1
    @Option(help: "Fewest rows in the window for the drift gauges to show a PSI (NaN below).") var driftMinRows: Int = 1000
    @Option(help: "Seconds between updates of the drift gauges.") var driftInterval: Double = 10
    @Flag(help: "Do not track drift.") var noDrift = false
    @Option(help: "Directory for the sampled feed of ROUTE_SCORE requests (pseudonymised key, model, features, score, time).")
    var sampleLog: String?
    @Option(help: "Share of ROUTE_SCORE requests written to --sample-log, in (0, 1].") var sampleRate: Double = 0.01
    @Option(help: "Delete --sample-log files older than this many days.") var retentionDays: Int?
    @Option(help: "Key file (chmod 600, ≥ 32 bytes) of the HMAC-SHA256 pseudonyms --sample-log writes; re-read on SIGHUP.")
    var pseudonymiseKeyFile: String?

    func run() async throws {
        try await reportingErrors {
            let logger = {
                var logger = Logger(label: "propensity.serve")
                logger.logLevel = .info
                return logger
            }()
            guard threads > 0 else { throw CLIError("--threads must be positive") }
            guard maxConnections > 0, idleTimeout > 0, frameTimeout > 0, maxFrameBytes >= 64, maxRows > 0,
                  maxModelBytes > 0
            else {
                throw CLIError("limits must be positive (and --max-frame-bytes at least 64)")
            }
            let metricsLimits = MetricsHTTPServer.Limits()
            let budget = DescriptorBudget.fit(
                requested: maxConnections, metricsConnections: metricsPort == nil ? 0 : metricsLimits.maxConnections)
            if budget.lowered {
                logger.warning("the descriptor limit allows fewer connections than --max-connections; using fewer", metadata: [
                    "max_connections": "\(budget.maxConnections)", "requested": "\(maxConnections)",
                    "nofile": "\(budget.softLimit)",
                ])
            }
            // Metrics go to Prometheus; latency buckets from 1 µs (a logistic row) to 1 s.
            let prometheus = PrometheusCollectorRegistry()
            if metricsPort != nil {
                var factory = PrometheusMetricsFactory(registry: prometheus)
                factory.defaultDurationHistogramBuckets = [
                    .microseconds(1), .microseconds(2.5), .microseconds(5), .microseconds(10), .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250),
                    .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10),
                    .milliseconds(50), .milliseconds(100), .seconds(1),
                ]
                MetricsSystem.bootstrap(factory)
            }
            var options = ServerOptions()
            options.limits.maxFrameBytes = maxFrameBytes
            options.limits.maxRowsPerRequest = maxRows
            options.limits.maxConnections = budget.maxConnections
            options.limits.idleTimeout = .seconds(Int64(idleTimeout))
            options.limits.frameTimeout = .seconds(Int64(frameTimeout))
            switch (tlsCert, tlsKey) {
            case (nil, nil): break
            case (let cert?, let key?):
                do {
                    options.tls = try ScoringServer.tlsContext(certificate: cert, key: key)
                } catch {
                    throw CLIError("cannot use --tls-cert \(cert) / --tls-key \(key): \(error)")
                }
            default: throw CLIError("--tls-cert and --tls-key go together")
            }
            if let tokenFile {
                options.token = try readServerToken(file: tokenFile)
            }
            guard driftWindow.isFinite, driftWindow > 0, driftInterval.isFinite, driftInterval > 0, driftSampleEvery > 0,
                  driftMinRows >= 0
            else {
                throw CLIError("--drift-window, --drift-interval and --drift-sample-every must be positive, --drift-min-rows at least 0")
            }
            var drift = DriftSettings()
            drift.shards = threads
            drift.window = .milliseconds(Int64(driftWindow * 60_000))
            drift.sampleEvery = driftSampleEvery
            drift.minimumRows = driftMinRows
            drift.interval = .milliseconds(Int64(driftInterval * 1000))
            drift.enabled = !noDrift
            if sampleLog == nil, retentionDays != nil || pseudonymiseKeyFile != nil {
                throw CLIError("--retention-days and --pseudonymise-key-file go with --sample-log")
            }
            if let sampleLog {
                guard let keyFile = pseudonymiseKeyFile else {
                    throw CLIError("--sample-log needs --pseudonymise-key-file: the feed never holds a raw visitor key")
                }
                guard sampleRate > 0, sampleRate <= 1 else { throw CLIError("--sample-rate must be in (0, 1], not \(sampleRate)") }
                guard (retentionDays ?? 1) >= 1 else { throw CLIError("--retention-days must be at least 1") }
                let settings = SampleLogSettings(
                    directory: sampleLog, every: max(1, Int((1 / sampleRate).rounded())), retentionDays: retentionDays,
                    pseudonymiser: try Pseudonymiser(keyFile: keyFile))
                options.sampleLog = try SampleLog(settings: settings, logger: logger)
                logger.notice("audit: sample log", metadata: [
                    "directory": "\(sampleLog)", "every": "\(settings.every)", "key": "\(settings.pseudonymiser.keyFingerprint)",
                    "retention_days": "\(retentionDays.map(String.init) ?? "none")",
                ])
            }
            let registry = ModelRegistry(maxFileBytes: maxModelBytes, drift: drift)
            var watcher = ModelDirectoryWatcher(
                directory: models, registry: registry, metrics: options.metrics,
                interval: watchInterval > 0 ? .seconds(watchInterval) : nil, logger: logger)
            watcher.routes = options.routes
            watcher.reload(trigger: "start")
            guard !registry.all.isEmpty else { throw CLIError("no model could be loaded from \(models)") }
            for m in registry.all {
                logger.info("model ready", metadata: [
                    "model": "\(m.name)@\(m.version)", "kind": "\(m.model.kind.name)",
                    "features": "\(m.model.schema.count)", "fingerprint": "\(String(m.fingerprint, radix: 16))",
                    "drift": "\(m.drift == nil ? "untracked (no reference profile)" : "tracked")",
                ])
            }
            let eventLoops = threads == System.coreCount
                ? MultiThreadedEventLoopGroup.singleton : MultiThreadedEventLoopGroup(numberOfThreads: threads)
            let server = try await ScoringServer.start(
                host: host, port: port, registry: registry, options: options, logger: logger, group: eventLoops)
            // Graceful shutdown runs the services in reverse order: the scorer stops accepting and drains first,
            // then the watcher stops, and the metrics endpoint (whose /readyz now says so) closes last.
            var services: [any Service] = []
            if let metricsPort {
                let metricsServer = try await MetricsHTTPServer.start(
                    host: host, port: metricsPort, limits: metricsLimits, metrics: { prometheus.emitToBuffer() },
                    notReadyReason: {
                        if !server.isAccepting { return "shutting down" }
                        return registry.all.isEmpty ? "no model loaded" : nil
                    })
                logger.notice("audit: metrics endpoint", metadata: ["port": "\(metricsServer.port)"])
                services.append(metricsServer)
            }
            let sampled = options.sampleLog
            let keyFile = pseudonymiseKeyFile
            watcher.onHangup = { [tokenFile] in
                // Token rotation: SIGHUP re-reads the file; a file that is unreadable or too short keeps the old token.
                if let tokenFile {
                    do {
                        server.replaceToken(with: try readServerToken(file: tokenFile))
                        logger.notice("audit: token reloaded", metadata: ["trigger": "SIGHUP"])
                    } catch {
                        logger.error("audit: token file not reloaded; the previous token stays in force", metadata: [
                            "reason": "\(error)", "trigger": "SIGHUP",
                        ])
                    }
                }
                // Pseudonym key rotation, likewise (the log audits a changed key's fingerprints).
                if let sampled, let keyFile {
                    do {
                        sampled.replaceKey(with: try Pseudonymiser(keyFile: keyFile))
                    } catch {
                        logger.error("audit: pseudonym key file not reloaded; the previous key stays in force", metadata: [
                            "reason": "\(error)", "trigger": "SIGHUP",
                        ])
                    }
                }
            }
            services.append(watcher)
            services.append(server)
            if let httpPort {
                let service = InferenceService(
                    registry: registry, serverVersion: Propensity.version, metrics: options.metrics,
                    limits: options.limits, token: { server.currentToken }, accepting: { server.isAccepting },
                    experiments: server.experiments)
                let http = try await InferenceHTTPServer.start(
                    host: host, port: httpPort, service: service, limits: options.limits, tls: options.tls,
                    group: eventLoops)
                logger.notice("audit: inference protocol over HTTP", metadata: ["port": "\(http.port)"])
                services.append(http)
            }
            if let grpcPort {
                #if GRPC
                let service = InferenceService(
                    registry: registry, serverVersion: Propensity.version, metrics: options.metrics,
                    limits: options.limits, token: { server.currentToken }, accepting: { server.isAccepting },
                    experiments: server.experiments)
                let grpc = InferenceGRPCServer(
                    host: host, port: grpcPort, service: service, limits: options.limits,
                    tls: tlsCert.flatMap { cert in tlsKey.map { .init(certificateChain: cert, privateKey: $0) } },
                    group: eventLoops)
                services.append(grpc)
                Task {
                    // The port is known once the transport listens (a port of 0 picks a free one); 0 if it failed.
                    let bound = await grpc.port
                    if bound > 0 { logger.notice("audit: inference protocol over gRPC", metadata: ["port": "\(bound)"]) }
                }
                #else
                throw CLIError("--grpc-port: this build has no gRPC (built with --disable-default-traits); rebuild with the GRPC trait")
                #endif
            }
            logger.notice("audit: listening", metadata: [
                "host": "\(host)", "port": "\(server.port)", "auth": "\(options.token != nil)", "tls": "\(options.tls != nil)",
                "max_connections": "\(budget.maxConnections)", "nofile": "\(budget.softLimit)", "max_frame_bytes": "\(maxFrameBytes)",
            ])
            // SIGINT / SIGTERM: stop accepting, answer what was already received, exit 0. A second signal cancels.
            var lifecycleLogger = logger
            lifecycleLogger.logLevel = .notice
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(
                    services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                    cancellationSignals: [], logger: lifecycleLogger))
            try await group.run()
            options.sampleLog?.stop()
            logger.notice("audit: stopped")
        }
    }
}
