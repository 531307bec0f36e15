/// A small JSON writer for the protocol's answers: strings escaped per RFC 8259, floats in their shortest
/// round-trip form (so a client reads back the very float32 or float64 the scorer produced).
struct JSONText {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for unit in text.utf8 {
            switch unit {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                raw("\\u00")
                bytes.append(hex[Int(unit >> 4)])
                bytes.append(hex[Int(unit & 15)])
            default: bytes.append(unit)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `"key":` (after a comma unless `first`).
    mutating func key(_ name: String, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Finite values only (probabilities and contributions always are); anything else is written as null.
    mutating func number<F: BinaryFloatingPoint & LosslessStringConvertible>(_ value: F) {
        if value.isFinite { raw(value.description) } else { raw("null") }
    }

    mutating func integers(_ values: [Int]) {
        raw("[")
        for (i, v) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            raw(String(v))
        }
        raw("]")
    }
}
