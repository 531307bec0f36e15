#if canImport(Glibc)
import Dispatch
import Glibc
import Histogram
import PropensityProtocol

/// The blocking client (`loadtest --blocking`, the echo floor's client model): one connection, write a request, read
/// its answer, repeat; latency from before the write to after the read.
enum BlockingLoad {
    static func run(host: String, port: Int, token: [UInt8]?, requests: [[UInt8]], answer expected: UInt8, warmup: Double,
        duration: Double)
        throws(LoadError) -> LoadResult
    {
        let fd = try LoadSocket.connect(host: host, port: port, token: token, nonBlocking: false)
        defer { close(fd) }
        var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var completed = 0
        var errors = 0
        var header = [UInt8](repeating: 0, count: FrameHeader.size)
        var body = [UInt8](repeating: 0, count: 1 << 16)
        let start = DispatchTime.now().uptimeNanoseconds
        let measureFrom = start + UInt64(warmup * 1e9)
        let end = measureFrom + UInt64(duration * 1e9)
        var i = 0
        func readFull(_ buffer: inout [UInt8], _ count: Int) -> Bool {
            var got = 0
            while got < count {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, count - got, 0) }
                if n <= 0 { return false }
                got += n
            }
            return true
        }
        while true {
            let t0 = DispatchTime.now().uptimeNanoseconds
            if t0 >= end { break }
            let request = requests[i % requests.count]
            i += 1
            let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent == request.count, readFull(&header, FrameHeader.size),
                let answer = header.withUnsafeBytes({ FrameHeader($0) })
            else { throw LoadError.connectionBroke(connection: 0, errno: errno) }
            guard answer.length >= WireProtocol.headerSize, answer.payloadBytes <= body.count else {
                throw LoadError.badAnswerFrame(length: answer.length)
            }
            guard readFull(&body, answer.payloadBytes) else { throw LoadError.connectionBroke(connection: 0, errno: errno) }
            let t1 = DispatchTime.now().uptimeNanoseconds
            if answer.opcode != expected { errors += 1 }
            if t0 >= measureFrom {
                completed += 1
                _ = histogram.record(t1 - t0)
            }
        }
        return LoadResult(histogram: histogram, completed: completed, errors: errors)
    }
}
#endif
