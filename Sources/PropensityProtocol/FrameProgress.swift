import NIOCore

/// Whether a connection has part of a frame buffered, and since when. Touched only on the connection's event loop.
public final class FrameProgress: @unchecked Sendable {
    public var partialSince: NIODeadline?
    public init() {}
}
