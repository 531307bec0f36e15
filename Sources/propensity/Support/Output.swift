import Foundation
import PropensityData
import PropensityModel
import PropensityModelFile
import PropensityScoring

/// Progress and timing go to stderr so stdout stays clean for results.
func progress(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Wall-clock timing of a step, reported on stderr.
func timed<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
    let start = DispatchTime.now().uptimeNanoseconds
    let value = try body()
    reportElapsed(label, since: start)
    return value
}

func timed<T>(_ label: String, _ body: () async throws -> T) async rethrows -> T {
    let start = DispatchTime.now().uptimeNanoseconds
    let value = try await body()
    reportElapsed(label, since: start)
    return value
}

private func reportElapsed(_ label: String, since start: UInt64) {
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    progress(label + " in " + String(format: "%.3f", seconds) + " s")
}

/// JSON output with sorted keys; non-finite numbers become null.
func printJSON(_ object: Any) throws {
    let data = try JSONSerialization.data(withJSONObject: jsonSafe(object), options: [.prettyPrinted, .sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

func jsonSafe(_ value: Any) -> Any {
    switch value {
    case let d as Double: return d.isFinite ? d : NSNull()
    case let f as Float: return f.isFinite ? Double(f) : NSNull()
    case let a as [Any]: return a.map(jsonSafe)
    case let m as [String: Any]: return m.mapValues(jsonSafe)
    default: return value
    }
}

func fixed(_ value: Double, _ places: Int = 4) -> String {
    value.isFinite ? String(format: "%.\(places)f", value) : "n/a"
}

/// Writes one probability per line under a header, in input order, after the row's identity when there is one.
func writeScores(_ scores: [Float], ids: RowIdentities? = nil, to path: String) throws {
    var out = (ids.map { CSVField.quoted($0.header) + "," } ?? "") + "probability\n"
    out.reserveCapacity(scores.count * (ids == nil ? 12 : 80))
    for (r, s) in scores.enumerated() {
        if let ids { out += CSVField.quoted(ids.values[r]) + "," }
        out += "\(s)\n"
    }
    try out.write(toFile: path, atomically: true, encoding: .utf8)
}

/// Probabilities with their explanations: with `allColumns`, the bias and one `contribution_COLUMN` per input column;
/// with `top`, `reason_K_column`, `reason_K_value` (a bucket or category, not the raw value) and
/// `reason_K_contribution` for the K strongest. Contributions are on the margin (log-odds).
func writeExplained(
    _ scores: [Float], _ explained: [Contributions], features: [Float], model: Model, top: Int?, allColumns: Bool,
    ids: RowIdentities? = nil, to path: String
) throws {
    let names = model.schema.features.map(\.name)
    let buckets = ReasonBuckets(model: model)
    var header = (ids.map { [$0.header] } ?? []) + ["probability"]
    if allColumns { header += ["bias"] + names.map { "contribution_" + $0 } }
    if let top { for k in 1...top { header += ["reason_\(k)_column", "reason_\(k)_value", "reason_\(k)_contribution"] } }
    var out = header.map(CSVField.quoted).joined(separator: ",") + "\n"
    let width = names.count
    for (r, c) in explained.enumerated() {
        var fields = (ids.map { [CSVField.quoted($0.values[r])] } ?? []) + ["\(scores[r])"]
        if allColumns { fields += [String(c.bias)] + c.values.map { String($0) } }
        if let top {
            for (feature, value) in c.top(top) {
                fields += [CSVField.quoted(names[feature]), CSVField.quoted(buckets.bucket(feature: feature, value: features[r * width + feature])),
                           String(value)]
            }
        }
        out += fields.joined(separator: ",") + "\n"
    }
    try out.write(toFile: path, atomically: true, encoding: .utf8)
}

/// Writes a model file, or says in one line why it cannot (a missing directory, no permission) naming the path.
func saveModel(_ model: Model, to path: String) throws {
    do {
        try ModelFile.save(model, to: path)
    } catch {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        let reason = !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) || !isDirectory.boolValue
            ? "no directory \(directory)" : "permission denied or the disk is full"
        throw CLIError("cannot write the model to \(path): \(reason)")
    }
}
