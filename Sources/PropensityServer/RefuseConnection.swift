import NIOCore
import PropensityProtocol

/// Answers a connection beyond the limit with one "overloaded" ERROR frame and closes it. Over TLS the frame is
/// written once the handshake is done; a client that does not finish it within `deadline` (the server's frame timeout:
/// the handshake is the one thing a refused client must send) is closed without it.
final class RefuseConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let message: String
    let deadline: TimeAmount

    init(message: String, deadline: TimeAmount) {
        self.message = message
        self.deadline = deadline
    }

    func channelActive(context: ChannelHandlerContext) {
        let closing = context.channel
        context.eventLoop.scheduleTask(in: deadline) { closing.close(promise: nil) }
        var out = context.channel.allocator.buffer(capacity: 64)
        ResponseCodec.encode(.error(.overloaded, message), requestID: 0, into: &out)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}  // ignore anything it sends meanwhile
}
