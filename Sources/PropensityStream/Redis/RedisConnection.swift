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
        for arguments in commands {
            // One contiguous copy of the arguments per command, and pointers into it (hiredis reads the lengths).
            var bytes: [UInt8] = []
            bytes.reserveCapacity(arguments.reduce(0) { $0 + $1.count })
            var offsets: [Int] = []
            offsets.reserveCapacity(arguments.count)
            for a in arguments {
                offsets.append(bytes.count)
                bytes += a
            }
            let lengths = arguments.map(\.count)
            let status: Int32 = bytes.withUnsafeBufferPointer { buffer in
                let base = UnsafeRawPointer(buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                var pointers = offsets.map { Optional(base.advanced(by: $0).assumingMemoryBound(to: CChar.self)) }
                return pointers.withUnsafeMutableBufferPointer { p in
                    lengths.withUnsafeBufferPointer {
                        redisAppendCommandArgv(context, Int32(arguments.count), p.baseAddress, $0.baseAddress)
                    }
                }
            }
            guard status == REDIS_OK else { throw connectionError() }
        }
        var replies: [RedisReply] = []
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw connectionError() }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            replies.append(Self.copy(reply))
            freeReplyObject(raw)
        }
        return replies
    }

    private func connectionError() -> RedisError {
        .connection(address: address, detail: context.pointee.err != 0 ? Self.errorText(context) : "no reply")
    }

    private static func errorText(_ c: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: c.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private static func copy(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
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
            return .array((0..<r.elements).map { copy(r.element[$0]!) })
        default: return .null
        }
    }
}
