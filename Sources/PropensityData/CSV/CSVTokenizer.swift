/// Splits CSV bytes into records and fields without copying them.
///
/// Handles `"`-quoted fields (with `""` as an escaped quote, and delimiters or newlines inside), LF and CRLF.
struct CSVTokenizer {
    struct Field {
        var start: Int
        var end: Int
        /// The field was quoted and contains `""` escapes, so its bytes must be unescaped before use.
        var hasEscapedQuotes: Bool
    }

    let bytes: UnsafeBufferPointer<UInt8>
    let delimiter: UInt8
    private(set) var position: Int
    /// Physical line (1-based) at `position`.
    private(set) var line: Int = 1

    init(bytes: UnsafeBufferPointer<UInt8>, delimiter: UInt8, start: Int, line: Int = 1) {
        self.bytes = bytes
        self.delimiter = delimiter
        self.position = start
        self.line = line
    }

    var isAtEnd: Bool { position >= bytes.count }

    enum TokenizeError: Error {
        case unterminatedQuote(line: Int)
        case textAfterClosingQuote(line: Int)
    }

    /// Reads the next record into `fields`; returns its first physical line, or nil at end of input.
    /// Blank lines are skipped.
    mutating func nextRecord(into fields: inout [Field]) throws(TokenizeError) -> Int? {
        fields.removeAll(keepingCapacity: true)
        // Skip blank lines (including a trailing newline at the end of the file).
        while position < bytes.count, bytes[position] == 0x0A || bytes[position] == 0x0D {
            if bytes[position] == 0x0A { line += 1 }
            position += 1
        }
        if position >= bytes.count { return nil }
        let recordLine = line
        let n = bytes.count
        while true {
            if position < n, bytes[position] == 0x22 {  // quoted field
                let quoteLine = line
                var i = position + 1
                let start = i
                var escaped = false
                while true {
                    guard i < n else { throw .unterminatedQuote(line: quoteLine) }
                    let b = bytes[i]
                    if b == 0x22 {
                        if i + 1 < n, bytes[i + 1] == 0x22 {
                            escaped = true
                            i += 2
                            continue
                        }
                        break
                    }
                    if b == 0x0A { line += 1 }
                    i += 1
                }
                fields.append(Field(start: start, end: i, hasEscapedQuotes: escaped))
                i += 1  // closing quote
                // Allow trailing spaces before the delimiter; anything else is malformed.
                while i < n, bytes[i] == 0x20 { i += 1 }
                position = i
                if i < n, bytes[i] != delimiter, bytes[i] != 0x0A, bytes[i] != 0x0D {
                    throw .textAfterClosingQuote(line: line)
                }
            } else {
                var i = position
                while i < n {
                    let b = bytes[i]
                    if b == delimiter || b == 0x0A || b == 0x0D { break }
                    i += 1
                }
                fields.append(Field(start: position, end: i, hasEscapedQuotes: false))
                position = i
            }
            if position >= n { return recordLine }
            let b = bytes[position]
            if b == delimiter {
                position += 1
                if position >= n {  // a trailing delimiter ends with an empty field
                    fields.append(Field(start: position, end: position, hasEscapedQuotes: false))
                    return recordLine
                }
                continue
            }
            // End of record: CRLF or LF (a lone CR is accepted as a line end too).
            if b == 0x0D { position += 1 }
            if position < n, bytes[position] == 0x0A {
                position += 1
                line += 1
            }
            return recordLine
        }
    }

    /// Picks `,`, `;` or tab: whichever occurs most, outside quotes, in the header line.
    static func detectDelimiter(_ bytes: UnsafeBufferPointer<UInt8>, start: Int) -> UInt8 {
        var counts: [UInt8: Int] = [0x2C: 0, 0x3B: 0, 0x09: 0]
        var inQuotes = false
        var i = start
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x22 { inQuotes.toggle() }
            if !inQuotes {
                if b == 0x0A || b == 0x0D { break }
                if counts[b] != nil { counts[b]! += 1 }
            }
            i += 1
        }
        let best = counts.max { a, b in a.value == b.value ? a.key > b.key : a.value < b.value }!
        return best.value == 0 ? 0x2C : best.key
    }
}
