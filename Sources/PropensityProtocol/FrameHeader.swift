/// The fixed 12 bytes that open every frame, read from raw bytes without SwiftNIO (for raw-socket clients such as
/// the load generator): `u32 length` (of everything after it), `u8 version`, `u8 opcode`, `u16 flags`,
/// `u32 request id`, all little-endian (docs/protocol.md).
public struct FrameHeader: Sendable, Equatable {
    /// Length prefix plus header.
    public static let size = 4 + WireProtocol.headerSize

    /// Bytes after the length prefix: the 8-byte header and the payload.
    public var length: Int
    public var version: UInt8
    public var opcode: UInt8
    public var flags: UInt16
    public var requestID: UInt32

    /// The whole frame's size on the wire.
    public var frameBytes: Int { 4 + length }
    public var payloadBytes: Int { length - WireProtocol.headerSize }

    /// The header at `offset` of `raw`, or nil when fewer than `size` bytes are there. The length is not checked
    /// against limits: that is the reader's call.
    @inlinable
    public init?(_ raw: UnsafeRawBufferPointer, at offset: Int = 0) {
        guard raw.count - offset >= Self.size else { return nil }
        length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        version = raw[offset + 4]
        opcode = raw[offset + 5]
        flags = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 6, as: UInt16.self))
        requestID = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
    }
}
