import ArgumentParser
import Dispatch
import Foundation
import PropensityClient
import PropensityInput
import PropensityModelFile
import PropensityScoring

/// Drives a scorer fleet (replicas behind a load balancer) through `PropensityClientPool` for `scripts/fleet-check`:
/// concurrent callers score rows and check every answer against the model file scored in process. Each call ends
/// once, answered or failed; a wrong answer is counted apart. Prints one JSON object.
struct FleetDrive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet-drive", abstract: "Drive a scorer fleet through the client pool and check every answer.")

    @Option(help: "Load balancer host.") var host: String = "127.0.0.1"
    @Option(help: "Load balancer port.") var port: Int
    @Option(help: "Model name on the servers.") var model: String
    @Option(help: "The model's file, to score the same rows in process.") var modelFile: String
    @Option(help: "CSV of rows to score.") var data: String
    @Option(help: "Seconds to drive.") var duration: Double = 8
    @Option(help: "Concurrent callers.") var callers: Int = 8
    @Option(help: "Pool connections.") var connections: Int = 4

    func run() async throws {
        let loaded = try ModelFile.load(from: modelFile)
        let (table, features) = try ModelInput.read(file: data, schema: loaded.schema)
        let width = loaded.schema.count
        let expected = Scorer(model: loaded).score(features)
        var configuration = PropensityClientPool.Configuration(host: host, port: port)
        configuration.connections = connections
        configuration.requestTimeout = .seconds(5)
        let pool = PropensityClientPool(configuration)
        let fingerprint = ModelFile.fingerprint(of: loaded.schema)
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(duration * 1e9)
        let rows = table.rowCount
        let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { group in
            for caller in 0..<callers {
                group.addTask {
                    var outcome = Outcome()
                    var row = caller
                    while DispatchTime.now().uptimeNanoseconds < deadline {
                        let i = row % rows
                        row += callers
                        do {
                            let answer = try await pool.score(
                                model: model, fingerprint: fingerprint, featureCount: width,
                                features: Array(features[(i * width)..<((i + 1) * width)]))
                            if answer.count == 1, answer[0].bitPattern == expected[i].bitPattern {
                                outcome.answered += 1
                            } else {
                                outcome.wrong += 1
                            }
                        } catch {
                            outcome.failed += 1
                            outcome.failures["\(type(of: error)).\(error)".prefix(60).description, default: 0] += 1
                            try await Task.sleep(nanoseconds: 20_000_000)
                        }
                    }
                    return outcome
                }
            }
            var total = Outcome()
            for try await o in group { total.merge(o) }
            return total
        }
        await pool.close()
        let result: [String: Any] = [
            "answered": outcomes.answered, "failed": outcomes.failed, "wrong": outcomes.wrong,
            "failures": outcomes.failures, "seconds": duration,
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
    }

    struct Outcome: Sendable {
        var answered = 0
        var failed = 0
        var wrong = 0
        var failures: [String: Int] = [:]

        mutating func merge(_ other: Outcome) {
            answered += other.answered
            failed += other.failed
            wrong += other.wrong
            failures.merge(other.failures, uniquingKeysWith: +)
        }
    }
}
