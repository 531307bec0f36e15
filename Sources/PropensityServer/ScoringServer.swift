import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PropensityDrift
import PropensityProtocol

/// The TCP scorer. Each connection's pipeline is (TLS →) `ConnectionGuard` (idle and half-frame timeouts, drain,
/// backpressure) → `ScoringHandler`, which splits frames off the receive buffer in place and answers each read's
/// requests in one write; connections beyond the limit get `RefuseConnection` instead.
public final class ScoringServer: Sendable {
    /// A TLS context from PEM files (certificate chain and private key).
    public static func tlsContext(certificate: String, key: String) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        // TLS 1.0 and 1.1 are deprecated (RFC 8996); 1.3 is negotiated whenever the client offers it.
        configuration.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: configuration)
    }

    public let channel: Channel
    public let registry: ModelRegistry
    private let connections: ConnectionCount
    private let children: NIOLockedValueBox<[ObjectIdentifier: Channel]>
    /// The AUTH token, when the server requires one; `replaceToken` swaps it while serving.
    private let token: ServerToken?
    let shutdownTimeout: TimeAmount
    let logger: Logger
    private let driftGauges: DriftGauges
    /// The routes and shadow scorer, for the inference protocol ports to route through as this port does.
    public let experiments: ServedExperiments

    private init(
        channel: Channel, registry: ModelRegistry, connections: ConnectionCount,
        children: NIOLockedValueBox<[ObjectIdentifier: Channel]>, token: ServerToken?, shutdownTimeout: TimeAmount,
        driftGauges: DriftGauges, experiments: ServedExperiments, logger: Logger
    ) {
        self.driftGauges = driftGauges
        self.experiments = experiments
        self.token = token
        self.logger = logger
        self.channel = channel
        self.registry = registry
        self.connections = connections
        self.children = children
        self.shutdownTimeout = shutdownTimeout
    }

    /// Each drift-tracked model version's population stability over the rolling window, by `name@version`, computed
    /// now; the drift gauges are set to it as well (they are otherwise refreshed every `DriftSettings.interval`).
    public func driftReports() -> [String: DriftReport] {
        driftGauges.update()
    }

    /// Replaces the AUTH token (a rotation): later AUTH requests are checked against `bytes`; authenticated
    /// connections stay authenticated. Returns false when the server was started without a token (it cannot start
    /// requiring one while connections are open unauthenticated).
    @discardableResult
    public func replaceToken(with bytes: [UInt8]) -> Bool {
        guard let token else { return false }
        token.replace(with: bytes)
        return true
    }

    /// The token requests must present now (nil: none required); the HTTP port checks bearer tokens against it.
    public var currentToken: [UInt8]? { token?.bytes }

    /// The port actually bound (useful with port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    public var openConnections: Int { connections.value }

    public static func start(
        host: String, port: Int, registry: ModelRegistry, limits: ServerLimits = ServerLimits(),
        logger: Logger = Logger(label: "propensity.server"),
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> ScoringServer {
        var options = ServerOptions()
        options.limits = limits
        return try await start(host: host, port: port, registry: registry, options: options, logger: logger, group: group)
    }

    public static func start(
        host: String, port: Int, registry: ModelRegistry, options: ServerOptions,
        logger: Logger = Logger(label: "propensity.server"),
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> ScoringServer {
        let limits = options.limits
        let authGuard = options.token == nil ? nil : AuthGuard(settings: options.auth, logger: logger)
        let token = options.token.map(ServerToken.init)
        let connections = ConnectionCount(limit: limits.maxConnections)
        let children = NIOLockedValueBox<[ObjectIdentifier: Channel]>([:])
        // Each event loop writes its own drift counters; a connection learns which from its loop.
        let loops = group.makeIterator().map { ObjectIdentifier($0) }
        let drift = registry.drift
        if drift.enabled, loops.count > drift.shards {
            logger.warning("drift: only \(drift.shards) of \(loops.count) event loops are tracked (DriftSettings.shards)")
        }
        let shadows = ShadowScorer(maxPendingRows: options.maxPendingShadowRows)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Out of descriptors (EMFILE/ENFILE), accepting pauses for a second instead of spinning on the error;
            // `DescriptorBudget` keeps the connection limit below the descriptor limit so that it rarely happens.
            .backingOffWhenOutOfDescriptors()
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(low: limits.maxPendingResponseBytes / 4, high: limits.maxPendingResponseBytes))
            .childChannelInitializer { channel in
                guard connections.admit(channel, changed: { options.metrics.connections.record($0) }) else {
                    options.metrics.error(.overloaded)
                    return channel.eventLoop.makeCompletedFuture {
                        // With TLS the refusal travels inside it (after the handshake), where the client reads it.
                        if let tls = options.tls {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                        }
                        try channel.pipeline.syncOperations.addHandler(
                            RefuseConnection(
                                message: "too many connections (limit \(limits.maxConnections))",
                                deadline: limits.frameTimeout))
                    }
                }
                let key = ObjectIdentifier(channel)
                children.withLockedValue { $0[key] = channel }
                channel.closeFuture.whenComplete { _ in children.withLockedValue { $0[key] = nil } }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls = options.tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    let progress = FrameProgress()
                    try channel.pipeline.syncOperations.addHandler(
                        ConnectionGuard(limits: limits, progress: progress))
                    try channel.pipeline.syncOperations.addHandler(
                        ScoringHandler(
                            registry: registry, limits: limits, token: token, metrics: options.metrics,
                            authGuard: authGuard, progress: progress,
                            driftShard: loops.firstIndex(of: ObjectIdentifier(channel.eventLoop)) ?? -1,
                            routes: options.routes, shadows: shadows, sampleLog: options.sampleLog, logger: logger))
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            shadows.stop()
            throw error
        }
        channel.closeFuture.whenComplete { _ in shadows.stop() }
        if let authGuard {
            let interval = authGuard.settings.logInterval
            let flush = channel.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                authGuard.flush()
            }
            channel.closeFuture.whenComplete { _ in flush.cancel() }
        }
        let gauges = DriftGauges(registry: registry)
        if drift.enabled {
            let every = TimeAmount.nanoseconds(Int64(drift.interval.components.seconds) * 1_000_000_000
                + drift.interval.components.attoseconds / 1_000_000_000)
            let publish = channel.eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { _ in
                gauges.update()
            }
            channel.closeFuture.whenComplete { _ in publish.cancel() }
        }
        return ScoringServer(
            channel: channel, registry: registry, connections: connections, children: children, token: token,
            shutdownTimeout: limits.shutdownTimeout, driftGauges: gauges,
            experiments: ServedExperiments(routes: options.routes, shadows: shadows, sampleLog: options.sampleLog),
            logger: logger)
    }

    /// Stops accepting; resolves when the listening socket is closed.
    public func close() async throws {
        try await channel.close()
    }

    /// False once the listener has closed (shutdown has begun): what `/readyz` reports so that a load balancer
    /// stops sending new connections before the process exits.
    public var isAccepting: Bool { channel.isActive }

    /// Graceful shutdown: stop accepting, then close every connection once the requests it already delivered have
    /// been answered and flushed. Waits at most `timeout` for connections to close.
    public func shutdown(timeout: TimeAmount? = nil) async {
        try? await channel.close()
        await drainConnections(timeout: timeout ?? shutdownTimeout)
    }

    /// Closes every open connection once it has gone quiet: nothing read for a moment, no frame half-received, and
    /// every response written out (requests are answered on the connection's event loop as they are read, so a quiet
    /// connection owes nothing). Connections still open after `timeout` are closed at once.
    func drainConnections(timeout: TimeAmount) async {
        let open = children.withLockedValue { Array($0.values) }
        for child in open { child.pipeline.fireUserInboundEventTriggered(ConnectionGuard.Drain()) }
        guard let loop = open.first?.eventLoop else { return }
        let all = EventLoopFuture.whenAllComplete(open.map(\.closeFuture), on: loop)
        let deadline = loop.scheduleTask(in: timeout) { for child in open { child.close(promise: nil) } }
        _ = try? await all.get()
        deadline.cancel()
    }
}
