import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import PropensityLoad
import NIOConcurrencyHelpers
import NIOPosix

/// `propensity loadtest --protocol oip-grpc`: one `ModelInfer` request, sent over and over to any Open Inference
/// Protocol gRPC server (Propensity's, MLServer's, Triton's) from `connections` HTTP/2 connections, as the binary
/// generators do: closed loop (`pipeline` calls in flight per connection, each sent as the previous answers) or open
/// loop at `rate` in total (latency from each call's due time; a call due while `pipeline` are in flight on its
/// connection is counted unsent). Latencies of calls answered inside the measurement window go into the same
/// `LoadResult` as the binary protocol's; a call that fails counts as an error.
public enum InferenceGRPCLoad {
    public struct Plan: Sendable {
        public var host = "127.0.0.1"
        public var port = 8001
        public var request: InferenceGRPCRequest
        /// Requests per second in total; 0: closed loop.
        public var rate: Double = 0
        public var connections = 1
        public var pipeline = 1
        public var warmup: Double = 1
        public var duration: Double = 10
        /// Sent as `authorization: Bearer TOKEN` when set.
        public var token: String?

        public init(request: InferenceGRPCRequest) { self.request = request }
    }

    public static func run(_ plan: Plan) async throws -> LoadResult {
        guard plan.connections > 0, plan.pipeline > 0, plan.duration > 0, plan.warmup >= 0, plan.rate >= 0 else {
            throw LoadError.invalidParameter("connections, pipeline, duration, warmup and rate", requirement: "positive")
        }
        let metadata: Metadata = plan.token.map { ["authorization": "Bearer \($0)"] } ?? [:]
        let clock = ContinuousClock()
        let start = clock.now
        let measureFrom = start + .seconds(plan.warmup)
        let end = measureFrom + .seconds(plan.duration)
        let total = NIOLockedValueBox(LoadResult())
        // The calls' tasks run on the transport's event loops, not hopping to the global pool.
        let executor = EventLoopTaskExecutor(group: MultiThreadedEventLoopGroup.singleton)
        try await withTaskExecutorPreference(executor) { try await withThrowingTaskGroup { group in
            for connection in 0..<plan.connections {
                group.addTask {
                    var config = HTTP2ClientTransport.Posix.Config.defaults
                    config.connection.flushCoalescing = nil  // each call sent at once, as the binary generators do
                    try await withGRPCClient(
                        transport: .http2NIOPosix(
                            target: .ipv4(address: plan.host, port: plan.port), transportSecurity: .plaintext,
                            config: config)
                    ) { client in
                        let inference = Inference_GRPCInferenceService.Client(wrapping: client)
                        let part = NIOLockedValueBox(LoadResult())
                        /// One call; its latency from `due` when it finishes inside the window.
                        @Sendable func call(due: ContinuousClock.Instant) async {
                            let ok: Bool
                            do {
                                _ = try await inference.modelInfer(plan.request.message, metadata: metadata)
                                ok = true
                            } catch {
                                ok = false
                            }
                            let done = clock.now
                            guard due >= measureFrom, done <= end else { return }
                            part.withLockedValue { result in
                                if ok {
                                    result.completed += 1
                                    result.histogram.record(UInt64(max(0, (done - due).nanoseconds)))
                                } else {
                                    result.errors += 1
                                }
                            }
                        }
                        if plan.rate == 0 {
                            await withTaskGroup { calls in
                                for _ in 0..<plan.pipeline {
                                    calls.addTask {
                                        while clock.now < end { await call(due: clock.now) }
                                    }
                                }
                            }
                        } else {
                            // This connection's share of the rate, its first call offset so connections interleave.
                            let interval = Double(plan.connections) / plan.rate
                            let inFlight = NIOLockedValueBox(0)
                            await withTaskGroup { calls in
                                var due = start + .seconds(interval * Double(connection) / Double(plan.connections))
                                while due < end {
                                    try? await clock.sleep(until: due, tolerance: .zero)  // Dispatch adds leeway otherwise
                                    let admitted = inFlight.withLockedValue { count in
                                        guard count < plan.pipeline else { return false }
                                        count += 1
                                        return true
                                    }
                                    if !admitted {
                                        if due >= measureFrom { part.withLockedValue { $0.unsent += 1 } }
                                    } else {
                                        let scheduled = due
                                        calls.addTask {
                                            await call(due: scheduled)
                                            inFlight.withLockedValue { $0 -= 1 }
                                        }
                                    }
                                    due = due + .seconds(interval)
                                }
                            }
                        }
                        let mine = part.withLockedValue { $0 }
                        total.withLockedValue { $0.add(mine) }
                    }
                }
            }
            try await group.waitForAll()
        } }
        return total.withLockedValue { $0 }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
