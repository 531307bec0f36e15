import NIOCore
import NIOHPACK
import NIOHTTP2

/// The gRPC calls of one HTTP/2 connection (gRPC over HTTP/2, unary), read from the connection's frames by stream id
/// rather than through a child channel per stream: a call is a few frames, and creating and configuring a stream
/// channel for each cost about a tenth of the port's CPU.
///
/// Per call: the request's headers are checked as they arrive (`:method` POST, `content-type` application/grpc, a
/// method of `inference.GRPCInferenceService`, the token), its DATA frames are gathered into one length-prefixed
/// message (at most `maxMessageBytes`), and when the client ends the stream the method answers on this event loop:
/// response headers, the message, `grpc-status: 0` trailers. A refusal is a Trailers-Only response sent at once, and
/// whatever else arrives on that stream is discarded. A call whose `grpc-timeout` has passed by the time its request
/// is complete, or by the time its answer is ready, is answered DEADLINE_EXCEEDED instead.
///
/// Flow control is this handler's, since no stream channel grants window: the connection's window and each call's
/// stream window are given back as its DATA arrives (a WINDOW_UPDATE once half of the initial 65,535 bytes is used),
/// so a one-row call, a few hundred bytes, sends none.
final class GRPCConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private struct Call {
        var method: InferenceGRPCService.Method
        /// From `grpc-timeout`, counted from the request's headers.
        var deadline: NIODeadline?
        var body: ByteBuffer?
        /// Stream-window bytes received and not yet given back.
        var unreturnedBytes = 0
    }

    private let service: InferenceGRPCService
    private let maxMessageBytes: Int
    /// Calls whose request is still arriving.
    private var calls: [HTTP2StreamID: Call] = [:]
    /// Streams already answered (refused early): their remaining frames are dropped.
    private var answered: Set<HTTP2StreamID> = []
    /// Connection-window bytes received and not yet given back.
    private var unreturnedBytes = 0

    /// A window (the connection's or a stream's) is given back once this much of its initial 65,535 bytes is used.
    static let windowReturnThreshold = 32_768

    init(service: InferenceGRPCService, maxMessageBytes: Int) {
        self.service = service
        self.maxMessageBytes = maxMessageBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let stream = frame.streamID
        switch frame.payload {
        case .headers(let headers):
            if calls[stream] == nil && !answered.contains(stream) {
                do throws(GRPCStatus) {
                    let method = try start(headers.headers)
                    let timeout = try Self.timeout(headers.headers.first(name: "grpc-timeout"))
                    calls[stream] = Call(method: method, deadline: timeout.map { .now() + $0 }, body: nil)
                } catch {
                    return respond(context: context, stream: stream, status: error, requestEnded: headers.endStream)
                }
            }
            if headers.endStream { finish(context: context, stream: stream) }
        case .data(let payload):
            let flowControlled = payload.data.readableBytes + (payload.paddingBytes.map { $0 + 1 } ?? 0)
            unreturnedBytes += flowControlled
            if unreturnedBytes >= Self.windowReturnThreshold {
                returnWindow(context: context, stream: .rootStream, bytes: unreturnedBytes)
                unreturnedBytes = 0
            }
            guard var call = calls[stream], case .byteBuffer(var bytes) = payload.data else { return }
            // The 5-byte prefix is part of what is gathered; the message itself may use the whole limit.
            if (call.body?.readableBytes ?? 0) + bytes.readableBytes > maxMessageBytes + 5 {
                return respond(context: context, stream: stream, status: GRPCStatus(
                    code: .resourceExhausted, message: "the request message exceeds the limit of \(maxMessageBytes) bytes"),
                    requestEnded: payload.endStream)
            }
            if call.body == nil {
                call.body = bytes
            } else {
                call.body!.writeBuffer(&bytes)
            }
            call.unreturnedBytes += flowControlled
            if payload.endStream {
                calls[stream] = call
                return finish(context: context, stream: stream)
            }
            if call.unreturnedBytes >= Self.windowReturnThreshold {
                returnWindow(context: context, stream: stream, bytes: call.unreturnedBytes)
                call.unreturnedBytes = 0
            }
            calls[stream] = call
        case .rstStream:
            calls[stream] = nil
        default:
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let closed = event as? StreamClosedEvent {
            calls[closed.streamID] = nil
            answered.remove(closed.streamID)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Gives back `bytes` of a window: the connection's (stream 0) or a call's stream's.
    private func returnWindow(context: ChannelHandlerContext, stream: HTTP2StreamID, bytes: Int) {
        context.writeAndFlush(
            wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .windowUpdate(windowSizeIncrement: bytes))), promise: nil)
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
    private func finish(context: ChannelHandlerContext, stream: HTTP2StreamID) {
        guard let call = calls.removeValue(forKey: stream) else { return }
        var message = call.body ?? ByteBuffer()
        guard let compressed = message.readInteger(as: UInt8.self), let length = message.readInteger(as: UInt32.self) else {
            return respond(context: context, stream: stream, status: GRPCStatus(
                code: .invalidArgument, message: "a unary call carries one message"))
        }
        guard compressed == 0 else {
            return respond(context: context, stream: stream, status: GRPCStatus(
                code: .unimplemented, message: "compressed messages are not accepted (grpc-accept-encoding: identity)"))
        }
        guard message.readableBytes == Int(length) else {
            return respond(context: context, stream: stream, status: GRPCStatus(
                code: .invalidArgument,
                message: "the message prefix says \(length) bytes and \(message.readableBytes) follow; a unary call carries one message"))
        }
        do throws(GRPCStatus) {
            try Self.check(call.deadline)
            let answer = try service.call(call.method, request: message.readBytes(length: Int(length)) ?? [])
            try Self.check(call.deadline)
            respond(context: context, stream: stream, message: answer)
        } catch {
            respond(context: context, stream: stream, status: error)
        }
    }

    /// `grpc-timeout` (gRPC over HTTP/2: 1 to 8 digits and a unit, H M S m u n); nil when the header is absent or
    /// the timeout is too long to count in nanoseconds (8 digits of hours), which no answer can exceed.
    static func timeout(_ header: String?) throws(GRPCStatus) -> TimeAmount? {
        guard let header else { return nil }
        let malformed = GRPCStatus(code: .internal, message: "malformed grpc-timeout '\(header.prefix(20))'")
        let digits = header.utf8.dropLast()
        guard let unit = header.utf8.last, (1...8).contains(digits.count), digits.allSatisfy({ (0x30...0x39).contains($0) }),
            let value = Int64(String(decoding: digits, as: UTF8.self))
        else { throw malformed }
        let nanosecondsPerUnit: Int64 = switch unit {
        case UInt8(ascii: "H"): 3_600_000_000_000
        case UInt8(ascii: "M"): 60_000_000_000
        case UInt8(ascii: "S"): 1_000_000_000
        case UInt8(ascii: "m"): 1_000_000
        case UInt8(ascii: "u"): 1_000
        case UInt8(ascii: "n"): 1
        default: throw malformed
        }
        let (nanoseconds, overflow) = value.multipliedReportingOverflow(by: nanosecondsPerUnit)
        // Past about 290 years no deadline is needed (and adding it to the clock would overflow).
        return overflow || nanoseconds > Int64.max / 2 ? nil : .nanoseconds(nanoseconds)
    }

    private static func check(_ deadline: NIODeadline?) throws(GRPCStatus) {
        if let deadline, NIODeadline.now() >= deadline {
            throw GRPCStatus(code: .deadlineExceeded, message: "the call's grpc-timeout passed before it was answered")
        }
    }

    private static let responseHeaders = HPACKHeaders([
        (":status", "200"), ("content-type", "application/grpc"), ("grpc-accept-encoding", "identity"),
    ])
    private static let okTrailers = HPACKHeaders([("grpc-status", "0")])

    private func respond(context: ChannelHandlerContext, stream: HTTP2StreamID, message: [UInt8]) {
        var framed = context.channel.allocator.buffer(capacity: 5 + message.count)
        framed.writeInteger(UInt8(0))
        framed.writeInteger(UInt32(message.count))
        framed.writeBytes(message)
        context.write(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: Self.responseHeaders)))),
                      promise: nil)
        context.write(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .data(.init(data: .byteBuffer(framed))))),
                      promise: nil)
        context.writeAndFlush(
            wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: Self.okTrailers, endStream: true)))),
            promise: nil)
    }

    /// Trailers-Only: the status in the only HEADERS frame, which ends the stream. A request still arriving is then
    /// stopped with RST_STREAM(NO_ERROR) (RFC 9113 §8.1: a complete response sent early) rather than read to its end.
    private func respond(
        context: ChannelHandlerContext, stream: HTTP2StreamID, status: GRPCStatus, requestEnded: Bool = true
    ) {
        calls[stream] = nil
        answered.insert(stream)
        var headers = Self.responseHeaders
        headers.add(name: "grpc-status", value: String(status.code.rawValue))
        if !status.message.isEmpty { headers.add(name: "grpc-message", value: status.encodedMessage) }
        context.write(
            wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: headers, endStream: true)))),
            promise: nil)
        if !requestEnded {
            context.write(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .rstStream(.noError))), promise: nil)
        }
        context.flush()
    }
}
