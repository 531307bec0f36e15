import NIOSSL

/// Server settings besides the limits.
public struct ServerOptions: Sendable {
    public var limits = ServerLimits()
    /// When set, a connection must send AUTH with this token before any other request.
    public var token: [UInt8]? = nil
    /// Limits on wrong tokens (per connection, per address) and how their audit lines are aggregated.
    public var auth = AuthGuard.Settings()
    public var metrics = ServerMetrics()
    /// When set, every connection is TLS (swift-nio-ssl) with this context.
    public var tls: NIOSSLContext? = nil

    public init() {}
}
