import NIOCore

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
