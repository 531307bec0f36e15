import NIOCore
import PropensityProtocol

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
