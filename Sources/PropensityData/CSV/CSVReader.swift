import Foundation

/// How to read a CSV file into a `Table`.
/// How far a read has come: bytes of the file parsed and data rows found so far.
public struct CSVReadProgress: Sendable {
    public var bytesRead: Int
    public var bytesTotal: Int
    public var rows: Int
}

public struct CSVOptions: Sendable {
    /// Field delimiter; nil detects `,`, `;` or tab from the header line.
    public var delimiter: UInt8?
    /// Columns to skip entirely (e.g. leakage columns). Naming a column that does not exist is an error.
    public var drop: [String]
    /// Columns read as categories even when every value is a number (e.g. integer-coded browser ids).
    public var categorical: [String]
    /// Columns that must be numeric: a value that is not a number is an error, not a reason to switch kind.
    public var numeric: [String]
    /// Columns that must exist in the file.
    public var required: [String]
    /// Read only these columns (plus `required`); nil reads every column.
    public var only: [String]?
    /// Called about every megabyte of the first pass, and once at its end, for progress output.
    public var progress: (@Sendable (CSVReadProgress) -> Void)?

    public init(
        delimiter: UInt8? = nil, drop: [String] = [], categorical: [String] = [], numeric: [String] = [],
        required: [String] = [], only: [String]? = nil
    ) {
        self.delimiter = delimiter
        self.drop = drop
        self.categorical = categorical
        self.numeric = numeric
        self.required = required
        self.only = only
    }
}

/// Reads CSV files into typed tables.
///
/// Kinds are detected in one pass: a column is numeric while every non-missing value parses as a number; the first
/// value that does not turns it categorical, and such columns are re-read in a second pass. Missing values are the
/// empty field, `NA`, `NaN`, `?` and `null` (any case).
public enum CSVReader {
    public static func read(file path: String, options: CSVOptions = CSVOptions()) throws(CSVError) -> Table {
        let file: MappedFile
        do {
            file = try MappedFile(path: path)
        } catch {
            throw CSVError(file: path, message: error == .missing ? "no such file" : "cannot read file")
        }
        var parser = CSVParser(bytes: file.bytes, source: path, options: options)
        parser.mappedFile = file
        return try parser.run()
    }

    public static func parse(_ text: String, source: String = "<memory>", options: CSVOptions = CSVOptions())
        throws(CSVError) -> Table
    {
        try parse(Array(text.utf8), source: source, options: options)
    }

    public static func parse(_ bytes: [UInt8], source: String, options: CSVOptions) throws(CSVError) -> Table {
        do {
            return try bytes.withUnsafeBufferPointer { buffer throws(CSVError) in
                var parser = CSVParser(bytes: buffer, source: source, options: options)
                return try parser.run()
            }
        }
    }
}

/// The state of one file being parsed; see `CSVReader`.
private struct CSVParser {
    enum ColumnState {
        case skipped
        case numeric(forced: Bool)
        case categorical(interner: [String: Int32])
        case needsReparse
    }

    let bytes: UnsafeBufferPointer<UInt8>
    let source: String
    let options: CSVOptions
    /// Set when the bytes are a file mapping, whose consumed pages may be released.
    var mappedFile: MappedFile? = nil
    var scratch: [UInt8] = []
    /// strtod needs a NUL-terminated copy; one buffer serves every field.
    let numberBuffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: 128)

    init(bytes: UnsafeBufferPointer<UInt8>, source: String, options: CSVOptions) {
        self.bytes = bytes
        self.source = source
        self.options = options
    }

    func error(_ line: Int?, _ column: String?, _ message: String) -> CSVError {
        CSVError(file: source, line: line, column: column, message: message)
    }

    mutating func run() throws(CSVError) -> Table {
        defer { numberBuffer.deallocate() }
        var start = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { start = 3 }  // UTF-8 BOM
        let delimiter = options.delimiter ?? CSVTokenizer.detectDelimiter(bytes, start: start)
        var tokenizer = CSVTokenizer(bytes: bytes, delimiter: delimiter, start: start)
        var fields: [CSVTokenizer.Field] = []

        guard try next(&tokenizer, &fields) != nil else { throw error(nil, nil, "empty file (no header row)") }
        var header: [String] = []
        for (i, field) in fields.enumerated() {
            header.append(try validText(field, line: 1, column: nil, what: "header field \(i + 1)").trimmingCharacters(in: .whitespaces))
        }
        try validate(header: header)

        let wanted: Set<String>? = options.only.map { Set($0).union(options.required) }
        var columns: [Column] = []
        var states: [ColumnState] = []
        let forcedCategorical = Set(options.categorical)
        let forcedNumeric = Set(options.numeric)
        let dropped = Set(options.drop)
        for name in header {
            if dropped.contains(name) || (wanted.map { !$0.contains(name) } ?? false) {
                states.append(.skipped)
                columns.append(Column(name: name, kind: .numeric))
            } else if forcedCategorical.contains(name) {
                states.append(.categorical(interner: [:]))
                columns.append(Column(name: name, kind: .categorical))
            } else {
                states.append(.numeric(forced: forcedNumeric.contains(name)))
                columns.append(Column(name: name, kind: .numeric))
            }
        }

        let dataStart = tokenizer.position
        let dataStartLine = tokenizer.line
        // Reserve from the first data line's length so columns do not regrow (each regrowth copies and faults in
        // fresh pages).
        let firstLineLength = max(1, (bytes[dataStart...].firstIndex(of: 0x0A) ?? bytes.count) - dataStart + 1)
        let estimatedRows = (bytes.count - dataStart) / firstLineLength + 16
        for c in columns.indices {
            switch states[c] {
            case .numeric: columns[c].numbers.reserveCapacity(estimatedRows)
            case .categorical: columns[c].codes.reserveCapacity(estimatedRows)
            default: break
            }
        }
        var rowLines: [Int] = []
        var firstText = [Int](repeating: 0, count: header.count)  // where a numeric column met its first non-number
        var released = 0
        var reported = 0
        while let line = try next(&tokenizer, &fields) {
            if tokenizer.position - released >= Self.releaseChunk {
                released = releaseConsumed(upTo: tokenizer.position, from: released)
            }
            if let progress = options.progress, tokenizer.position - reported >= 1 << 20 {
                reported = tokenizer.position
                progress(CSVReadProgress(bytesRead: reported, bytesTotal: bytes.count, rows: rowLines.count))
            }
            guard fields.count == header.count else {
                throw error(line, nil, "expected \(header.count) fields (as in the header), found \(fields.count)")
            }
            rowLines.append(line)
            for c in 0..<fields.count {
                switch states[c] {
                case .skipped, .needsReparse:
                    continue
                case .numeric(let forced):
                    let field = fields[c]
                    if isMissing(field) {
                        columns[c].numbers.append(.nan)
                        if columns[c].firstMissingLine == nil { columns[c].firstMissingLine = line }
                    } else if let value = number(field) {
                        // Beyond float32's range this is ±inf; whoever uses the column as an input refuses it.
                        columns[c].numbers.append(Float(value))
                    } else if forced {
                        throw error(line, header[c], "value is not a number (the column is numeric)")
                    } else {
                        states[c] = .needsReparse
                        firstText[c] = line
                        columns[c].numbers = []
                    }
                case .categorical(var interner):
                    states[c] = .skipped  // release the dictionary's storage so the append below does not copy it
                    try intern(fields[c], line: line, into: &columns[c], interner: &interner)
                    states[c] = .categorical(interner: interner)
                }
            }
        }
        if rowLines.isEmpty { throw error(nil, nil, "no data rows after the header") }
        options.progress?(CSVReadProgress(bytesRead: bytes.count, bytesTotal: bytes.count, rows: rowLines.count))

        let reparse = states.indices.filter { if case .needsReparse = states[$0] { return true } else { return false } }
        if !reparse.isEmpty {
            for c in reparse {
                columns[c].kind = .categorical
                columns[c].firstMissingLine = nil
            }
            var interners = [[String: Int32]](repeating: [:], count: reparse.count)
            var numbers = [Int](repeating: 0, count: reparse.count)
            var values = [Int](repeating: 0, count: reparse.count)
            var second = CSVTokenizer(bytes: bytes, delimiter: delimiter, start: dataStart, line: dataStartLine)
            while let line = try next(&second, &fields) {
                for (k, c) in reparse.enumerated() {
                    if !isMissing(fields[c]) {
                        values[k] += 1
                        if number(fields[c]) != nil { numbers[k] += 1 }
                    }
                    try intern(fields[c], line: line, into: &columns[c], interner: &interners[k])
                }
            }
            // A column of numbers with a few values that are not is almost always damage (a stray quote, `inf`),
            // and reading it as categories would silently turn every distinct number into a category. Unless the
            // caller named it categorical, such a column is refused at its first non-number.
            for (k, c) in reparse.enumerated() where numbers[k] * 2 > values[k] {
                throw CSVError(
                    file: source, line: firstText[c], column: header[c],
                    message: "value is not a number, yet \(numbers[k]) of the column's \(values[k]) values are; fix it, "
                        + "or name the column categorical to read every value as a category",
                    setting: .categorical)
            }
        }

        let result = states.indices.compactMap { c -> Column? in
            if case .skipped = states[c] { return nil }
            return columns[c]
        }
        for name in options.required where !result.contains(where: { $0.name == name }) {
            throw error(nil, name, "is needed but was dropped")
        }
        return Table(source: source, columns: result, rowCount: rowLines.count, rowLines: rowLines)
    }

    /// Bytes parsed between hints to the kernel that the mapped file's consumed pages can be dropped.
    static let releaseChunk = 32 << 20

    /// Lets the kernel drop the mapped file's pages before `position`: the first pass never looks back, so loading
    /// a file costs its columns, not its columns plus the file. Returns the new released mark.
    func releaseConsumed(upTo position: Int, from released: Int) -> Int {
        mappedFile?.release(released..<position)
        return position
    }

    func validate(header: [String]) throws(CSVError) {
        var seen = Set<String>()
        for (i, name) in header.enumerated() {
            if name.isEmpty { throw error(1, nil, "header field \(i + 1) is empty") }
            if !seen.insert(name).inserted { throw error(1, name, "appears twice in the header") }
        }
        let names = Set(header)
        for name in options.required where !names.contains(name) {
            throw error(nil, nil, "no column named '\(Self.clipped(name))' among the header's \(header.count) columns")
        }
        for (setting, list) in [(CSVError.Setting.drop, options.drop), (.categorical, options.categorical),
                                (.numeric, options.numeric)] {
            for name in list where !names.contains(name) {
                throw CSVError(
                    file: source,
                    message: "the \(setting) list names '\(Self.clipped(name))', which is not among the header's \(header.count) columns",
                    setting: setting)
            }
        }
        for name in options.categorical where options.numeric.contains(name) {
            throw error(nil, name, "is named both categorical and numeric")
        }
    }

    mutating func next(_ tokenizer: inout CSVTokenizer, _ fields: inout [CSVTokenizer.Field]) throws(CSVError) -> Int? {
        do {
            return try tokenizer.nextRecord(into: &fields)
        } catch {
            switch error {
            case .unterminatedQuote(let line): throw self.error(line, nil, "quoted field is never closed")
            case .textAfterClosingQuote(let line): throw self.error(line, nil, "text after a closing quote")
            }
        }
    }

    /// Field bytes with surrounding spaces trimmed and `""` unescaped.
    mutating func withFieldBytes<R>(_ field: CSVTokenizer.Field, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        var s = field.start
        var e = field.end
        while s < e, bytes[s] == 0x20 || bytes[s] == 0x09 { s += 1 }
        while e > s, bytes[e - 1] == 0x20 || bytes[e - 1] == 0x09 { e -= 1 }
        if !field.hasEscapedQuotes {
            return body(UnsafeBufferPointer(rebasing: bytes[s..<e]))
        }
        scratch.removeAll(keepingCapacity: true)
        var i = s
        while i < e {
            scratch.append(bytes[i])
            i += (bytes[i] == 0x22 && i + 1 < e && bytes[i + 1] == 0x22) ? 2 : 1
        }
        return scratch.withUnsafeBufferPointer(body)
    }

    /// The field as text; an error naming line and column when it is not valid UTF-8 or holds a NUL byte (text
    /// that would be silently altered, or cut short by C code downstream).
    mutating func validText(_ field: CSVTokenizer.Field, line: Int, column: String?, what: String) throws(CSVError)
        -> String
    {
        let decoded: String?? = withFieldBytes(field) { bytes in
            bytes.contains(0) ? .some(nil) : String(validating: bytes, as: UTF8.self).map { .some($0) } ?? nil
        }
        switch decoded {
        case .some(.some(let text)): return text
        case .some(.none): throw error(line, column, "\(what) holds a NUL byte")
        case .none: throw error(line, column, "\(what) is not valid UTF-8 (save the file as UTF-8)")
        }
    }

    /// A name as messages quote it: a long one is cut, so an error never repeats a whole (possibly huge) input.
    static func clipped(_ name: String) -> String {
        name.count <= 64 ? name : String(name.prefix(63)) + "…"
    }

    mutating func isMissing(_ field: CSVTokenizer.Field) -> Bool {
        withFieldBytes(field) { MissingValue.matches($0) }
    }

    /// Parses a decimal number (`12`, `-0.5`, `1e-3`); nil for anything else, including `inf` and hex.
    mutating func number(_ field: CSVTokenizer.Field) -> Double? {
        let numberBuffer = self.numberBuffer
        return withFieldBytes(field) { DecimalParser.parse($0, scratch: numberBuffer) }
    }

    mutating func intern(
        _ field: CSVTokenizer.Field, line: Int, into column: inout Column, interner: inout [String: Int32]
    ) throws(CSVError) {
        if isMissing(field) {
            column.codes.append(-1)
            if column.firstMissingLine == nil { column.firstMissingLine = line }
            return
        }
        let value = try validText(field, line: line, column: column.name, what: "the value")
        if let code = interner[value] {
            column.codes.append(code)
        } else {
            let code = Int32(column.categories.count)
            interner[value] = code
            column.categories.append(value)
            column.categoryFirstLine.append(line)
            column.codes.append(code)
        }
    }
}

/// The spellings that mean "no value".
public enum MissingValue {
    public static let spellings = ["", "NA", "NaN", "?", "null"]

    static func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        switch bytes.count {
        case 0: return true
        case 1: return bytes[0] == 0x3F
        case 2: return lower(bytes[0]) == 0x6E && lower(bytes[1]) == 0x61  // na
        case 3: return lower(bytes[0]) == 0x6E && lower(bytes[1]) == 0x61 && lower(bytes[2]) == 0x6E  // nan
        case 4:
            return lower(bytes[0]) == 0x6E && lower(bytes[1]) == 0x75 && lower(bytes[2]) == 0x6C
                && lower(bytes[3]) == 0x6C  // null
        default: return false
        }
    }

    private static func lower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b + 32 : b }
}
