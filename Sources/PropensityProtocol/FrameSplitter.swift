import NIOCore

/// Takes whole frames off the front of a byte stream. Shared by `FrameDecoder` (clients), the server's handler (which
/// splits its receive buffer in place rather than passing each frame down a pipeline) and the open-loop load generator.
public enum FrameSplitter {
    /// The next frame at the front of `buffer`, consumed (its payload is a slice, not a copy); nil while the frame is
    /// incomplete. A length below the header size or above `maxFrameBytes` throws: the stream cannot be resynchronized.
    @inlinable
    public static func next(from buffer: inout ByteBuffer, maxFrameBytes: Int) throws(ProtocolError) -> Frame? {
        let readable = buffer.readableBytes
        guard readable >= 4 else { return nil }
        // One pass over raw bytes for the prefix and header (this runs for every request the server reads). With
        // fewer than 12 bytes only the length is known, and it may already be refused.
        let (length, header) = buffer.withUnsafeReadableBytes { raw in
            (Int(UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self))), FrameHeader(raw))
        }
        guard length >= WireProtocol.headerSize else {
            throw ProtocolError(.malformedFrame, "frame length \(length) is shorter than the 8-byte header")
        }
        guard length <= maxFrameBytes else {
            throw ProtocolError(.frameTooLarge, "frame length \(length) (bytes after the length field) exceeds the limit of \(maxFrameBytes)")
        }
        guard readable >= 4 + length, let header else { return nil }
        let payload = buffer.getSlice(at: buffer.readerIndex + FrameHeader.size, length: header.payloadBytes)!
        buffer.moveReaderIndex(forwardBy: header.frameBytes)
        return Frame(
            version: header.version, opcode: header.opcode, flags: header.flags, requestID: header.requestID,
            payload: payload)
    }
}
