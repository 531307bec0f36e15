import Logging
import NIOCore
import NIOPosix
import PropensityProtocol

/// Limits that protect the server from one client's bad or oversized input.
public struct ServerLimits: Sendable {
    public var maxFrameBytes = WireProtocol.defaultMaxFrameBytes
    public var maxRowsPerRequest = 1 << 20

    public init() {}
}

/// The TCP scorer: one pipeline per connection (frame decoder → scoring handler).
public final class ScoringServer: Sendable {
    public let channel: Channel
    public let registry: ModelRegistry

    private init(channel: Channel, registry: ModelRegistry) {
        self.channel = channel
        self.registry = registry
    }

    /// The port actually bound (useful with port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    public static func start(
        host: String, port: Int, registry: ModelRegistry, limits: ServerLimits = ServerLimits(),
        logger: Logger = Logger(label: "propensity.server"),
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> ScoringServer {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(maxFrameBytes: limits.maxFrameBytes)))
                    try channel.pipeline.syncOperations.addHandler(
                        ScoringHandler(registry: registry, limits: limits, logger: logger))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        return ScoringServer(channel: channel, registry: registry)
    }

    /// Stops accepting; resolves when the listening socket is closed.
    public func close() async throws {
        try await channel.close()
    }
}
