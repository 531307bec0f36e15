import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import Histogram
import NIOCore
import NIOPosix
import PropensityClient
import PropensityModel
import PropensityProtocol

/// `propensity loadtest`: drives a scorer with SCORE requests and reports round-trip latency percentiles.
///
/// Open loop (`--rate R`): requests are due at a constant rate, spread over the connections, and each latency is
/// measured from the moment the request was *due*, not when it was sent — a stalled server cannot hide its stall
/// by delaying the requests behind it (no coordinated omission). Closed loop (`--rate 0`): every connection keeps
/// `--pipeline` requests in flight, for saturation throughput (`ClosedLoopLoad`, a lean epoll loop, so that the
/// generator takes as little as possible of the cores it shares with the server).
struct LoadTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest", abstract: "Measure a scorer's latency and throughput under load.")

    @Option(help: "Scorer host.") var host: String = "127.0.0.1"
    @Option(help: "Scorer port.") var port: Int = 7878
    @Option(help: "Model name on the server.") var model: String
    @Option(help: "Requests per second in total (0: closed loop, as fast as the pipeline allows).") var rate: Double = 1000
    @Option(help: "Connections.") var connections: Int = 1
    @Option(help: "Seconds of measurement.") var duration: Double = 10
    @Option(help: "Requests in flight per connection (closed loop), or the most allowed (open loop).") var pipeline: Int = 1
    @Option(help: "Rows per request.") var rows: Int = 1
    @Option(help: "File holding the server's token.") var tokenFile: String?
    @Option(help: "Seconds of warm-up before measuring.") var warmup: Double = 1
    @Option(help: "Event-loop threads of the load generator (default: one per core, at most one per connection).")
    var threads: Int?
    @Flag(help: "One connection, one request at a time, from a blocking socket (like the echo floor's client).")
    var blocking = false
    @Flag(help: "Closed loop in rounds, as redis-benchmark -P does: send --pipeline requests, wait for all their answers, repeat (default: a sliding window that refills as each answer arrives).")
    var rounds = false
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        try await reportingErrors {
            guard !rounds || rate == 0 else {
                throw CLIError("--rounds is a closed-loop pattern: use it with --rate 0 (open loop sends on schedule)")
            }
            guard connections > 0, pipeline > 0, (threads ?? 1) > 0, rows > 0, duration > 0, rate >= 0 else {
                throw CLIError("--connections, --pipeline, --threads, --rows and --duration must be positive, --rate ≥ 0")
            }
            var token: [UInt8]? = nil
            if let tokenFile {
                guard let data = FileManager.default.contents(atPath: tokenFile) else { throw CLIError("cannot read \(tokenFile)") }
                token = Array(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).utf8)
            }
            let probe = try await PropensityClient.connect(host: host, port: port, token: token)
            let info = try await probe.modelInfo(model)
            try await probe.close()

            // Requests: random rows in the model's schema (numbers around 0–10, valid category indices, 10 % missing).
            var rng = SystemRandomNumberGenerator()
            var payloads: [ByteBuffer] = []
            for _ in 0..<64 {
                var features: [Float] = []
                for _ in 0..<rows {
                    for feature in info.schema.features {
                        if Double.random(in: 0..<1, using: &rng) < 0.1 { features.append(.nan); continue }
                        if let categories = feature.kind.categories {
                            features.append(Float(Int.random(in: 0..<max(1, categories.count), using: &rng)))
                        } else {
                            features.append(Float.random(in: 0..<10, using: &rng))
                        }
                    }
                }
                var buffer = ByteBuffer()
                RequestCodec.encode(.score(ScoreRequest(
                    model: model, fingerprint: info.fingerprint, rowCount: rows, featureCount: info.schema.count,
                    features: features)), requestID: 0, into: &buffer)
                payloads.append(buffer)
            }

            if blocking {
                let result = try BlockingLoad.run(
                    host: host, port: port, token: token, payloads: payloads, warmup: warmup, duration: duration)
                try report(result.histogram, completed: result.completed, errors: result.errors, unsent: 0)
                return
            }
            let threadCount = min(connections, threads ?? System.coreCount)
            if rate == 0 {
                #if os(Linux)
                let requests = payloads.map { Array($0.readableBytesView) }
                let (host, port, connections, pipeline, rounds) = (host, port, connections, pipeline, rounds)
                let (warmup, duration) = (warmup, duration)
                let result = try await Task.detached {  // blocking loops: off the concurrency pool
                    let start = DispatchTime.now().uptimeNanoseconds
                    let measureFrom = start + UInt64(warmup * 1e9)
                    return try ClosedLoopLoad.run(
                        host: host, port: port, token: token, requests: requests, connections: connections,
                        pipeline: pipeline, rounds: rounds, threads: threadCount, measureFrom: measureFrom,
                        end: measureFrom + UInt64(duration * 1e9))
                }.value
                try report(result.histogram, completed: result.completed, errors: result.errors, unsent: 0)
                return
                #else
                throw CLIError("the closed-loop load generator (--rate 0) needs Linux (epoll)")
                #endif
            }
            let group = MultiThreadedEventLoopGroup(numberOfThreads: threadCount)
            var workers: [LoadConnection] = []
            for c in 0..<connections {
                let worker = LoadConnection(
                    payloads: payloads, pipeline: pipeline, interval: Double(connections) / rate, offset: Double(c) / rate)
                try await worker.connect(host: host, port: port, token: token, group: group)
                workers.append(worker)
            }
            let start = DispatchTime.now().uptimeNanoseconds
            let warmupEnd = start + UInt64(warmup * 1e9)
            let end = warmupEnd + UInt64(duration * 1e9)
            for worker in workers { worker.start(at: start, measureFrom: warmupEnd, until: end) }
            try await Task.sleep(nanoseconds: end - start + 500_000_000)
            var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
            var completed = 0
            var errors = 0
            var late = 0
            for worker in workers {
                let result = await worker.finish()
                histogram.add(result.histogram)
                completed += result.completed
                errors += result.errors
                late += result.unsent
            }
            try? await group.shutdownGracefully()
            try report(histogram, completed: completed, errors: errors, unsent: late)
        }
    }

    func report(_ histogram: Histogram<UInt64>, completed: Int, errors: Int, unsent late: Int) throws {
            let seconds = duration
            func us(_ p: Double) -> Double { Double(histogram.valueAtPercentile(p)) / 1000 }
            let summary: [String: Any] = [
                "model": model, "connections": connections, "pipeline": pipeline, "rounds": rounds, "rows_per_request": rows,
                "target_rate": rate, "duration_seconds": seconds, "completed": completed, "errors": errors,
                "unsent": late, "achieved_rate": Double(completed) / seconds,
                "latency_us": [
                    "p50": us(50), "p90": us(90), "p99": us(99), "p99.9": us(99.9),
                    "max": Double(histogram.max) / 1000, "mean": histogram.mean / 1000,
                ],
                // The HdrHistogram percentile spectrum: 100·(1 − 2^−k) for k = 0…16, then the maximum.
                "percentiles": (0...16).map { k -> [Double] in
                    let p = 100 * (1 - 1 / Double(1 << k))
                    return [p, us(p)]
                } + [[100, Double(histogram.max) / 1000]],
            ]
            if json {
                try printJSON(summary)
            } else {
                print("\(completed) requests in \(seconds) s: \(Int(Double(completed) / seconds)) requests/s, \(errors) errors")
                print(String(format: "latency µs: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f",
                             us(50), us(90), us(99), us(99.9), Double(histogram.max) / 1000))
            }
            if errors > 0 { throw CLIError("\(errors) requests failed") }
    }
}

/// The blocking client of `loadtest --blocking`: write a request, read its answer, repeat.
enum BlockingLoad {
    static func run(host: String, port: Int, token: [UInt8]?, payloads: [ByteBuffer], warmup: Double, duration: Double) throws
        -> (histogram: Histogram<UInt64>, completed: Int, errors: Int)
    {
        let fd = try LoadSocket.connect(host: host, port: port, token: token, nonBlocking: false)
        defer { close(fd) }
        let requests = payloads.map { Array($0.readableBytesView) }
        var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var completed = 0
        var errors = 0
        var header = [UInt8](repeating: 0, count: 12)
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
            guard sent == request.count, readFull(&header, 12) else { throw CLIError("the connection broke") }
            let length = Int(header[0]) | Int(header[1]) << 8 | Int(header[2]) << 16 | Int(header[3]) << 24
            guard length >= 8, length - 8 <= body.count, readFull(&body, length - 8) else { throw CLIError("bad answer frame") }
            let t1 = DispatchTime.now().uptimeNanoseconds
            if header[5] != Opcode.scores.rawValue { errors += 1 }
            if t0 >= measureFrom {
                completed += 1
                _ = histogram.record(t1 - t0)
            }
        }
        return (histogram, completed, errors)
    }
}

/// One connection of the open-loop load generator: sends each request when it is due, records latencies from then.
final class LoadConnection: @unchecked Sendable {
    struct Result {
        var histogram: Histogram<UInt64>
        var completed: Int
        var errors: Int
        var unsent: Int
    }

    let payloads: [ByteBuffer]
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

    init(payloads: [ByteBuffer], pipeline: Int, interval: Double, offset: Double) {
        self.due = [UInt64](repeating: 0, count: Self.ring)
        self.payloads = payloads
        self.pipeline = pipeline
        self.interval = interval
        self.offset = offset
    }

    func connect(host: String, port: Int, token: [UInt8]?, group: EventLoopGroup) async throws {
        let handler = LoadHandler(owner: self)
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
        if opcode != Opcode.scores.rawValue { errors += 1 }
        if dueAt >= measureFrom && now <= until + 1_000_000_000 {
            completed += 1
            _ = histogram.record(now - dueAt)
        }
    }

    func finish() async -> Result {
        (try? await channel.eventLoop.submit { () -> Result in
            self.stopped = true
            self.channel.close(promise: nil)
            return Result(histogram: self.histogram, completed: self.completed, errors: self.errors, unsent: self.unsent)
        }.get()) ?? Result(histogram: histogram, completed: 0, errors: 0, unsent: 0)
    }
}

/// Splits answers off the receive buffer in place (no per-answer pipeline hop), reading the clock once per read.
final class LoadHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let owner: LoadConnection
    private var partial: ByteBuffer?

    init(owner: LoadConnection) { self.owner = owner }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = unwrapInboundIn(data)
        if var held = partial {
            partial = nil
            held.writeBuffer(&input)
            input = held
        }
        let now = DispatchTime.now().uptimeNanoseconds
        do {
            while let frame = try FrameSplitter.next(from: &input, maxFrameBytes: WireProtocol.defaultMaxFrameBytes) {
                if frame.requestID == 0 { continue }  // the AUTH answer (or a connection-level error)
                owner.received(opcode: frame.opcode, requestID: frame.requestID, now: now)
            }
        } catch {
            context.close(promise: nil)
            return
        }
        if input.readableBytes > 0 {
            var held = context.channel.allocator.buffer(capacity: input.readableBytes)
            held.writeBuffer(&input)
            partial = held
        }
    }

}
