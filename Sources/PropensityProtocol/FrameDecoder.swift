import NIOCore

/// Splits a client's byte stream into frames (`FrameSplitter` in a NIO decoder; the server splits its receive buffer
/// in place instead, without a decoder).
///
/// A length below the header size, or above `maxFrameBytes`, cannot be resynchronized past: the decoder throws a
/// `ProtocolError` and the connection is closed.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Frame
    public let maxFrameBytes: Int
    public init(maxFrameBytes: Int = WireProtocol.defaultMaxFrameBytes) {
        self.maxFrameBytes = maxFrameBytes
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try FrameSplitter.next(from: &buffer, maxFrameBytes: maxFrameBytes) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
