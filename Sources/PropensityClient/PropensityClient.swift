import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PropensityModel
import PropensityProtocol

/// A connection to a Propensity scorer. Requests may be issued concurrently: they are pipelined on the one
/// connection and matched to their responses by request id.
public final class PropensityClient: ScoringConnection, Sendable {
    private let channel: Channel

    private init(channel: Channel) {
        self.channel = channel
    }

    /// Opens one connection (TCP_NODELAY, 5 s connect timeout).
    /// - Parameters:
    ///   - host: the scorer's address or name; with TLS, a name is also checked against the certificate.
    ///   - port: the scorer's port.
    ///   - maxFrameBytes: the largest answer frame accepted; a larger one closes the connection.
    ///   - tls: a client TLS context (`ClientTLS.context(caFile:)`), or nil for plain TCP.
    ///   - group: the event loops to run on.
    /// - Throws: the connection error (refused, unreachable, timed out, TLS handshake failed).
    public static func connect(
        host: String, port: Int, maxFrameBytes: Int = WireProtocol.defaultMaxFrameBytes, tls: NIOSSLContext? = nil,
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> PropensityClient {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: tls, serverHostname: host.first?.isLetter == true ? host : nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(maxFrameBytes: maxFrameBytes)))
                    try channel.pipeline.syncOperations.addHandler(ResponseRouter())
                }
            }
            .connect(host: host, port: port).get()
        return PropensityClient(channel: channel)
    }

    /// Connects and, when `token` is given, authenticates before returning.
    /// - Parameters:
    ///   - token: the shared secret the server was started with (`serve --token-file`), or nil.
    ///   - host, port, maxFrameBytes, tls, group: as for `connect(host:port:maxFrameBytes:tls:group:)`.
    /// - Throws: the connection error, or `ClientError.server(.unauthorized, …)` when the token is refused (the
    ///   connection is closed then).
    public static func connect(
        host: String, port: Int, token: [UInt8]?, maxFrameBytes: Int = WireProtocol.defaultMaxFrameBytes,
        tls: NIOSSLContext? = nil, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> PropensityClient {
        let client = try await connect(host: host, port: port, maxFrameBytes: maxFrameBytes, tls: tls, group: group)
        if let token {
            do {
                _ = try await client.send(.auth(token: token))
            } catch {
                try? await client.close()
                throw error
            }
        }
        return client
    }

    /// How long `send` waits for an answer before throwing `ClientError.timeout`.
    public var timeout: TimeAmount { .seconds(30) }

    /// Sends one request and waits for its response; concurrent calls are pipelined on the connection.
    /// - Parameters:
    ///   - request: the request (the client assigns the request id).
    ///   - timeout: how long to wait for the answer; nil uses `timeout`.
    /// - Returns: the response, never an ERROR (that is thrown).
    /// - Throws: `ClientError.server(code, message)` for an ERROR frame; `ClientError.timeout` when no answer came
    ///   in time; `ClientError.connectionClosed` when the connection went away first. A request that timed out or
    ///   was lost with its connection may still have been scored: it is reported, never resent.
    public func send(_ request: Request, timeout: TimeAmount? = nil) async throws -> Response {
        let loop = channel.eventLoop
        let answer = loop.makePromise(of: Response.self)
        let result = loop.makePromise(of: Response.self)
        // Whichever comes first, the answer or the deadline, completes the result; the other does nothing.
        let settled = NIOLockedValueBox(false)
        let deadline = loop.scheduleTask(in: timeout ?? self.timeout) {
            if settled.withLockedValue({ done in defer { done = true }; return !done }) {
                result.fail(ClientError.timeout)
            }
        }
        answer.futureResult.whenComplete { outcome in
            deadline.cancel()
            if settled.withLockedValue({ done in defer { done = true }; return !done }) {
                result.completeWith(outcome)
            }
        }
        // A write that fails (the connection closed before it, or while it was being sent) fails the request at
        // once: no answer can come, and waiting for the deadline would only hide why.
        let written = loop.makePromise(of: Void.self)
        written.futureResult.whenFailure { _ in answer.fail(ClientError.connectionClosed) }
        channel.writeAndFlush(PendingRequest(request: request, promise: answer), promise: written)
        let response = try await result.futureResult.get()
        if case .error(let code, let message) = response { throw ClientError.server(code, message) }
        return response
    }

    /// False once the connection has closed (the server went away, or `close` was called).
    public var isConnected: Bool { channel.isActive }

    /// Closes the connection; requests still waiting fail with `ClientError.connectionClosed`.
    /// - Throws: NIO's error if the channel was already closed.
    public func close() async throws {
        try await channel.close()
    }
}

/// TLS settings for clients: trust `caFile` (PEM) instead of the system roots, e.g. for a private CA.
public enum ClientTLS {
    /// A client TLS context.
    /// - Parameter caFile: a PEM file of CA certificates to trust instead of the system roots, or nil for the roots.
    /// - Throws: swift-nio-ssl's error when the file cannot be read or parsed.
    public static func context(caFile: String?) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        }
        return try NIOSSLContext(configuration: configuration)
    }
}

/// What a client call can fail with besides the connection's own errors.
public enum ClientError: Error, CustomStringConvertible, Sendable {
    /// The server answered with an ERROR frame.
    case server(ErrorCode, String)
    case unexpectedResponse
    case connectionClosed
    /// No answer within the timeout; the request may or may not have been scored.
    case timeout

    public var description: String {
        switch self {
        case .server(let code, let message): "server error \(code.rawValue) (\(code)): \(message)"
        case .unexpectedResponse: "the server sent a response of the wrong type"
        case .connectionClosed: "the connection closed before the response arrived"
        case .timeout: "no answer within the timeout (the request may have been scored; it was not resent)"
        }
    }
}

struct PendingRequest {
    var request: Request
    var promise: EventLoopPromise<Response>
}

/// Assigns request ids on the way out and completes the matching promise on the way in.
final class ResponseRouter: ChannelDuplexHandler {
    typealias InboundIn = Frame
    typealias OutboundIn = PendingRequest
    typealias OutboundOut = ByteBuffer

    private var nextID: UInt32 = 1
    private var waiting: [UInt32: EventLoopPromise<Response>] = [:]

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let pending = unwrapOutboundIn(data)
        let id = nextID
        nextID = nextID == UInt32.max ? 1 : nextID + 1  // 0 is reserved for connection-level errors
        waiting[id] = pending.promise
        var buffer = context.channel.allocator.buffer(capacity: 64)
        RequestCodec.encode(pending.request, requestID: id, into: &buffer)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        do {
            let response = try ResponseCodec.decode(frame)
            if frame.requestID == 0 {
                // A connection-level error: every request in flight fails with it.
                failAll(response.asError ?? ClientError.unexpectedResponse)
            } else if let promise = waiting.removeValue(forKey: frame.requestID) {
                promise.succeed(response)
            }
        } catch {
            failAll(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(ClientError.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: Error) {
        let all = waiting
        waiting.removeAll()
        for (_, promise) in all { promise.fail(error) }
    }
}

extension Response {
    var asError: ClientError? {
        if case .error(let code, let message) = self { return .server(code, message) }
        return nil
    }
}
