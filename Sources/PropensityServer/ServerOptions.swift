import NIOSSL

/// Server settings besides the limits.
public struct ServerOptions: Sendable {
    public var limits = ServerLimits()
    /// When set, a connection must send AUTH with this token before any other request.
    public var token: [UInt8]? = nil
    public var metrics = ServerMetrics()
    /// When set, every connection is TLS (swift-nio-ssl) with this context.
    public var tls: NIOSSLContext? = nil

    public init() {}
}
