#if os(Linux)
import CEpoll
import Glibc
import Dispatch
import Foundation
import Histogram
import Synchronization
import PropensityProtocol

/// The closed-loop driver of `loadtest --rate 0`: raw non-blocking sockets and one epoll loop per thread, as
/// redis-benchmark, wrk and memtier drive their servers.
///
/// Why not SwiftNIO, which the rest of the CLI and the server use: on a two-core machine the generator and the server
/// share the cores, so every microsecond the generator spends per request is taken from the server it measures. At
/// 50 connections × 16 pipelined the NIO client cost about 0.8 µs of CPU per request (0.35 of it in user space),
/// redis-benchmark about 0.7 (0.08 user), this loop about 0.5 (0.06 user). Per read it does what redis-benchmark
/// does: one `read`, frames parsed in place, the next requests copied into one buffer, one `write`.
enum ClosedLoopLoad {
    /// Keeps `pipeline` requests in flight on every connection until `end` (a sliding window refilled as each answer
    /// arrives, or with `rounds`, the next `pipeline` once the last round is all answered), spreading the connections
    /// over `threads` epoll loops. Latency is measured from a request's send to the read that brought its answer.
    static func run(
        host: String, port: Int, token: [UInt8]?, requests: [[UInt8]], answer: UInt8, connections: Int, pipeline: Int,
        rounds: Bool, threads: Int, measureFrom: UInt64, end: UInt64
    ) throws -> LoadResult {
        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        for _ in 0..<connections { sockets.append(try LoadSocket.connect(host: host, port: port, token: token, nonBlocking: true)) }
        let loops = max(1, min(threads, connections))
        let results = Mutex([Result<LoadResult, any Error>?](repeating: nil, count: loops))
        let all = sockets
        let done = DispatchGroup()
        for t in 0..<loops {
            // A thread per loop, whatever the core count (a dispatch pool would run loops beyond it one after another).
            done.enter()
            Thread {
                let mine = stride(from: t, to: all.count, by: loops).map { (fd: all[$0], index: $0) }
                let result = Result {
                    try EventLoop(sockets: mine, requests: requests, answer: answer, pipeline: pipeline, rounds: rounds)
                        .run(measureFrom: measureFrom, end: end)
                }
                results.withLock { $0[t] = result }
                done.leave()
            }.start()
        }
        done.wait()
        var total = LoadResult()
        for result in results.withLock({ $0 }) {
            total.add(try result!.get())
        }
        return total
    }

    /// One connection's state: touched only by its loop's thread.
    final class Connection {
        let fd: Int32
        let index: Int
        /// Send time per id slot (id & mask). Answers come back in request order, so a ring the size of the pipeline
        /// (rounded up to a power of two) never overwrites a slot still in flight.
        var sentAt: [UInt64]
        let mask: Int
        var nextID: UInt32 = 1
        var inFlight = 0
        var sent = 0
        /// Bytes to write, from `pendingStart`.
        var pending: [UInt8] = []
        var pendingStart = 0
        /// Registered for EPOLLOUT: a write is unfinished (a write refused outright leaves `pendingStart` at 0, so
        /// that cannot tell).
        var watchingWritable = false
        /// Bytes read and not yet parsed: `input[inputStart..<inputEnd]`.
        var input = [UInt8](repeating: 0, count: 1 << 16)
        var inputStart = 0
        var inputEnd = 0

        init(fd: Int32, index: Int, pipeline: Int, requestBytes: Int) {
            self.fd = fd
            self.index = index
            var slots = 1
            while slots < pipeline { slots <<= 1 }
            mask = slots - 1
            sentAt = [UInt64](repeating: 0, count: slots)
            pending.reserveCapacity(requestBytes * pipeline)
        }

        /// Appends a request to the write buffer under a fresh id.
        func enqueue(_ request: [UInt8], at time: UInt64) {
            let id = nextID
            nextID = id == UInt32.max ? 1 : id + 1
            sentAt[Int(id) & mask] = time
            sent += 1
            inFlight += 1
            let at = pending.count
            pending.append(contentsOf: request)
            pending.withUnsafeMutableBytes { $0.storeBytes(of: id.littleEndian, toByteOffset: at + 8, as: UInt32.self) }
        }

        /// Writes what is pending; false when the socket buffer filled first (the rest waits for EPOLLOUT).
        func flush() throws -> Bool {
            let count = pending.count - pendingStart
            guard count > 0 else { return true }
            let start = pendingStart
            let n = pending.withUnsafeBytes { send(fd, $0.baseAddress! + start, count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno != EAGAIN && errno != EINTR {
                throw LoadError.connectionBroke(connection: index, errno: errno)
            }
            guard n == count else {
                pendingStart += max(0, n)
                return false
            }
            pending.removeAll(keepingCapacity: true)
            pendingStart = 0
            return true
        }

        /// One `recv`, then every whole answer in the buffer: `answer(opcode, id)` for each. Returns how many.
        func read(_ answer: (UInt8, UInt32) -> Void) throws -> Int {
            if inputEnd == input.count {
                if inputStart > 0 {  // move the partial frame to the front
                    let start = inputStart
                    input.withUnsafeMutableBytes { b in _ = memmove(b.baseAddress!, b.baseAddress! + start, inputEnd - start) }
                    inputEnd -= start
                    inputStart = 0
                } else {  // a frame larger than the buffer
                    input += [UInt8](repeating: 0, count: input.count)
                }
            }
            let end = inputEnd
            let n = input.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + end, $0.count - end, 0) }
            if n == 0 { throw LoadError.connectionBroke(connection: index, errno: nil) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { return 0 }
                throw LoadError.connectionBroke(connection: index, errno: errno)
            }
            inputEnd += n
            var answered = 0
            input.withUnsafeBytes { bytes in
                let filled = UnsafeRawBufferPointer(rebasing: bytes[..<inputEnd])
                while let header = FrameHeader(filled, at: inputStart), inputEnd - inputStart >= header.frameBytes {
                    inputStart += header.frameBytes
                    answered += 1
                    answer(header.opcode, header.requestID)
                }
            }
            if inputStart == inputEnd {
                inputStart = 0
                inputEnd = 0
            }
            return answered
        }
    }

    /// One thread's connections and their epoll set.
    final class EventLoop {
        let epoll: Int32
        let connections: [Connection]
        let requests: [[UInt8]]
        let pipeline: Int
        let rounds: Bool
        /// The opcode every answer must carry.
        let answer: UInt8
        var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var completed = 0
        var errors = 0

        init(sockets: [(fd: Int32, index: Int)], requests: [[UInt8]], answer: UInt8, pipeline: Int, rounds: Bool) throws {
            epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
            guard epoll >= 0 else { throw LoadError.eventLoop(call: "epoll_create1", errno: errno) }
            let longest = requests.map(\.count).max() ?? 0
            connections = sockets.map { Connection(fd: $0.fd, index: $0.index, pipeline: pipeline, requestBytes: longest) }
            self.requests = requests
            self.pipeline = pipeline
            self.rounds = rounds
            self.answer = answer
            for (slot, c) in connections.enumerated() {
                var event = epoll_event()
                event.events = EPOLLIN.rawValue
                event.data.u64 = UInt64(slot)
                guard epoll_ctl(epoll, EPOLL_CTL_ADD, c.fd, &event) == 0 else {
                    throw LoadError.eventLoop(call: "epoll_ctl", errno: errno)
                }
            }
        }

        deinit { close(epoll) }

        func run(measureFrom: UInt64, end: UInt64) throws -> LoadResult {
            let start = DispatchTime.now().uptimeNanoseconds
            for slot in connections.indices {
                for _ in 0..<pipeline { enqueue(slot, at: start) }
                try flush(slot)
            }
            var events = [epoll_event](repeating: epoll_event(), count: 64)
            // After `end` no new requests go out; answers still owed are awaited for up to a second.
            let drainLimit = end + 1_000_000_000
            while true {
                let time = DispatchTime.now().uptimeNanoseconds
                if time >= drainLimit || (time >= end && connections.allSatisfy { $0.inFlight == 0 }) { break }
                let ready = epoll_wait(epoll, &events, Int32(events.count), 100)
                if ready < 0 {
                    if errno == EINTR { continue }
                    throw LoadError.eventLoop(call: "epoll_wait", errno: errno)
                }
                for e in events[0..<Int(ready)] {
                    let slot = Int(e.data.u64)
                    if e.events & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                        try read(slot, measureFrom: measureFrom, end: end)
                    }
                    try flush(slot)
                }
            }
            return LoadResult(histogram: histogram, completed: completed, errors: errors)
        }

        private func enqueue(_ slot: Int, at time: UInt64) {
            let c = connections[slot]
            c.enqueue(requests[c.sent % requests.count], at: time)
        }

        private func flush(_ slot: Int) throws {
            let c = connections[slot]
            let done = try c.flush()
            guard done == c.watchingWritable else { return }
            // Watch for room in the socket buffer only while a write is unfinished.
            c.watchingWritable = !done
            var event = epoll_event()
            event.events = EPOLLIN.rawValue | (done ? 0 : EPOLLOUT.rawValue)
            event.data.u64 = UInt64(slot)
            _ = epoll_ctl(epoll, EPOLL_CTL_MOD, c.fd, &event)
        }

        /// The answers of one read arrived together: one clock reading for all of them. Each is replaced by a new
        /// request (or, with rounds, the next round goes out once the last one is all answered).
        private func read(_ slot: Int, measureFrom: UInt64, end: UInt64) throws {
            let c = connections[slot]
            let time = DispatchTime.now().uptimeNanoseconds
            let answered = try c.read { opcode, id in
                if opcode != answer || id == 0 { errors += 1 }
                let sentAt = c.sentAt[Int(id) & c.mask]
                if sentAt >= measureFrom && time <= end + 1_000_000_000 {
                    completed += 1
                    _ = histogram.record(time - sentAt)
                }
            }
            c.inFlight -= answered
            guard time < end, answered > 0 else { return }
            if !rounds {
                for _ in 0..<answered { enqueue(slot, at: time) }
            } else if c.inFlight == 0 {
                for _ in 0..<pipeline { enqueue(slot, at: time) }
            }
        }
    }
}
#endif
