import CHiredis
import Foundation

/// A blocking connection to Redis through hiredis: commands as argument vectors (binary-safe), pipelined when sent
/// together. One thread at a time; `stream` owns one per consumer.
public final class RedisConnection {
    public let host: String
    public let port: Int
    private var context: UnsafeMutablePointer<redisContext>
    public var address: String { "\(host):\(port)" }

    /// - Parameter password: sent with AUTH after connecting (Redis `requirepass`).
    public init(host: String, port: Int, password: String? = nil, timeout: Double = 5) throws(RedisError) {
        self.host = host
        self.port = port
        let tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - floor(timeout)) * 1e6))
        guard let c = redisConnectWithTimeout(host, Int32(port), tv) else {
            throw .connection(address: "\(host):\(port)", detail: "cannot allocate a connection")
        }
        // Every stored property is set from here on, so a throw runs deinit, which frees the context.
        context = c
        if c.pointee.err != 0 {
            throw .connection(address: "\(host):\(port)", detail: Self.errorText(c))
        }
        redisSetTimeout(c, tv)
        if let password {
            let reply = try command(["AUTH", password])
            if case .error(let message) = reply { throw .refused(command: "AUTH", message: message) }
        }
    }

    deinit { redisFree(context) }

    /// Sends one command and waits for its reply (a Redis error comes back as `.error`, not thrown).
    public func command(_ arguments: [String]) throws(RedisError) -> RedisReply {
        try pipeline([arguments.map { Array($0.utf8) }])[0]
    }

    /// Sends the commands in one write, then reads their replies in order.
    public func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] {
        try send(RESPCommands(commands))
        return try receive(commands.count)
    }

    /// Writes the commands to the socket without waiting for their replies; `receive` reads them, in order.
    public func send(_ commands: RESPCommands) throws(RedisError) {
        guard !commands.isEmpty else { return }
        let status = commands.bytes.withUnsafeBytes { bytes in
            redisAppendFormattedCommand(context, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        guard status == REDIS_OK else { throw connectionError() }
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(context, &done) == REDIS_OK else { throw connectionError() }
        }
    }

    /// The next `count` replies to commands sent earlier, in order.
    public func receive(_ count: Int) throws(RedisError) -> [RedisReply] {
        var replies: [RedisReply] = []
        replies.reserveCapacity(count)
        for _ in 0..<count { replies.append(try receive { Self.copy($0) }) }
        return replies
    }

    /// The next reply as hiredis' own structure, valid only inside `body`: read without copying it.
    private func receive<T>(_ body: (UnsafePointer<redisReply>) -> T) throws(RedisError) -> T {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw connectionError() }
        defer { freeReplyObject(raw) }
        return body(UnsafePointer(raw.assumingMemoryBound(to: redisReply.self)))
    }

    /// The next reply, an XREADGROUP or XAUTOCLAIM answer, read into `StreamEntries` without building reply objects;
    /// `path` locates the entries array in it (see `StreamEntries.path`).
    public func receiveEntries(path: [Int32]) throws(RedisError) -> StreamEntries {
        let entries = StreamEntries(path: path)
        let reader = context.pointee.reader!
        let (functions, privdata) = (reader.pointee.fn, reader.pointee.privdata)
        reader.pointee.fn = streamEntryFunctions
        reader.pointee.privdata = Unmanaged.passUnretained(entries).toOpaque()
        var complete = false
        defer {
            // A reply cut short leaves a placeholder of ours in the reader: hiredis' own free function must never
            // see it (the connection is dead then anyway).
            if !complete { reader.pointee.reply = nil }
            (reader.pointee.fn, reader.pointee.privdata) = (functions, privdata)
        }
        var reply: UnsafeMutableRawPointer?
        // The reply is a placeholder pointer of hiredis' or ours: nothing to free.
        guard redisGetReply(context, &reply) == REDIS_OK else { throw connectionError() }
        complete = true
        return withExtendedLifetime(entries) { entries }
    }

    /// Reads the next `count` replies and returns the first error among them (its index and message), copying
    /// nothing else.
    public func receiveFirstError(_ count: Int) throws(RedisError) -> (index: Int, message: String)? {
        var first: (index: Int, message: String)?
        for k in 0..<count {
            let message: String? = try receive { reply in
                reply.pointee.type == REDIS_REPLY_ERROR ? Self.text(reply).map { String(decoding: $0, as: UTF8.self) } : nil
            }
            if first == nil, let message { first = (k, message) }
        }
        return first
    }

    /// A string, status or error reply's bytes, viewed in place.
    static func text(_ reply: UnsafePointer<redisReply>) -> UnsafeRawBufferPointer? {
        guard let str = reply.pointee.str else { return nil }
        return UnsafeRawBufferPointer(start: str, count: reply.pointee.len)
    }

    private func connectionError() -> RedisError {
        .connection(address: address, detail: context.pointee.err != 0 ? Self.errorText(context) : "no reply")
    }

    private static func errorText(_ c: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: c.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private static func copy(_ reply: UnsafePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        func text() -> [UInt8] {
            guard let str = r.str else { return [] }
            return Array(UnsafeRawBufferPointer(start: str, count: r.len))
        }
        switch r.type {
        case REDIS_REPLY_STATUS: return .status(String(decoding: text(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: text(), as: UTF8.self))
        case REDIS_REPLY_INTEGER: return .integer(Int(r.integer))
        case REDIS_REPLY_STRING: return .bulk(text())
        case REDIS_REPLY_ARRAY:
            return .array((0..<r.elements).map { copy(UnsafePointer(r.element[$0]!)) })
        default: return .null
        }
    }
}
