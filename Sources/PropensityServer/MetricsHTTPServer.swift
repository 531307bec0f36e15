import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// A minimal HTTP/1.1 endpoint on its own port: `GET /metrics` (the text a Prometheus scraper reads),
/// `GET /healthz` (the process is up) and `GET /readyz` (200 while the server takes traffic, 503 with the reason
/// otherwise).
public final class MetricsHTTPServer: Sendable {
    public let channel: Channel

    private init(channel: Channel) { self.channel = channel }

    public var port: Int { channel.localAddress?.port ?? 0 }

    public static func start(
        host: String, port: Int, metrics: @escaping @Sendable () -> [UInt8], notReadyReason: @escaping @Sendable () -> String?,
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> MetricsHTTPServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(HTTPHandler(metrics: metrics, notReadyReason: notReadyReason))
                }
            }
            .bind(host: host, port: port).get()
        return MetricsHTTPServer(channel: channel)
    }

    public func close() async throws { try await channel.close() }
}

/// Run under a `ServiceGroup`: serves until graceful shutdown. Put it before the scoring server in the group, so
/// that it shuts down after it: scrapes and `/readyz` (which then reports "shutting down") keep answering while
/// connections drain.
extension MetricsHTTPServer: Service {
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            self.channel.close(promise: nil)
        }
    }
}

private final class HTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let metrics: @Sendable () -> [UInt8]
    let notReadyReason: @Sendable () -> String?
    private var head: HTTPRequestHead?

    init(metrics: @escaping @Sendable () -> [UInt8], notReadyReason: @escaping @Sendable () -> String?) {
        self.metrics = metrics
        self.notReadyReason = notReadyReason
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let head else { return }
            let (status, body, type): (HTTPResponseStatus, [UInt8], String) = switch (head.method, head.uri) {
            case (.GET, "/metrics"): (.ok, metrics(), "text/plain; version=0.0.4")
            case (.GET, "/healthz"): (.ok, Array("ok\n".utf8), "text/plain")
            case (.GET, "/readyz"):
                if let reason = notReadyReason() {
                    (.serviceUnavailable, Array("\(reason)\n".utf8), "text/plain")
                } else {
                    (.ok, Array("ready\n".utf8), "text/plain")
                }
            default: (.notFound, Array("not found\n".utf8), "text/plain")
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: type)
            headers.add(name: "Content-Length", value: String(body.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            self.head = nil
        }
    }
}
