import NIOCore
import PropensityProtocol

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
