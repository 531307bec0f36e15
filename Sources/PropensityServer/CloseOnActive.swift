import NIOCore

/// An HTTP connection over its port's limit (metrics or inference): closed as soon as it is up.
final class CloseOnActive: ChannelInboundHandler {
    typealias InboundIn = NIOAny
    func channelActive(context: ChannelHandlerContext) { context.close(promise: nil) }
}
