import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOHTTP2
import NIOPosix
import NIOSSL
import PropensityServer
import ServiceLifecycle

/// The Open Inference Protocol over gRPC on its own port (`serve --grpc-port`), answering from the binary port's
/// registry with its limits: at most `limits.maxConnections` connections (more are closed on accept), messages up
/// to `limits.maxFrameBytes`, at most 100 concurrent calls per connection, connections idle for
/// `limits.idleTimeout` sent GOAWAY and closed; TLS (ALPN `h2`) from the scorer's certificate and key files when it
/// has them. HTTP/2 floods (resets, pings, settings, empty frames) are cut off by SwiftNIO's HTTP/2 protections,
/// which close that client's connection.
///
/// gRPC's HTTP/2 mapping is served by SwiftNIO's HTTP/2 codec and swift-protobuf directly (`GRPCConnectionHandler`):
/// every method here is unary, and answering on the connection's event loop costs a fraction of grpc-swift's
/// generic server, which was measured at ~130 µs of CPU per call (docs/inference-protocol.md).
public final class InferenceGRPCServer: Sendable {
    private let host: String
    private let requestedPort: Int
    private let service: InferenceGRPCService
    private let limits: ServerLimits
    private let tls: TLSFiles?
    private let group: MultiThreadedEventLoopGroup
    private let connections: ConnectionCount
    private let quiescing: ServerQuiescingHelper
    private let bound: EventLoopPromise<Int>
    private let shutdown: EventLoopPromise<Void>
    private let shuttingDown = NIOLockedValueBox(false)

    /// TLS material as files (PEM), read when the server starts.
    public struct TLSFiles: Sendable {
        public var certificateChain: String
        public var privateKey: String

        public init(certificateChain: String, privateKey: String) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
        }
    }

    public init(
        host: String, port: Int, service: InferenceService, limits: ServerLimits = ServerLimits(), tls: TLSFiles? = nil,
        group: MultiThreadedEventLoopGroup = .singleton
    ) {
        self.host = host
        self.requestedPort = port
        self.service = InferenceGRPCService(service: service)
        self.limits = limits
        self.tls = tls
        self.group = group
        connections = ConnectionCount(limit: limits.maxConnections)
        quiescing = ServerQuiescingHelper(group: group)
        bound = group.next().makePromise(of: Int.self)
        shutdown = group.next().makePromise(of: Void.self)
    }

    /// The bound port, once listening (0 if binding failed).
    public var port: Int {
        get async { (try? await bound.futureResult.get()) ?? 0 }
    }

    public var openConnections: Int { connections.value }

    /// Serves until `beginGracefulShutdown` (calls in flight finish; connections get GOAWAY) or the task is
    /// cancelled (likewise).
    public func serve() async throws {
        let channel: Channel
        do {
            channel = try await bind()
        } catch {
            bound.fail(error)
            throw error
        }
        bound.succeed(channel.localAddress?.port ?? 0)
        try await withTaskCancellationHandler {
            try await channel.closeFuture.get()
            // Closed by a graceful shutdown: wait for its connections too; closed otherwise, there is nothing to await.
            if shuttingDown.withLockedValue({ $0 }) { try await shutdown.futureResult.get() }
        } onCancel: {
            self.beginGracefulShutdown()
        }
    }

    /// How long a connection may take to finish its calls once graceful shutdown began.
    static let gracePeriod = TimeAmount.seconds(10)

    /// Stops accepting, and lets each connection finish its calls before it closes.
    public func beginGracefulShutdown() {
        let first = shuttingDown.withLockedValue { started in
            defer { started = true }
            return !started
        }
        guard first else { return }
        bound.futureResult.whenComplete { _ in self.quiescing.initiateShutdown(promise: self.shutdown) }
    }

    private func bind() async throws -> Channel {
        let sslContext = try tls.map { files in
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(files.certificateChain).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: files.privateKey, format: .pem)))
            configuration.applicationProtocols = ["h2"]
            return try NIOSSLContext(configuration: configuration)
        }
        let (service, limits, connections, quiescing) = (self.service, self.limits, self.connections, self.quiescing)
        let connection = {
            var configuration = NIOHTTP2Handler.ConnectionConfiguration()
            configuration.initialSettings = [
                HTTP2Setting(parameter: .maxConcurrentStreams, value: 100),
                HTTP2Setting(parameter: .maxHeaderListSize, value: 16_384),
            ]
            return configuration
        }()
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard connections.admit(channel) else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let sslContext { try pipeline.addHandler(NIOSSLServerHandler(context: sslContext)) }
                    // Idle connections, graceful shutdown (GOAWAY, then close once the calls in flight are answered,
                    // at most `gracePeriod` later) and keepalive, as HTTP/2 servers do them.
                    let management = NIOHTTP2ServerConnectionManagementHandler(
                        eventLoop: channel.eventLoop,
                        configuration: .init(
                            maxIdleTime: limits.idleTimeout, maxAge: nil, maxGraceTime: Self.gracePeriod,
                            keepalive: .init(pingInterval: .hours(2), ackTimeout: .seconds(20))))
                    try pipeline.addHandler(NIOHTTP2Handler(mode: .server, connectionConfiguration: connection))
                    try pipeline.addHandler(management)
                    try pipeline.addHandler(GRPCConnectionHandler(service: service, maxMessageBytes: limits.maxFrameBytes))
                    try pipeline.addHandler(CloseOnConnectionError())
                }
            }
            .bind(host: host, port: requestedPort).get()
    }
}

/// Closes the connection on an error that reaches the end of its pipeline: HTTP/2 has already sent GOAWAY for a
/// protocol violation or a flood (ENHANCE_YOUR_CALM) and leaves the closing to the pipeline.
private final class CloseOnConnectionError: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Under a `ServiceGroup`: serves until graceful shutdown (put it after the scorer, so it stops accepting first).
extension InferenceGRPCServer: Service {
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await serve()
        } onGracefulShutdown: {
            self.beginGracefulShutdown()
        }
    }
}
