import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A blocking loopback TCP socket, for tests that must control exactly which bytes reach the server and when
/// (the Swift client frames and schedules its own writes).
public final class RawSocket: @unchecked Sendable {
    public let fd: Int32
    /// Closing twice would close whatever the descriptor number has been reused for since, such as a socket the
    /// server's event loop still has registered.
    private let closed = Mutex(false)

    public init(port: Int, timeoutSeconds: Int = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    /// Sends the first `count` bytes (all by default), however many calls that takes; fails on a socket error.
    public func send(_ bytes: [UInt8], count: Int? = nil) throws {
        let total = count ?? bytes.count
        var sent = 0
        while sent < total {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, total - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            sent += n
        }
    }

    /// One `recv`: the bytes read, an empty array at end of stream, or the socket error (a reset, a timeout).
    public func receive(max: Int = 65536) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max)
        let n = recv(fd, &buffer, max, 0)
        guard n >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return Array(buffer[0..<n])
    }

    /// Closes with a reset instead of an orderly end of stream, as a killed client's kernel does.
    /// Waits until the peer has shut down its sending side (Linux reports POLLRDHUP even while answers it sent
    /// before the FIN are still unread), at most `timeoutMilliseconds`; true if it did.
    public func waitForPeerHalfClose(timeoutMilliseconds: Int32 = 5000) -> Bool {
        let rdhup: Int16 = 0x2000  // POLLRDHUP, which Glibc's module leaves out (it needs _GNU_SOURCE)
        var entry = pollfd(fd: fd, events: rdhup, revents: 0)
        // A reset (the peer closed with our unread bytes in its buffer) closes the connection too.
        return poll(&entry, 1, timeoutMilliseconds) == 1 && entry.revents & (rdhup | Int16(POLLHUP)) != 0
    }

    public func resetAndClose() {
        var reset = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
        close()
    }

    public func close() {
        guard closed.withLock({ closed in defer { closed = true }; return !closed }) else { return }
        Glibc.close(fd)
    }
}

/// Runs blocking work on a thread of its own, so that it cannot starve the concurrency pool the server and the
/// test need (it has one thread per core).
public func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
