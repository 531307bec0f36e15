import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Open connections of one listener against its limit. Admission is decided once per connection, in its
/// initializer (on the connection's event loop), and released when it closes.
package final class ConnectionCount: Sendable {
    private let count = NIOLockedValueBox(0)
    package let limit: Int

    package init(limit: Int) { self.limit = limit }

    package var value: Int { count.withLockedValue { $0 } }

    /// Counts `channel` in when there is room and counts it out when it closes; false (and not counted) otherwise.
    /// `changed` sees the new count either way round.
    package func admit(_ channel: Channel, changed: @escaping @Sendable (Int) -> Void = { _ in }) -> Bool {
        let open = count.withLockedValue { count -> Int? in
            guard count < limit else { return nil }
            count += 1
            return count
        }
        guard let open else { return false }
        changed(open)
        channel.closeFuture.whenComplete { _ in changed(self.count.withLockedValue { $0 -= 1; return $0 }) }
        return true
    }
}

extension ServerBootstrap {
    /// Out of descriptors (EMFILE/ENFILE), accepting pauses for a second instead of spinning on the error. The
    /// `bind(host:port:)` path of NIO does not install this by itself.
    func backingOffWhenOutOfDescriptors() -> ServerBootstrap {
        serverChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(AcceptBackoffHandler())
            }
        }
    }
}
