import Dispatch
import NIOCore
import NIOPosix
import PropensityClient

/// Drives a running scorer with SCORE (or EXPLAIN) requests for the model a plan names and measures what comes back.
public enum LoadGenerator {
    /// Asks the server for the model's schema, builds requests for it, and runs the plan's mode.
    /// - Throws: `LoadError` (bad plan, sockets, a broken connection, a refused token); `ClientError` when the
    ///   server cannot be reached or does not serve the model.
    /// - Returns: the figures, also when some answers were ERRORs (counted in `errors`).
    public static func run(_ plan: LoadPlan) async throws -> LoadResult {
        try plan.validate()
        let probe = try await PropensityClient.connect(host: plan.host, port: plan.port, token: plan.token)
        let info = try await probe.modelInfo(plan.model)
        try await probe.close()
        let payloads = LoadRequests.make(
            model: plan.model, info: info, rowsPerRequest: plan.rowsPerRequest, explainTop: plan.explainTop,
            route: plan.route)
        let threads = min(plan.connections, plan.threads ?? System.coreCount)
        switch plan.mode {
        case .blocking:
            #if canImport(Glibc)
            return try BlockingLoad.run(
                host: plan.host, port: plan.port, token: plan.token, requests: payloads.map { Array($0.readableBytesView) },
                answer: plan.answerOpcode, warmup: plan.warmup, duration: plan.duration)
            #else
            throw LoadError.unsupportedPlatform
            #endif
        case .closedLoop(let rounds):
            #if os(Linux)
            let requests = payloads.map { Array($0.readableBytesView) }
            return try await Task.detached {  // blocking loops: off the concurrency pool
                let measureFrom = DispatchTime.now().uptimeNanoseconds + UInt64(plan.warmup * 1e9)
                return try ClosedLoopLoad.run(
                    host: plan.host, port: plan.port, token: plan.token, requests: requests,
                    answer: plan.answerOpcode, connections: plan.connections, pipeline: plan.pipeline, rounds: rounds,
                    threads: threads,
                    measureFrom: measureFrom, end: measureFrom + UInt64(plan.duration * 1e9))
            }.value
            #else
            throw LoadError.unsupportedPlatform
            #endif
        case .openLoop(let rate):
            return try await openLoop(plan, rate: rate, payloads: payloads, threads: threads)
        }
    }

    static func openLoop(_ plan: LoadPlan, rate: Double, payloads: [ByteBuffer], threads: Int) async throws
        -> LoadResult
    {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        var workers: [OpenLoopConnection] = []
        for c in 0..<plan.connections {
            let worker = OpenLoopConnection(
                payloads: payloads, answer: plan.answerOpcode, pipeline: plan.pipeline, interval: Double(plan.connections) / rate,
                offset: Double(c) / rate)
            try await worker.connect(host: plan.host, port: plan.port, token: plan.token, group: group)
            workers.append(worker)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let warmupEnd = start + UInt64(plan.warmup * 1e9)
        let end = warmupEnd + UInt64(plan.duration * 1e9)
        for worker in workers { worker.start(at: start, measureFrom: warmupEnd, until: end) }
        try await Task.sleep(nanoseconds: end - start + 500_000_000)
        var total = LoadResult()
        for worker in workers { total.add(await worker.finish()) }
        try? await group.shutdownGracefully()
        return total
    }
}
