import NIOCore
import PropensityProtocol

/// Limits that protect the server from one client's bad, slow or oversized input. Every limit has a safe default.
public struct ServerLimits: Sendable {
    public var maxFrameBytes = WireProtocol.defaultMaxFrameBytes
    public var maxRowsPerRequest = 1 << 20
    /// Rows per EXPLAIN request: an explanation costs about a thousand times a score, so one request must not hold an
    /// event loop for long.
    public var maxRowsPerExplain = 1024
    /// Connections beyond this get an "overloaded" ERROR frame and are closed.
    public var maxConnections = 4096
    /// A connection that sends nothing for this long is closed.
    public var idleTimeout: TimeAmount = .seconds(300)
    /// A frame must arrive whole within this time once it has started: a client that sends half a frame and stalls
    /// is dropped, not waited on.
    public var frameTimeout: TimeAmount = .seconds(10)
    /// Unsent responses a connection may accumulate before the server stops reading its requests (backpressure:
    /// this bounds the requests in flight per connection).
    public var maxPendingResponseBytes = 4 << 20
    /// On graceful shutdown, connections still open this long after the listener closed are closed at once.
    public var shutdownTimeout: TimeAmount = .seconds(10)

    public init() {}
}
