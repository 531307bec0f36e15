#if canImport(Glibc)
import Glibc
import NIOCore
import PropensityProtocol

/// The plain TCP socket of the load generator's raw paths (`--blocking`, and the closed loop).
enum LoadSocket {
    /// Connects with TCP_NODELAY, authenticates when given a token, then switches to non-blocking if asked.
    static func connect(host: String, port: Int, token: [UInt8]?, nonBlocking: Bool) throws(LoadError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoadError.cannotOpenSocket(errno: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw LoadError.cannotConnect(host: host, port: port, errno: errno)
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if let token {
            var buffer = ByteBuffer()
            RequestCodec.encode(.auth(token: token), requestID: 0, into: &buffer)
            let frame = Array(buffer.readableBytesView)
            let sent = frame.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            var header = [UInt8](repeating: 0, count: FrameHeader.size)
            guard sent == frame.count, recv(fd, &header, FrameHeader.size, Int32(MSG_WAITALL)) == FrameHeader.size,
                header.withUnsafeBytes({ FrameHeader($0)?.opcode }) == Opcode.authenticated.rawValue
            else {
                close(fd)
                throw LoadError.tokenRefused
            }
        }
        if nonBlocking { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return fd
    }
}
#endif
