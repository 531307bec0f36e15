import NIOConcurrencyHelpers

/// The shared secret AUTH must present, replaceable while serving (`serve` re-reads its token file on SIGHUP):
/// connections already authenticated stay so; every AUTH after the swap is checked against the new token.
public final class ServerToken: Sendable {
    private let current: NIOLockedValueBox<[UInt8]>

    public init(_ bytes: [UInt8]) { current = NIOLockedValueBox(bytes) }

    public var bytes: [UInt8] { current.withLockedValue { $0 } }

    public func replace(with bytes: [UInt8]) { current.withLockedValue { $0 = bytes } }
}
