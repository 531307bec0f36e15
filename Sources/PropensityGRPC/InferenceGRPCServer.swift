import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCore
import NIOPosix
import PropensityServer
import ServiceLifecycle

/// The Open Inference Protocol over gRPC on its own port (`serve --grpc-port`), answering from the binary port's
/// registry with its limits: at most `limits.maxConnections` connections (more are closed on accept), messages up
/// to `limits.maxFrameBytes`, at most 100 concurrent calls per connection, idle connections closed after
/// `limits.idleTimeout`; TLS from the scorer's certificate and key files when it has them. HTTP/2 floods (resets,
/// pings, settings) are cut off by SwiftNIO's HTTP/2 protections, which close that client's connection.
public final class InferenceGRPCServer: Sendable {
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let connections: ConnectionCount
    private let executor: EventLoopTaskExecutor

    /// TLS material as files (PEM), read by the transport when it starts.
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
        let connections = ConnectionCount(limit: limits.maxConnections)
        var config = HTTP2ServerTransport.Posix.Config.defaults
        config.rpc.maxRequestPayloadSize = limits.maxFrameBytes
        config.http2.maxConcurrentStreams = 100
        config.connection.maxIdleTime = .nanoseconds(limits.idleTimeout.nanoseconds)
        // Latency first: flush each answer at once (grpc-swift's default waits up to 100 µs to batch writes).
        config.connection.flushCoalescing = nil
        config.channelDebuggingCallbacks.onAcceptTCPConnection = { channel in
            guard connections.admit(channel) else { return channel.close() }
            return channel.eventLoop.makeSucceededVoidFuture()
        }
        let security: HTTP2ServerTransport.Posix.TransportSecurity = if let tls {
            .tls(
                certificateChain: [.file(path: tls.certificateChain, format: .pem)],
                privateKey: .file(path: tls.privateKey, format: .pem))
        } else {
            .plaintext
        }
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: host, port: port), transportSecurity: security, config: config, eventLoopGroup: group)
        server = GRPCServer(
            transport: transport, services: [InferenceGRPCService(service: service)],
            interceptors: [BearerTokenInterceptor(service: service)])
        self.connections = connections
        executor = EventLoopTaskExecutor(group: group)
    }

    /// The bound port, once listening (0 until then).
    public var port: Int {
        get async {
            guard let address = try? await server.listeningAddress else { return 0 }
            return address.ipv4?.port ?? address.ipv6?.port ?? 0
        }
    }

    public var openConnections: Int { connections.value }

    /// Serves until `beginGracefulShutdown` (calls in flight finish) or the task is cancelled.
    public func serve() async throws {
        try await withTaskExecutorPreference(executor) { try await server.serve() }
    }

    public func beginGracefulShutdown() { server.beginGracefulShutdown() }
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
