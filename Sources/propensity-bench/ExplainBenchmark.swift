import ArgumentParser
import Dispatch
import Foundation
import PropensityInput
import PropensityModelFile
import PropensityScoring

/// In-process explanation speed for `benchmarks/`: TreeSHAP (or logistic terms) over the first `rows` rows of a
/// file, one thread, `repeats` timed passes. Prints one JSON object.
struct ExplainBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain", abstract: "Measure in-process explanation speed (used by benchmarks/).")

    @Option(help: "Model file.") var model: String
    @Option(help: "CSV with the model's input columns.") var data: String
    @Option(help: "Rows to explain per pass (the first ones of the file).") var rows: Int = 2000
    @Option(help: "Timed passes.") var repeats: Int = 3
    @Flag(help: "One row per call, as a one-row EXPLAIN request is served (no blocking of rows per tree).")
    var singleRows = false
    @Option(help: "With --single-rows: microseconds of sleep before each row, as between requests a server waits for; only the explanations are timed (the caches go cold as they do in a server at a low rate).")
    var pauseMicroseconds: Int = 0
    @Option(help: "With --single-rows: megabytes of other memory read before each row (untimed), to take the model out of the caches without leaving the CPU idle.")
    var evictMegabytes: Int = 0
    @Option(help: "Compiled form of the TreeSHAP arithmetic: \(ExplainKernel.available.map(\.rawValue).joined(separator: ", ")) (default: the fastest).")
    var kernel: String?

    func validate() throws {
        guard pauseMicroseconds >= 0, evictMegabytes >= 0 else {
            throw ValidationError("--pause-microseconds and --evict-megabytes cannot be negative")
        }
        guard kernel.map({ ExplainKernel(rawValue: $0).map(ExplainKernel.available.contains) ?? false }) ?? true else {
            throw ValidationError("--kernel: this CPU runs \(ExplainKernel.available.map(\.rawValue).joined(separator: ", "))")
        }
        guard singleRows || (pauseMicroseconds == 0 && evictMegabytes == 0) else {
            throw ValidationError("--pause-microseconds and --evict-megabytes apply to --single-rows only")
        }
    }

    func run() throws {
        let loaded = try ModelFile.load(from: model)
        let explainer = try Explainer(model: loaded, kernel: kernel.flatMap(ExplainKernel.init(rawValue:)) ?? .fastest)
        let (table, all) = try ModelInput.read(file: data, schema: loaded.schema)
        let count = min(rows, table.rowCount)
        let features = Array(all.prefix(count * loaded.schema.count))
        var rates: [Double] = []
        var checksum = 0.0
        let width = loaded.schema.count
        for _ in 0..<max(1, repeats) {
            if singleRows && (pauseMicroseconds > 0 || evictMegabytes > 0) {
                var busy: UInt64 = 0
                var other = [UInt64](repeating: 1, count: evictMegabytes << 17)
                for r in 0..<count {
                    if pauseMicroseconds > 0 { usleep(UInt32(pauseMicroseconds)) }
                    for i in stride(from: 0, to: other.count, by: 8) { other[i] &+= 1 }
                    let start = DispatchTime.now().uptimeNanoseconds
                    checksum += explainer.explain(Array(features[(r * width)..<((r + 1) * width)])).margin
                    busy += DispatchTime.now().uptimeNanoseconds - start
                }
                rates.append(Double(count) / (Double(busy) / 1e9))
                continue
            }
            let start = DispatchTime.now().uptimeNanoseconds
            let explained = singleRows
                ? (0..<count).map { r in explainer.explain(Array(features[(r * width)..<((r + 1) * width)])) }
                : explainer.explain(rows: features)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            checksum = explained.reduce(0) { $0 + $1.margin }  // keeps the work observable
            rates.append(Double(count) / seconds)
        }
        rates.sort()
        let result: [String: Any] = [
            "rows": count, "margin_sum": checksum, "kernel": explainer.kernel.rawValue, "single_rows": singleRows, "pause_us": pauseMicroseconds, "evict_mb": evictMegabytes,
            "rows_per_second": [
                "median": rates[rates.count / 2], "min": rates[0], "max": rates[rates.count - 1], "runs": rates.count,
            ],
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
    }
}
