/// A Redis failure: the connection (reconnect and retry) or a command Redis refused (the command is wrong).
public enum RedisError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Could not connect, or the connection broke (`detail` from hiredis).
    case connection(address: String, detail: String)
    /// Redis answered with an error (e.g. `NOGROUP`, `WRONGPASS`).
    case refused(command: String, message: String)

    public var description: String {
        switch self {
        case .connection(let address, let detail): "redis \(address): \(detail)"
        case .refused(let command, let message): "redis refused \(command): \(message)"
        }
    }

    /// Worth reconnecting for (as opposed to a wrong command or credentials).
    public var isConnectionLoss: Bool {
        if case .connection = self { return true }
        return false
    }

    /// Redis is up but not ready yet: loading its data after a restart (`LOADING`), a replica without its primary
    /// (`MASTERDOWN`), a script still running (`BUSY`), a cluster reconfiguring (`TRYAGAIN`, `CLUSTERDOWN`).
    public var isTransient: Bool {
        guard case .refused(_, let message) = self else { return false }
        return Self.transientPrefixes.contains { message.hasPrefix($0) }
    }

    /// Reconnect and retry: the connection was lost or Redis is not ready yet.
    public var isRetryable: Bool { isConnectionLoss || isTransient }

    static let transientPrefixes = ["LOADING", "MASTERDOWN", "BUSY ", "TRYAGAIN", "CLUSTERDOWN"]
}
