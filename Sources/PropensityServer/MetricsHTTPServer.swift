import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// A minimal HTTP/1.1 endpoint on its own port: `GET /metrics` (the text a Prometheus scraper reads),
/// `GET /healthz` (the process is up) and `GET /readyz` (200 while the server takes traffic, 503 with the reason
/// otherwise).
///
/// It needs no token, so it is bounded like the scoring port: at most `Limits.maxConnections` at once (more are
/// closed on accept), a request must arrive whole within `requestTimeout` of the connection opening or of the
/// previous answer, and `Connection: close` (or HTTP/1.0) closes after the answer.
public final class MetricsHTTPServer: Sendable {
    public struct Limits: Sendable {
        public var maxConnections = 16
        public var requestTimeout: TimeAmount = .seconds(10)
        public init() {}
    }

    public let channel: Channel
    private let connections: ConnectionCount

    private init(channel: Channel, connections: ConnectionCount) {
        self.channel = channel
        self.connections = connections
    }

    public var port: Int { channel.localAddress?.port ?? 0 }
    public var openConnections: Int { connections.value }

    public static func start(
        host: String, port: Int, limits: Limits = Limits(), metrics: @escaping @Sendable () -> [UInt8],
        notReadyReason: @escaping @Sendable () -> String?,
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> MetricsHTTPServer {
        let connections = ConnectionCount(limit: limits.maxConnections)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .backingOffWhenOutOfDescriptors()
            .childChannelInitializer { channel in
                guard connections.admit(channel) else {
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(CloseOnActive())
                    }
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(HTTPHandler(
                        metrics: metrics, notReadyReason: notReadyReason, requestTimeout: limits.requestTimeout))
                }
            }
            .bind(host: host, port: port).get()
        return MetricsHTTPServer(channel: channel, connections: connections)
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
    let requestTimeout: TimeAmount
    private var head: HTTPRequestHead?
    /// Closes the connection unless a whole request arrives in time (idle, or sent in pieces too slowly).
    private var deadline: Scheduled<Void>?

    init(
        metrics: @escaping @Sendable () -> [UInt8], notReadyReason: @escaping @Sendable () -> String?,
        requestTimeout: TimeAmount
    ) {
        self.metrics = metrics
        self.notReadyReason = notReadyReason
        self.requestTimeout = requestTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) { armDeadline(context: context) }
    func handlerRemoved(context: ChannelHandlerContext) { deadline?.cancel() }

    private func armDeadline(context: ChannelHandlerContext) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: requestTimeout) { channel.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)  // a malformed request: NIOHTTP1 has answered 400 where it could
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let head else { return }
            deadline?.cancel()
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
            if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            self.head = nil
            if head.isKeepAlive {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                armDeadline(context: context)
            } else {
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }
}
