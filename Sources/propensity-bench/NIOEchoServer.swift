import ArgumentParser
import NIOCore
import NIOPosix

/// The echo floor's server (`benchmarks/floor/echo_floor.c`) on SwiftNIO: one event loop, one handler that answers
/// each length-prefixed frame with a fixed-size one, the answers of a read in one write, as `ScoringHandler` sends
/// them. The server benchmark times it beside the C floor and the scorer: what SwiftNIO's path costs by itself, apart
/// from what the scorer adds to it.
struct NIOEchoServer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nio-echo", abstract: "The echo floor's server on SwiftNIO (runs until killed).")

    @Option(help: "Port on 127.0.0.1.") var port: Int
    @Option(help: "Bytes of each answer, its 4-byte length included.") var responseBytes: Int = 20

    func validate() throws {
        guard responseBytes >= 4 else { throw ValidationError("--response-bytes: at least 4 (the length prefix)") }
    }

    func run() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let response = responseBytes
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FixedAnswerHandler(responseBytes: response))
                }
            }
            .bind(host: "127.0.0.1", port: port).wait()
        try channel.closeFuture.wait()
    }
}

/// Answers every frame (a little-endian UInt32 length, then that many bytes) with `responseBytes` bytes.
private final class FixedAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let responseBytes: Int
    /// The start of a frame whose rest has not arrived.
    private var partial: ByteBuffer?
    /// The current read's answers, written when the read ends.
    private var outgoing: ByteBuffer?

    init(responseBytes: Int) {
        self.responseBytes = responseBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = unwrapInboundIn(data)
        if var held = partial {
            partial = nil
            held.writeBuffer(&input)
            input = held
        }
        var out = outgoing ?? context.channel.allocator.buffer(capacity: 64)
        while let length = input.getInteger(at: input.readerIndex, endianness: .little, as: UInt32.self),
            input.readableBytes >= 4 + Int(length)
        {
            input.moveReaderIndex(forwardBy: 4 + Int(length))
            out.writeInteger(UInt32(responseBytes - 4), endianness: .little)
            out.writeRepeatingByte(0, count: responseBytes - 4)
        }
        if input.readableBytes > 0 { partial = input }
        outgoing = out
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let out = outgoing, out.readableBytes > 0 {
            outgoing = nil
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        }
    }
}
