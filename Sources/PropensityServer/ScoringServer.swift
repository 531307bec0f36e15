import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PropensityProtocol

/// Limits that protect the server from one client's bad, slow or oversized input. Every limit has a safe default.
public struct ServerLimits: Sendable {
    public var maxFrameBytes = WireProtocol.defaultMaxFrameBytes
    public var maxRowsPerRequest = 1 << 20
    /// Connections beyond this get an "overloaded" ERROR frame and are closed.
    public var maxConnections = 4096
    /// A connection that sends nothing for this long is closed.
    public var idleTimeout: TimeAmount = .seconds(300)
    /// A frame must arrive whole within this time once it has started: a client that sends half a frame and stalls
    /// is dropped, not waited on.
    public var frameTimeout: TimeAmount = .seconds(10)
    /// Unsent responses a connection may accumulate before the server stops reading its requests (backpressure:
    /// this bounds the requests in flight per connection).
    public var maxPendingResponseBytes = 4 << 20
    /// On graceful shutdown, connections still open this long after the listener closed are closed at once.
    public var shutdownTimeout: TimeAmount = .seconds(10)

    public init() {}
}

/// Server settings besides the limits.
public struct ServerOptions: Sendable {
    public var limits = ServerLimits()
    /// When set, a connection must send AUTH with this token before any other request.
    public var token: [UInt8]? = nil
    public var metrics = ServerMetrics()
    /// When set, every connection is TLS (swift-nio-ssl) with this context.
    public var tls: NIOSSLContext? = nil

    public init() {}
}

/// The TCP scorer: one pipeline per connection (frame decoder → scoring handler).
public final class ScoringServer: Sendable {
    /// A TLS context from PEM files (certificate chain and private key).
    public static func tlsContext(certificate: String, key: String) throws -> NIOSSLContext {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        return try NIOSSLContext(configuration: configuration)
    }

    public let channel: Channel
    public let registry: ModelRegistry
    private let connections: NIOLockedValueBox<Int>
    private let children: NIOLockedValueBox<[ObjectIdentifier: Channel]>
    let shutdownTimeout: TimeAmount
    let logger: Logger

    private init(
        channel: Channel, registry: ModelRegistry, connections: NIOLockedValueBox<Int>,
        children: NIOLockedValueBox<[ObjectIdentifier: Channel]>, shutdownTimeout: TimeAmount, logger: Logger
    ) {
        self.logger = logger
        self.channel = channel
        self.registry = registry
        self.connections = connections
        self.children = children
        self.shutdownTimeout = shutdownTimeout
    }

    /// The port actually bound (useful with port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    public var openConnections: Int { connections.withLockedValue { $0 } }

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
        let connections = NIOLockedValueBox(0)
        let children = NIOLockedValueBox<[ObjectIdentifier: Channel]>([:])
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(low: limits.maxPendingResponseBytes / 4, high: limits.maxPendingResponseBytes))
            .childChannelInitializer { channel in
                let admitted = connections.withLockedValue { count -> Bool in
                    guard count < limits.maxConnections else { return false }
                    count += 1
                    return true
                }
                guard admitted else {
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            RefuseConnection(message: "too many connections (limit \(limits.maxConnections))"))
                    }
                }
                let open = connections.withLockedValue { $0 }
                options.metrics.connections.record(open)
                let key = ObjectIdentifier(channel)
                children.withLockedValue { $0[key] = channel }
                channel.closeFuture.whenComplete { _ in
                    children.withLockedValue { $0[key] = nil }
                    let open = connections.withLockedValue { count -> Int in
                        count -= 1
                        return count
                    }
                    options.metrics.connections.record(open)
                }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls = options.tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    let progress = FrameProgress()
                    try channel.pipeline.syncOperations.addHandler(
                        ConnectionGuard(limits: limits, progress: progress))
                    try channel.pipeline.syncOperations.addHandler(
                        ScoringHandler(
                            registry: registry, limits: limits, token: options.token, metrics: options.metrics,
                            progress: progress, logger: logger))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        return ScoringServer(
            channel: channel, registry: registry, connections: connections, children: children,
            shutdownTimeout: limits.shutdownTimeout, logger: logger)
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

/// Closes connections that stay silent too long or leave a frame half-sent.
/// Inbound only (writability changes are inbound events), so answers do not pass through it on their way out.
final class ConnectionGuard: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Sent down a connection's pipeline on graceful shutdown: close once quiet.
    struct Drain {}

    /// How long a draining connection must stay silent before it is closed.
    static let drainQuietPeriod = TimeAmount.milliseconds(50)
    /// How long a drained connection keeps reading (and discarding) after its output is closed, waiting for the
    /// client to close: closing with unread bytes would send a reset, which makes the client's kernel discard the
    /// answers it has received but not yet read.
    static let lingerPeriod = TimeAmount.seconds(1)

    private let limits: ServerLimits
    private let progress: FrameProgress
    /// When the last read was seen, to the resolution of the periodic check.
    private var lastRead = NIODeadline.now()
    private var readSinceCheck = false
    /// Reading is paused for backpressure: requests may be waiting unread, so the connection is not quiet.
    private var readingPaused = false
    private var timer: RepeatedTask?
    private var draining = false
    /// Output closed after draining: whatever still arrives was sent after the last answer and is discarded.
    private var lingering = false

    init(limits: ServerLimits, progress: FrameProgress) {
        self.limits = limits
        self.progress = progress
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let check = TimeAmount.milliseconds(min(1000, max(10, limits.frameTimeout.nanoseconds / 4_000_000)))
        schedule(every: check, context: context)
    }

    private func schedule(every interval: TimeAmount, context: ChannelHandlerContext) {
        timer?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let (handler, context) = loopBound.value
            handler.inspect(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if lingering { return }
        readSinceCheck = true  // the clock is read by the periodic check, not on every read
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is Drain else { return context.fireUserInboundEventTriggered(event) }
        draining = true
        schedule(every: .milliseconds(10), context: context)
        inspect(context: context)
    }

    private func inspect(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        if readSinceCheck {
            readSinceCheck = false
            lastRead = now
        }
        if let started = progress.partialSince, now - started > limits.frameTimeout {
            context.close(promise: nil)  // half a frame and a stall: the stream cannot be trusted any more
        } else if now - lastRead > limits.idleTimeout {
            context.close(promise: nil)
        } else if draining, !readingPaused, progress.partialSince == nil, now - lastRead >= Self.drainQuietPeriod {
            timer?.cancel()
            lingering = true
            // Closing the output sends the client an end of stream after the last answer (the close is queued
            // behind the pending writes). Requests it sent meanwhile are read and dropped, so it sees that end of
            // stream (and fails them as unanswered) rather than a reset; it closes its side, and so do we.
            let channel = context.channel
            context.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
            context.eventLoop.scheduleTask(in: Self.lingerPeriod) { channel.close(promise: nil) }
        }
    }

    /// Backpressure: while the client does not read its responses, stop reading its requests.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        readingPaused = !context.channel.isWritable
        context.channel.setOption(ChannelOptions.autoRead, value: !readingPaused).whenFailure { _ in }
        context.fireChannelWritabilityChanged()
    }
}

/// Answers a connection beyond the limit with one "overloaded" ERROR frame and closes it.
final class RefuseConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let message: String

    init(message: String) { self.message = message }

    func channelActive(context: ChannelHandlerContext) {
        var out = context.channel.allocator.buffer(capacity: 64)
        ResponseCodec.encode(.error(.overloaded, message), requestID: 0, into: &out)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}  // ignore anything it sends meanwhile
}
