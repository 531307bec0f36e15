import Dispatch
import NIOCore
import PropensityProtocol

/// Splits answers off the receive buffer in place (no per-answer pipeline hop), reading the clock once per read.
final class OpenLoopHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let owner: OpenLoopConnection
    private var partial: ByteBuffer?

    init(owner: OpenLoopConnection) { self.owner = owner }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = unwrapInboundIn(data)
        if var held = partial {
            partial = nil
            held.writeBuffer(&input)
            input = held
        }
        let now = DispatchTime.now().uptimeNanoseconds
        do {
            while let frame = try FrameSplitter.next(from: &input, maxFrameBytes: WireProtocol.defaultMaxFrameBytes) {
                if frame.requestID == 0 { continue }  // the AUTH answer (or a connection-level error)
                owner.received(opcode: frame.opcode, requestID: frame.requestID, now: now)
            }
        } catch {
            context.close(promise: nil)
            return
        }
        if input.readableBytes > 0 {
            var held = context.channel.allocator.buffer(capacity: input.readableBytes)
            held.writeBuffer(&input)
            partial = held
        }
    }
}
