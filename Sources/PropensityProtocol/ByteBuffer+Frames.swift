import NIOCore

extension ByteBuffer {
    /// Writes a frame's length prefix and header, runs `payload`, then patches the length.
    public mutating func writeFrame(opcode: Opcode, requestID: UInt32, _ payload: (inout ByteBuffer) -> Void) {
        let start = writerIndex
        writeMultipleIntegers(
            UInt32(0), WireProtocol.version, opcode.rawValue, UInt16(0), requestID, endianness: .little)
        payload(&self)
        setInteger(UInt32(writerIndex - start - 4), at: start, endianness: .little)
    }

    /// `u16 length` + UTF-8. A longer string is cut to the last whole character within 65,535 bytes, so what is
    /// written is always valid UTF-8.
    public mutating func writeShortString(_ s: String) {
        let utf8 = Array(s.utf8)
        var count = min(utf8.count, Int(UInt16.max))
        if count < utf8.count {
            while count > 0 && utf8[count] & 0xC0 == 0x80 { count -= 1 }  // back to the start of a character
        }
        writeInteger(UInt16(count), endianness: .little)
        writeBytes(utf8[0..<count])
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
