import ArgumentParser
import Dispatch
import Foundation
import PropensityDrift
import PropensityInput
import PropensityModelFile
import PropensityScoring

/// In-process cost of drift tracking for `benchmarks/`: nanoseconds per row of `DriftMonitor.record` (one row per
/// call, as single-row requests are counted) beside those of scoring the same rows one per call, one thread. Prints
/// one JSON object.
struct DriftBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift", abstract: "Measure in-process drift tracking cost (used by benchmarks/).")

    @Option(help: "Model file with a drift reference profile.") var model: String
    @Option(help: "CSV with the model's input columns.") var data: String
    @Option(help: "Rows per pass (the first ones of the file).") var rows: Int = 100_000
    @Option(help: "Timed passes.") var repeats: Int = 5

    func run() throws {
        let loaded = try ModelFile.load(from: model)
        guard let profile = loaded.drift else { throw ValidationError("\(model) has no drift reference profile") }
        let (table, all) = try ModelInput.read(file: data, schema: loaded.schema)
        let count = min(rows, table.rowCount)
        let width = loaded.schema.count
        let wire = Array(all.prefix(count * width)).flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        let scorer = Scorer(model: loaded)
        let monitor = DriftMonitor(profile: profile, shards: 1, window: .seconds(3600))
        var scores = [UInt8](repeating: 0, count: count * 4)
        var record: [Double] = [], score: [Double] = []
        for _ in 0..<max(1, repeats) {
            var start = DispatchTime.now().uptimeNanoseconds
            wire.withUnsafeBytes { input in
                scores.withUnsafeMutableBytes { output in
                    for r in 0..<count {
                        scorer.score(
                            rows: UnsafeRawBufferPointer(rebasing: input[(r * width * 4)..<((r + 1) * width * 4)]), rowCount: 1,
                            into: UnsafeMutableRawBufferPointer(rebasing: output[(r * 4)..<(r * 4 + 4)]))
                    }
                }
            }
            score.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(count))
            start = DispatchTime.now().uptimeNanoseconds
            wire.withUnsafeBytes { input in
                scores.withUnsafeBytes { output in
                    for r in 0..<count {
                        monitor.record(
                            features: UnsafeRawBufferPointer(rebasing: input[(r * width * 4)..<((r + 1) * width * 4)]),
                            rowCount: 1, scores: UnsafeRawBufferPointer(rebasing: output[(r * 4)..<(r * 4 + 4)]), shard: 0,
                            now: start)
                    }
                }
            }
            record.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(count))
        }
        record.sort()
        score.sort()
        let counted = monitor.counts(now: DispatchTime.now().uptimeNanoseconds).rows
        let result: [String: Any] = [
            "rows": count, "features": width, "counted_rows": counted,
            "record_ns_per_row": ["median": record[record.count / 2], "min": record[0], "max": record[record.count - 1]],
            "score_ns_per_row": ["median": score[score.count / 2], "min": score[0], "max": score[score.count - 1]],
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
    }
}
