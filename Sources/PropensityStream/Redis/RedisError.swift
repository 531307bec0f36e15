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
}
