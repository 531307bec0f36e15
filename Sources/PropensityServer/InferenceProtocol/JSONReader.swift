import Foundation

/// A strict RFC 8259 reader for infer bodies, into `InferenceRequest.JSONValue`.
///
/// Foundation's JSONDecoder took 31 % of the HTTP port's CPU per one-row request (about 22 µs for a 640-byte body,
/// measured with perf under wrk); this reader does the same document in about a tenth of that. Numbers are converted
/// by the C library's `strtod` from their exact text, so every decimal reads as its nearest double (a float32 that a
/// client printed with 17 digits reads back as that float32), as JSONDecoder did. Nesting is limited to `maxDepth`.
struct JSONReader {
    typealias Value = InferenceRequest.JSONValue

    struct Invalid: Error {}

    static let maxDepth = 64

    private let bytes: UnsafeBufferPointer<UInt8>
    private var at = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// The one JSON value of `bytes` (surrounding whitespace allowed).
    static func parse(_ bytes: ArraySlice<UInt8>) throws(Invalid) -> Value {
        let result: Result<Value, Invalid> = bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(buffer)
            do {
                let value = try reader.value(depth: 0)
                reader.skipWhitespace()
                guard reader.at == buffer.count else { throw Invalid() }
                return .success(value)
            } catch {
                return .failure(Invalid())
            }
        }
        return try result.get()
    }

    private mutating func skipWhitespace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x09, 0x0A, 0x0D: at += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(Invalid) -> Value {
        skipWhitespace()
        guard at < bytes.count else { throw Invalid() }
        switch bytes[at] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(try number())
        }
    }

    private mutating func literal(_ word: StaticString) throws(Invalid) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - at >= count else { throw Invalid() }
        for k in 0..<count where bytes[at + k] != word.utf8Start[k] { throw Invalid() }
        at += count
    }

    private mutating func array(depth: Int) throws(Invalid) -> Value {
        guard depth <= Self.maxDepth else { throw Invalid() }
        at += 1  // [
        var elements: [Value] = []
        skipWhitespace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return .array(elements) }
        while true {
            elements.append(try value(depth: depth))
            skipWhitespace()
            guard at < bytes.count else { throw Invalid() }
            if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
            guard bytes[at] == UInt8(ascii: "]") else { throw Invalid() }
            at += 1
            return .array(elements)
        }
    }

    private mutating func object(depth: Int) throws(Invalid) -> Value {
        guard depth <= Self.maxDepth else { throw Invalid() }
        at += 1  // {
        var members: [String: Value] = [:]
        skipWhitespace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw Invalid() }
            let key = try string()
            skipWhitespace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw Invalid() }
            at += 1
            members[key] = try value(depth: depth)
            skipWhitespace()
            guard at < bytes.count else { throw Invalid() }
            if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
            guard bytes[at] == UInt8(ascii: "}") else { throw Invalid() }
            at += 1
            return .object(members)
        }
    }

    /// A string's contents, escapes resolved; raw control characters and invalid UTF-8 are refused.
    private mutating func string() throws(Invalid) -> String {
        at += 1  // "
        let start = at
        // The common case: no escapes, one validated copy.
        while at < bytes.count {
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") {
                guard let text = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self) else { throw Invalid() }
                at += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw Invalid() }
            at += 1
        }
        var out = Array(bytes[start..<at])
        while at < bytes.count {
            let byte = bytes[at]
            at += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: out, as: UTF8.self) else { throw Invalid() }
                return text
            case UInt8(ascii: "\\"):
                guard at < bytes.count else { throw Invalid() }
                let escape = bytes[at]
                at += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {  // a high surrogate must be followed by a low one
                        guard bytes.count - at >= 6, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else { throw Invalid() }
                        at += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw Invalid() }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw Invalid()
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw Invalid() }
                    out.append(contentsOf: String(Character(unicode)).utf8)
                default: throw Invalid()
                }
            default:
                guard byte >= 0x20 else { throw Invalid() }
                out.append(byte)
            }
        }
        throw Invalid()
    }

    private mutating func hex4() throws(Invalid) -> UInt32 {
        guard bytes.count - at >= 4 else { throw Invalid() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[at]
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw Invalid()
            }
            value = value << 4 | digit
            at += 1
        }
        return value
    }

    /// RFC 8259's number grammar, checked here; the value from strtod on exactly that text.
    private mutating func number() throws(Invalid) -> Double {
        let start = at
        func digits(_ reader: inout JSONReader) -> Int {
            let from = reader.at
            while reader.at < reader.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(reader.bytes[reader.at]) { reader.at += 1 }
            return reader.at - from
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "-") { at += 1 }
        guard at < bytes.count else { throw Invalid() }
        if bytes[at] == UInt8(ascii: "0") {
            at += 1
        } else {
            guard digits(&self) > 0 else { throw Invalid() }
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            at += 1
            guard digits(&self) > 0 else { throw Invalid() }
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            at += 1
            if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard digits(&self) > 0 else { throw Invalid() }
        }
        let length = at - start
        // strtod needs a terminated string: copy the token (short ones on the stack).
        let value: Double = withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { text in
            for k in 0..<length { text[k] = CChar(bitPattern: bytes[start + k]) }
            text[length] = 0
            return strtod(text.baseAddress!, nil)
        }
        guard value.isFinite else { throw Invalid() }  // 1e999: out of double's range
        return value
    }
}
