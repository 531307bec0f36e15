/// Why a load test could not run or was cut short.
public enum LoadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A parameter out of range: which, and the range in words.
    case invalidParameter(String, requirement: String)
    case cannotOpenSocket(errno: Int32)
    case cannotConnect(host: String, port: Int, errno: Int32)
    /// The server answered AUTH with something other than AUTHENTICATED.
    case tokenRefused
    /// A connection failed mid-test (`errno` is nil when the server closed it cleanly).
    case connectionBroke(connection: Int, errno: Int32?)
    /// An answer whose frame header cannot be read (a length below the header size or beyond the buffer).
    case badAnswerFrame(length: Int)
    /// An epoll call failed.
    case eventLoop(call: String, errno: Int32)
    /// The raw closed-loop generator needs epoll (Linux).
    case unsupportedPlatform

    public var description: String {
        switch self {
        case .invalidParameter(let name, let requirement): "\(name) must be \(requirement)"
        case .cannotOpenSocket(let errno): "cannot open a socket: errno \(errno)"
        case .cannotConnect(let host, let port, let errno): "cannot connect to \(host):\(port) (errno \(errno))"
        case .tokenRefused: "the server did not accept the token"
        case .connectionBroke(let connection, nil): "the server closed connection \(connection)"
        case .connectionBroke(let connection, let errno?): "connection \(connection) broke (errno \(errno))"
        case .badAnswerFrame(let length): "bad answer frame (length \(length))"
        case .eventLoop(let call, let errno): "\(call) failed: errno \(errno)"
        case .unsupportedPlatform: "the closed-loop load generator needs Linux (epoll)"
        }
    }
}
