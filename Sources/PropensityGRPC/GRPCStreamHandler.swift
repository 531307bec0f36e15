import NIOCore
import NIOHPACK
import NIOHTTP2

/// One gRPC call on one HTTP/2 stream (gRPC over HTTP/2, unary): the request's headers are checked as they arrive
/// (`:method` POST, `content-type` application/grpc, a method of `inference.GRPCInferenceService`, the token), its
/// DATA frames are gathered into one length-prefixed message (at most `maxMessageBytes`), and when the client ends
/// the stream the method answers on this event loop: response headers, the message, `grpc-status: 0` trailers.
/// A refusal is a Trailers-Only response sent at once, and whatever else arrives on the stream is discarded.
final class GRPCStreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private let service: InferenceGRPCService
    private let maxMessageBytes: Int
    private var method: InferenceGRPCService.Method?
    private var body: ByteBuffer?
    private var answered = false

    init(service: InferenceGRPCService, maxMessageBytes: Int) {
        self.service = service
        self.maxMessageBytes = maxMessageBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        switch unwrapInboundIn(data) {
        case .headers(let headers):
            if method == nil {
                do throws(GRPCStatus) {
                    method = try start(headers.headers)
                } catch {
                    return respond(context: context, status: error)
                }
            }
            if headers.endStream { finish(context: context) }
        case .data(let frame):
            guard case .byteBuffer(var bytes) = frame.data else { return }
            // The 5-byte prefix is part of what is gathered; the message itself may use the whole limit.
            if (body?.readableBytes ?? 0) + bytes.readableBytes > maxMessageBytes + 5 {
                return respond(context: context, status: GRPCStatus(
                    code: .resourceExhausted, message: "the request message exceeds the limit of \(maxMessageBytes) bytes"))
            }
            if body == nil {
                body = bytes
            } else {
                body!.writeBuffer(&bytes)
            }
            if frame.endStream { finish(context: context) }
        default:
            break
        }
    }

    /// The called method, or why the call is refused.
    private func start(_ headers: HPACKHeaders) throws(GRPCStatus) -> InferenceGRPCService.Method {
        guard headers.first(name: ":method") == "POST" else {
            throw GRPCStatus(code: .unimplemented, message: "gRPC calls are POST requests")
        }
        guard let contentType = headers.first(name: "content-type"), contentType.hasPrefix("application/grpc") else {
            throw GRPCStatus(code: .invalidArgument, message: "content-type must be application/grpc")
        }
        let path = headers.first(name: ":path") ?? ""
        guard let method = InferenceGRPCService.Method(path: path) else {
            throw GRPCStatus(code: .unimplemented, message: "no such method: \(path.prefix(200))")
        }
        if method.needsToken {
            do {
                try service.service.authorize(headers.first(name: "authorization"))
            } catch {
                throw error.grpcStatus
            }
        }
        return method
    }

    /// The client ended its side: exactly one uncompressed message, answered.
    private func finish(context: ChannelHandlerContext) {
        guard let method else { return }
        var message = body ?? ByteBuffer()
        guard let compressed = message.readInteger(as: UInt8.self), let length = message.readInteger(as: UInt32.self) else {
            return respond(context: context, status: GRPCStatus(code: .invalidArgument, message: "a unary call carries one message"))
        }
        guard compressed == 0 else {
            return respond(context: context, status: GRPCStatus(
                code: .unimplemented, message: "compressed messages are not accepted (grpc-accept-encoding: identity)"))
        }
        guard message.readableBytes == Int(length) else {
            return respond(context: context, status: GRPCStatus(
                code: .invalidArgument,
                message: "the message prefix says \(length) bytes and \(message.readableBytes) follow; a unary call carries one message"))
        }
        do throws(GRPCStatus) {
            let answer = try service.call(method, request: message.readBytes(length: Int(length)) ?? [])
            respond(context: context, message: answer)
        } catch {
            respond(context: context, status: error)
        }
    }

    private static let responseHeaders = HPACKHeaders([
        (":status", "200"), ("content-type", "application/grpc"), ("grpc-accept-encoding", "identity"),
    ])
    private static let okTrailers = HPACKHeaders([("grpc-status", "0")])

    private func respond(context: ChannelHandlerContext, message: [UInt8]) {
        answered = true
        var framed = context.channel.allocator.buffer(capacity: 5 + message.count)
        framed.writeInteger(UInt8(0))
        framed.writeInteger(UInt32(message.count))
        framed.writeBytes(message)
        context.write(wrapOutboundOut(.headers(.init(headers: Self.responseHeaders))), promise: nil)
        context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(framed)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: Self.okTrailers, endStream: true))), promise: nil)
    }

    /// Trailers-Only: the status in the only HEADERS frame, which ends the stream.
    private func respond(context: ChannelHandlerContext, status: GRPCStatus) {
        answered = true
        body = nil
        var headers = Self.responseHeaders
        headers.add(name: "grpc-status", value: String(status.code.rawValue))
        if !status.message.isEmpty { headers.add(name: "grpc-message", value: status.encodedMessage) }
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: headers, endStream: true))), promise: nil)
    }
}
