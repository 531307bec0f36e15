import NIOCore
import NIOHTTP1

/// One HTTP connection of the inference port: collects a request's body (bounded), hands it to
/// `InferenceService`, writes the answer. Requests are answered in order on the connection's event loop.
final class InferenceHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let service: InferenceService
    private let limits: ServerLimits
    private let timer: RequestTimer
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    /// Set once a body passes the limit: the 413 goes out at once, the rest is dropped and the connection closes.
    private var tooLarge = false

    init(service: InferenceService, limits: ServerLimits, timer: RequestTimer) {
        self.service = service
        self.limits = limits
        self.timer = timer
    }

    func handlerAdded(context: ChannelHandlerContext) { timer.waitForRequest(context.channel) }
    func handlerRemoved(context: ChannelHandlerContext) { timer.cancel() }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)  // malformed HTTP: NIOHTTP1's error handler has answered 400 where it could
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = nil
            tooLarge = false
            timer.requestStarted(context.channel)
            if let length = h.headers.first(name: "Content-Length").flatMap(Int.init), length > limits.maxFrameBytes {
                refuseTooLarge(h, context: context)
            } else if h.headers.first(name: "Expect")?.lowercased() == "100-continue" {
                // curl and others wait for this before sending a larger body.
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: .continue))), promise: nil)
            }
        case .body(var chunk):
            guard !tooLarge else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > limits.maxFrameBytes {
                body = nil
                if let head { refuseTooLarge(head, context: context) }
                return
            }
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
        case .end:
            guard let head, !tooLarge else { return }
            self.head = nil
            let bytes = body.map { Array($0.readableBytesView) } ?? []
            body = nil
            let response = service.respond(
                method: head.method.rawValue, path: head.uri,
                authorization: head.headers.first(name: "Authorization"),
                jsonLength: head.headers.first(name: "Inference-Header-Content-Length").flatMap(Int.init),
                body: bytes)
            write(response, for: head, close: !head.isKeepAlive, context: context)
        }
    }

    private func refuseTooLarge(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        tooLarge = true
        write(InferenceService.failure(.bodyTooLarge(limit: limits.maxFrameBytes)), for: head, close: true, context: context)
    }

    private func write(
        _ response: InferenceService.Response, for head: HTTPRequestHead, close: Bool, context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders()
        if let type = response.contentType { headers.add(name: "Content-Type", value: type) }
        headers.add(name: "Content-Length", value: String(response.body.count))
        if let length = response.jsonLength { headers.add(name: "Inference-Header-Content-Length", value: String(length)) }
        if close { headers.add(name: "Connection", value: "close") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))),
            promise: nil)
        if !response.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        if close {
            timer.cancel()
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            timer.waitForRequest(context.channel)
        }
    }
}

/// The connection's one deadline: `idleTimeout` while no request is under way, `frameTimeout` from a request's
/// first byte to its answer. Shared by `RequestStartHandler` (which sees raw bytes, so a head that never completes
/// is timed too) and `InferenceHTTPHandler`; both run on the connection's event loop.
final class RequestTimer {
    private let limits: ServerLimits
    private var deadline: Scheduled<Void>?
    private var inRequest = false

    init(limits: ServerLimits) { self.limits = limits }

    func requestStarted(_ channel: Channel) {
        guard !inRequest else { return }
        inRequest = true
        arm(limits.frameTimeout, channel)
    }

    func waitForRequest(_ channel: Channel) {
        inRequest = false
        arm(limits.idleTimeout, channel)
    }

    func cancel() { deadline?.cancel() }

    private func arm(_ timeout: TimeAmount, _ channel: Channel) {
        deadline?.cancel()
        deadline = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }
}

/// Before the HTTP decoder: any bytes while no request is under way start one (and its frame timeout).
final class RequestStartHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let timer: RequestTimer

    init(timer: RequestTimer) { self.timer = timer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        timer.requestStarted(context.channel)
        context.fireChannelRead(data)
    }
}
