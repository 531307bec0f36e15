/// Commands encoded in Redis' wire format (RESP) into one buffer as they are built, so a pipeline costs no array per
/// command or argument and reaches hiredis in one call (`RedisConnection.send`).
public struct RESPCommands: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// Each command's name, in order (for error messages).
    public private(set) var names: [String] = []

    public var count: Int { names.count }
    public var isEmpty: Bool { names.isEmpty }

    public init() {}

    /// The commands given as argument vectors (the first argument of each is its name).
    public init(_ commands: [[[UInt8]]]) {
        for arguments in commands {
            command(String(decoding: arguments.first ?? [], as: UTF8.self), arguments: arguments.count - 1)
            for a in arguments.dropFirst() { argument(a) }
        }
    }

    /// Starts command `name` followed by `arguments` arguments, which the caller then appends with `argument`.
    public mutating func command(_ name: String, arguments: Int) {
        header(0x2A, arguments + 1)  // *N
        names.append(name)
        argument(name.utf8)
    }

    public mutating func argument<Bytes: Collection>(_ value: Bytes) where Bytes.Element == UInt8 {
        header(0x24, value.count)  // $LEN
        bytes.append(contentsOf: value)
        lineEnd()
    }

    public mutating func argument(_ text: String) { argument(text.utf8) }

    public mutating func append(_ other: RESPCommands) {
        bytes += other.bytes
        names += other.names
    }

    private mutating func header(_ marker: UInt8, _ count: Int) {
        bytes.append(marker)
        bytes.append(contentsOf: String(count).utf8)
        lineEnd()
    }

    private mutating func lineEnd() {
        bytes.append(13)
        bytes.append(10)
    }
}
