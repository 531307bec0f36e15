import ArgumentParser
import Dispatch
import Foundation
import PropensityInput
import PropensityModelFile
import PropensityScoring

/// In-process scoring measurements for `benchmarks/`: model load, batch throughput, single-row latency, and
/// throughput by call size. Prints one JSON object.
struct ScorerBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scorer", abstract: "Measure in-process scoring speed (used by benchmarks/).")

    @Option(help: "Model file.") var model: String
    @Option(help: "CSV with the model's input columns.") var data: String
    @Option(help: "Batch passes over all rows.") var repeats: Int = 5
    @Option(help: "Threads for batch scoring (rows split evenly).") var threads: Int = 1
    @Option(help: "Single-row calls to time (cycling over the rows).") var singleRows: Int = 100_000
    @Option(help: "Times to load the model file and compile its scorer (what the server does on load), timed.")
    var loadRepeats: Int = 5
    @Option(help: "Rows per call for the call-size sweep (comma-separated; 1 thread, all rows once per size).")
    var callSizes: String = "1,2,4,8,16,32,64"
    @Option(help: "Batch tree walk: \(TreeWalk.allCases.map(\.rawValue).joined(separator: ", ")) (default: the fastest this CPU runs).")
    var treeWalk: TreeWalk = .fastest

    func validate() throws {
        guard TreeWalk.available.contains(treeWalk) else {
            throw ValidationError("--tree-walk \(treeWalk.rawValue): this CPU runs only \(TreeWalk.available.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        do {  // one scope for the measurements, so the buffers they share end with it
            var loadSeconds: [Double] = []
            for _ in 0..<max(1, loadRepeats) {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = Scorer(model: try ModelFile.load(from: model), treeWalk: treeWalk)
                loadSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            loadSeconds.sort()
            let loaded = try ModelFile.load(from: model)
            let scorer = Scorer(model: loaded, treeWalk: treeWalk)
            let (table, features) = try ModelInput.read(file: data, schema: loaded.schema)
            let rows = table.rowCount
            let width = scorer.featureCount
            var output = [Float](repeating: 0, count: rows)
            var batchSeconds: [Double] = []
            features.withUnsafeBytes { input in
                output.withUnsafeMutableBytes { out in
                    let inputBox = RawBox(input: input, output: out)
                    for _ in 0..<max(1, repeats) {
                        let start = DispatchTime.now().uptimeNanoseconds
                        DispatchQueue.concurrentPerform(iterations: threads) { part in
                            let lower = part * rows / threads
                            let upper = (part + 1) * rows / threads
                            scorer.score(
                                rows: UnsafeRawBufferPointer(rebasing: inputBox.input[(lower * width * 4)..<(upper * width * 4)]),
                                rowCount: upper - lower,
                                into: UnsafeMutableRawBufferPointer(rebasing: inputBox.output[(lower * 4)..<(upper * 4)]))
                        }
                        batchSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                    }
                }
            }
            // Single rows: one call per row, each timed.
            var latencies = [Double](repeating: 0, count: singleRows)
            var sink: Float = 0
            features.withUnsafeBytes { input in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: 1) { out in
                    let raw = UnsafeMutableRawBufferPointer(out)
                    for i in 0..<singleRows {
                        let r = i % rows
                        let row = UnsafeRawBufferPointer(rebasing: input[(r * width * 4)..<((r + 1) * width * 4)])
                        let start = DispatchTime.now().uptimeNanoseconds
                        scorer.score(rows: row, rowCount: 1, into: raw)
                        latencies[i] = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3
                        sink += out[0]
                    }
                }
            }
            // Rows per second when the rows come in calls of k rows (how pipelined requests batch in the server).
            var bySize: [String: Double] = [:]
            let sizes = callSizes.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
            features.withUnsafeBytes { input in
                output.withUnsafeMutableBytes { out in
                    for k in sizes {
                        let start = DispatchTime.now().uptimeNanoseconds
                        var lower = 0
                        while lower < rows {
                            let upper = min(rows, lower + k)
                            scorer.score(
                                rows: UnsafeRawBufferPointer(rebasing: input[(lower * width * 4)..<(upper * width * 4)]),
                                rowCount: upper - lower,
                                into: UnsafeMutableRawBufferPointer(rebasing: out[(lower * 4)..<(upper * 4)]))
                            lower = upper
                        }
                        bySize[String(k)] = Double(rows) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                    }
                }
            }
            latencies.sort()
            let best = batchSeconds.sorted()[batchSeconds.count / 2]
            let trees: Int
            if case .treeEnsemble(let e) = loaded.body { trees = e.trees.count } else { trees = 0 }
            let result: [String: Any] = [
                "plan": scorer.planName, "tree_walk": scorer.treeWalk?.rawValue ?? "none", "rows": rows, "trees": trees, "threads": threads,
                "batch_seconds": batchSeconds, "rows_per_second": Double(rows) / best,
                "ns_per_tree_per_row": trees > 0 ? best * 1e9 * Double(threads) / Double(rows) / Double(trees) : 0,
                "single_row_us": [
                    "median": latencies[latencies.count / 2], "p99": latencies[latencies.count * 99 / 100],
                    "p999": latencies[latencies.count * 999 / 1000], "calls": singleRows,
                ],
                "rows_per_second_by_call_size": bySize,
                "load_seconds": [
                    "median": loadSeconds[loadSeconds.count / 2], "min": loadSeconds[0], "max": loadSeconds.last!,
                    "runs": loadSeconds.count,
                ],
                "model_bytes": (try? FileManager.default.attributesOfItem(atPath: model)[.size] as? Int) ?? 0,
                "checksum": Double(sink),
            ]
            let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
            print(String(decoding: json, as: UTF8.self))
        }
    }
}

extension TreeWalk: ExpressibleByArgument {}

/// Raw buffers shared by the scoring threads (each writes its own range of `output`).
private struct RawBox: @unchecked Sendable {
    let input: UnsafeRawBufferPointer
    let output: UnsafeMutableRawBufferPointer
}
