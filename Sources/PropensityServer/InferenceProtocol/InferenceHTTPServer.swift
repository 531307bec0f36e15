import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The Open Inference Protocol over HTTP/1.1 on its own port (`serve --http-port`), answering from the binary
/// port's registry with its limits: at most `limits.maxConnections` connections (more are closed on accept),
/// bodies up to `limits.maxFrameBytes` (413 beyond, then the connection closes), a request's head and body within
/// `limits.frameTimeout` of its first byte and the next request within `limits.idleTimeout` (else the connection
/// closes: a slow-loris client holds one connection, not the server), TLS when the scorer has it.
public final class InferenceHTTPServer: Sendable {
    public let channel: Channel
    private let connections: ConnectionCount

    private init(channel: Channel, connections: ConnectionCount) {
        self.channel = channel
        self.connections = connections
    }

    public var port: Int { channel.localAddress?.port ?? 0 }
    public var openConnections: Int { connections.value }

    public static func start(
        host: String, port: Int, service: InferenceService, limits: ServerLimits = ServerLimits(),
        tls: NIOSSLContext? = nil, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> InferenceHTTPServer {
        let connections = ConnectionCount(limit: limits.maxConnections)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .backingOffWhenOutOfDescriptors()
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard connections.admit(channel) else {
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(CloseOnActive())
                    }
                }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    let timer = RequestTimer(limits: limits)
                    try channel.pipeline.syncOperations.addHandler(RequestStartHandler(timer: timer))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        InferenceHTTPHandler(service: service, limits: limits, timer: timer))
                }
            }
            .bind(host: host, port: port).get()
        return InferenceHTTPServer(channel: channel, connections: connections)
    }

    public func close() async throws { try await channel.close() }
}

/// Under a `ServiceGroup`: serves until graceful shutdown (put it after the scorer, so it stops accepting first).
extension InferenceHTTPServer: Service {
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            self.channel.close(promise: nil)
        }
    }
}
