import Dispatch
import Histogram
import NIOCore
import NIOPosix
import PropensityProtocol

/// One connection of the open-loop load generator: sends each request when it is due, records latencies from then.
final class OpenLoopConnection: @unchecked Sendable {
    let payloads: [ByteBuffer]
    /// The opcode every answer must carry.
    let answer: UInt8
    let pipeline: Int
    let interval: Double
    let offset: Double
    var channel: Channel!
    // Touched only on the channel's event loop.
    var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
    /// Due time per request id slot (ids cycle through the ring; 0 = free).
    var due: [UInt64]
    var inFlight = 0
    var nextID: UInt32 = 1
    var sent = 0
    var completed = 0
    var errors = 0
    var unsent = 0
    var measureFrom: UInt64 = 0
    var until: UInt64 = 0
    var start: UInt64 = 0
    var stopped = false

    static let ring = 1 << 16

    init(payloads: [ByteBuffer], answer: UInt8, pipeline: Int, interval: Double, offset: Double) {
        self.answer = answer
        self.due = [UInt64](repeating: 0, count: Self.ring)
        self.payloads = payloads
        self.pipeline = pipeline
        self.interval = interval
        self.offset = offset
    }

    func connect(host: String, port: Int, token: [UInt8]?, group: EventLoopGroup) async throws {
        let handler = OpenLoopHandler(owner: self)
        channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: host, port: port).get()
        if let token {
            var buffer = channel.allocator.buffer(capacity: 64)
            RequestCodec.encode(.auth(token: token), requestID: 0, into: &buffer)
            try await channel.writeAndFlush(buffer)
        }
    }

    func start(at start: UInt64, measureFrom: UInt64, until: UInt64) {
        channel.eventLoop.execute {
            self.start = start
            self.measureFrom = measureFrom
            self.until = until
            self.scheduleNext()
        }
    }

    /// Open loop: the k-th request of this connection is due at start + offset + k·interval.
    private func scheduleNext() {
        let dueAt = start + UInt64((offset + Double(sent + unsent) * interval) * 1e9)
        guard dueAt < until, !stopped else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        if dueAt <= now {
            if inFlight < pipeline { send(due: dueAt) } else { unsent += 1 }  // the pipeline is full: report it
            channel.flush()
            channel.eventLoop.execute { self.scheduleNext() }
        } else {
            channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(dueAt - now))) { self.scheduleNext() }
        }
    }

    private func send(due dueAt: UInt64) {
        let id = nextID
        nextID = nextID == UInt32(Self.ring - 1) ? 1 : nextID + 1
        var buffer = payloads[sent % payloads.count]
        buffer.setInteger(id, at: 8, endianness: .little)
        due[Int(id)] = max(dueAt, 1)
        inFlight += 1
        sent += 1
        channel.write(buffer, promise: nil)
    }

    /// An answer arrived at `now` (one clock reading per read: answers of one read arrived together).
    func received(opcode: UInt8, requestID: UInt32, now: UInt64) {
        let slot = Int(requestID)
        guard slot < Self.ring, due[slot] != 0 else { return }
        let dueAt = due[slot]
        due[slot] = 0
        inFlight -= 1
        if opcode != answer { errors += 1 }
        if dueAt >= measureFrom && now <= until + 1_000_000_000 {
            completed += 1
            _ = histogram.record(now - dueAt)
        }
    }

    func finish() async -> LoadResult {
        (try? await channel.eventLoop.submit { () -> LoadResult in
            self.stopped = true
            self.channel.close(promise: nil)
            return LoadResult(
                histogram: self.histogram, completed: self.completed, errors: self.errors, unsent: self.unsent)
        }.get()) ?? LoadResult()
    }
}
