/// Appends little-endian values to a byte array.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func f64(_ v: Double) { u64(v.bitPattern) }
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        u32(UInt32(utf8.count))
        bytes.append(contentsOf: utf8)
    }
    mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    mutating func pad(to alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }
}

/// Reads little-endian values with bounds checks; every failure names what was being read.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var offset: Int
    let end: Int

    init(_ bytes: [UInt8], from offset: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    var remaining: Int { end - offset }

    struct OutOfBounds: Error {
        var what: String
    }

    mutating func take(_ count: Int, _ what: String) throws(OutOfBounds) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw OutOfBounds(what: what) }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func u8(_ what: String) throws(OutOfBounds) -> UInt8 { try take(1, what).first! }

    mutating func u16(_ what: String) throws(OutOfBounds) -> UInt16 {
        let s = try take(2, what)
        return UInt16(s[s.startIndex]) | UInt16(s[s.startIndex + 1]) << 8
    }

    mutating func u32(_ what: String) throws(OutOfBounds) -> UInt32 {
        let s = try take(4, what)
        var v: UInt32 = 0
        for (k, b) in s.enumerated() { v |= UInt32(b) << (8 * UInt32(k)) }
        return v
    }

    mutating func u64(_ what: String) throws(OutOfBounds) -> UInt64 {
        let s = try take(8, what)
        var v: UInt64 = 0
        for (k, b) in s.enumerated() { v |= UInt64(b) << (8 * UInt64(k)) }
        return v
    }

    mutating func f64(_ what: String) throws(OutOfBounds) -> Double { Double(bitPattern: try u64(what)) }

    /// A count of items that each take at least `minimumItemSize` bytes: refused before anything is allocated
    /// when the rest of the section could not hold them (a corrupt count must not allocate gigabytes).
    mutating func count(_ what: String, minimumItemSize: Int) throws(OutOfBounds) -> Int {
        let n = Int(try u32(what))
        guard n <= remaining / max(1, minimumItemSize) else { throw OutOfBounds(what: what) }
        return n
    }

    mutating func string(_ what: String) throws(OutOfBounds) -> String? {
        let n = Int(try u32(what + " length"))
        let utf8 = try take(n, what)
        return String(validating: utf8, as: UTF8.self)
    }
}
