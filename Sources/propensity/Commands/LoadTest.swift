import ArgumentParser
import Foundation
import PropensityLoad

#if GRPC
import PropensityGRPC
#endif

/// `propensity loadtest`: drives a scorer with SCORE (or EXPLAIN) requests and reports round-trip latency percentiles
/// (the generators are in `PropensityLoad`).
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
    @Option(help: "Send EXPLAIN requests for the top K reasons per row instead of SCORE.") var explain: Int?
    @Flag(help: "--model names a route of the server's experiments file: send ROUTE_SCORE with 64 visitor keys.")
    var route = false
    @Option(help: "File holding the server's token.") var tokenFile: String?
    @Option(help: "Seconds of warm-up before measuring.") var warmup: Double = 1
    @Option(help: "Event-loop threads of the load generator (default: one per core, at most one per connection).")
    var threads: Int?
    @Flag(help: "One connection, one request at a time, from a blocking socket (like the echo floor's client).")
    var blocking = false
    @Flag(help: "Closed loop in rounds, as redis-benchmark -P does: send --pipeline requests, wait for all their answers, repeat (default: a sliding window that refills as each answer arrives).")
    var rounds = false
    @Option(help: "binary (SCORE/EXPLAIN/ROUTE_SCORE frames) or oip-grpc (Open Inference Protocol ModelInfer calls to any such gRPC server).")
    var `protocol`: String = "binary"
    @Option(help: "oip-grpc: an infer request body as posted over HTTP (JSON), sent as ModelInfer with typed contents.")
    var requestFile: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        try await reportingErrors {
            guard !rounds || rate == 0 else {
                throw CLIError("--rounds is a closed-loop pattern: use it with --rate 0 (open loop sends on schedule)")
            }
            guard rate >= 0 else { throw CLIError("--rate must be ≥ 0") }
            switch self.protocol {
            case "binary": break
            case "oip-grpc":
                try await runGRPC()
                return
            default: throw CLIError("--protocol must be binary or oip-grpc, not \(self.protocol)")
            }
            var plan = LoadPlan(
                model: model, mode: blocking ? .blocking : rate == 0 ? .closedLoop(rounds: rounds) : .openLoop(rate: rate))
            plan.host = host
            plan.port = port
            plan.token = try tokenFile.map(readToken(file:))
            plan.connections = connections
            plan.pipeline = pipeline
            plan.rowsPerRequest = rows
            plan.explainTop = explain
            plan.route = route
            plan.warmup = warmup
            plan.duration = duration
            plan.threads = threads
            let result: LoadResult
            do {
                result = try await LoadGenerator.run(plan)
            } catch LoadError.invalidParameter(let name, let requirement) {
                throw CLIError("--\(name) must be \(requirement)")
            }
            try report(result)
            if result.errors > 0 { throw CLIError("\(result.errors) requests failed") }
        }
    }

    /// The Open Inference Protocol over gRPC (`PropensityGRPC.InferenceGRPCLoad`).
    func runGRPC() async throws {
        #if GRPC
        guard let requestFile else { throw CLIError("--protocol oip-grpc needs --request-file (a JSON infer request)") }
        guard !blocking, !rounds, explain == nil, !route, rows == 1 else {
            throw CLIError("--blocking, --rounds, --explain, --route and --rows are for the binary protocol")
        }
        let body: Data
        do { body = try Data(contentsOf: URL(fileURLWithPath: requestFile)) } catch {
            throw CLIError("cannot read --request-file \(requestFile)")
        }
        var plan: InferenceGRPCLoad.Plan
        do {
            plan = InferenceGRPCLoad.Plan(request: try InferenceGRPCRequest(model: model, json: body))
        } catch {
            throw CLIError("--request-file \(requestFile): \(error.message)")
        }
        plan.host = host
        plan.port = port
        plan.rate = rate
        plan.connections = connections
        plan.pipeline = pipeline
        plan.warmup = warmup
        plan.duration = duration
        plan.token = try tokenFile.map { String(decoding: try readToken(file: $0), as: UTF8.self) }
        let result: LoadResult
        do {
            result = try await InferenceGRPCLoad.run(plan)
        } catch LoadError.invalidParameter(let name, let requirement) {
            throw CLIError("--\(name) must be \(requirement)")
        }
        try report(result)
        if result.errors > 0 { throw CLIError("\(result.errors) requests failed") }
        #else
        throw CLIError("--protocol oip-grpc: this build has no gRPC (built with --disable-default-traits)")
        #endif
    }

    func report(_ result: LoadResult) throws {
        let p = result.microseconds(atPercentile:)
        if json {
            try printJSON([
                "model": model, "connections": connections, "pipeline": pipeline, "rounds": rounds,
                "rows_per_request": rows, "request": self.protocol == "oip-grpc" ? "oip-grpc infer" : route ? "route score" : explain.map { "explain top \($0)" } ?? "score", "target_rate": rate, "duration_seconds": duration,
                "completed": result.completed, "errors": result.errors, "unsent": result.unsent,
                "achieved_rate": Double(result.completed) / duration,
                "latency_us": [
                    "p50": p(50), "p90": p(90), "p99": p(99), "p99.9": p(99.9),
                    "max": result.maxMicroseconds, "mean": result.meanMicroseconds,
                ],
                "percentiles": result.spectrum.map { [$0.percentile, $0.microseconds] },
            ] as [String: Any])
        } else {
            print("\(result.completed) requests in \(duration) s: \(Int(Double(result.completed) / duration)) requests/s, "
                + "\(result.errors) errors")
            print(String(format: "latency µs: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f",
                         p(50), p(90), p(99), p(99.9), result.maxMicroseconds))
        }
    }
}
