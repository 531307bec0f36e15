import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One frame off the wire: its header fields and its payload.
public struct Frame: Sendable {
    public var version: UInt8
    public var opcode: UInt8
    public var flags: UInt16
    public var requestID: UInt32
    public var payload: ByteBuffer

    public init(version: UInt8 = WireProtocol.version, opcode: UInt8, flags: UInt16 = 0, requestID: UInt32, payload: ByteBuffer) {
        self.version = version
        self.opcode = opcode
        self.flags = flags
        self.requestID = requestID
        self.payload = payload
    }
}

/// Splits the byte stream into frames: `u32 length` (of what follows), then header and payload.
///
/// A length below the header size, or above `maxFrameBytes`, cannot be resynchronized past: the decoder throws a
/// `ProtocolError`, and the connection's handler answers with an ERROR frame and closes.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Frame
    public let maxFrameBytes: Int
    /// Where the decoder tells the connection guard that part of a frame is waiting for the rest.
    public let progress: FrameProgress?

    public init(maxFrameBytes: Int = WireProtocol.defaultMaxFrameBytes, progress: FrameProgress? = nil) {
        self.maxFrameBytes = maxFrameBytes
        self.progress = progress
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let state = try decodeFrame(context: context, buffer: &buffer)
        if let progress {
            if buffer.readableBytes == 0 {
                progress.partialSince = nil
            } else if progress.partialSince == nil || state == .continue {
                progress.partialSince = .now()
            }
        }
        return state
    }

    private func decodeFrame(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
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

/// Takes whole frames off the front of a byte stream. Shared by `FrameDecoder` (clients) and the server's handler,
/// which splits its receive buffer in place rather than passing each frame down a pipeline.
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
            throw ProtocolError(.frameTooLarge, "frame of \(length) bytes exceeds the limit of \(maxFrameBytes)")
        }
        guard readable >= 4 + length, let header else { return nil }
        let payload = buffer.getSlice(at: buffer.readerIndex + FrameHeader.size, length: header.payloadBytes)!
        buffer.moveReaderIndex(forwardBy: header.frameBytes)
        return Frame(
            version: header.version, opcode: header.opcode, flags: header.flags, requestID: header.requestID,
            payload: payload)
    }
}

/// Whether a connection has part of a frame buffered, and since when. Touched only on the connection's event loop.
public final class FrameProgress: @unchecked Sendable {
    public var partialSince: NIODeadline?
    public init() {}
}

extension ByteBuffer {
    /// Writes a frame's length prefix and header, runs `payload`, then patches the length.
    public mutating func writeFrame(opcode: Opcode, requestID: UInt32, _ payload: (inout ByteBuffer) -> Void) {
        let start = writerIndex
        writeMultipleIntegers(
            UInt32(0), WireProtocol.version, opcode.rawValue, UInt16(0), requestID, endianness: .little)
        payload(&self)
        setInteger(UInt32(writerIndex - start - 4), at: start, endianness: .little)
    }

    /// `u16 length` + UTF-8.
    public mutating func writeShortString(_ s: String) {
        let utf8 = s.utf8
        let count = min(utf8.count, Int(UInt16.max))
        writeInteger(UInt16(count), endianness: .little)
        writeBytes(utf8.prefix(count))
    }

    public mutating func readShortString(_ what: String) throws(ProtocolError) -> String {
        guard let n = readInteger(endianness: .little, as: UInt16.self).map(Int.init), readableBytes >= n else {
            throw ProtocolError(.malformedFrame, "\(what) runs past the end of the frame")
        }
        let s = withUnsafeReadableBytes { String(strictUTF8: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        guard let s else { throw ProtocolError(.malformedFrame, "\(what) is not valid UTF-8") }
        moveReaderIndex(forwardBy: n)
        return s
    }

    mutating func readLE<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws(ProtocolError) -> T {
        guard let v = readInteger(endianness: .little, as: T.self) else {
            throw ProtocolError(.malformedFrame, "\(what) runs past the end of the frame")
        }
        return v
    }
}

extension String {
    /// The string these bytes spell in UTF-8, or nil when they are not valid UTF-8. Runs for every request's model
    /// name: the standard library's generic `String(validating:as:)` looked up type metadata on each call (15 % of the
    /// server's user time at 1.2 M requests/s), while decoding from a `UInt8` buffer takes its non-generic fast path.
    /// Decoding repairs invalid sequences, so the bytes come back unchanged exactly when they were valid.
    @inlinable
    public init?(strictUTF8 bytes: UnsafeRawBufferPointer) {
        var decoded = bytes.withMemoryRebound(to: UInt8.self) { String(decoding: $0, as: UTF8.self) }
        let unchanged = decoded.utf8.count == bytes.count
            && decoded.withUTF8 { bytes.count == 0 || memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }
        guard unchanged else { return nil }
        self = decoded
    }
}
