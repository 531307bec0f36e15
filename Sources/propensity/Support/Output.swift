import Foundation

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

/// Writes one probability per line under a header, in input order.
func writeScores(_ scores: [Float], to path: String) throws {
    var out = "probability\n"
    out.reserveCapacity(scores.count * 12)
    for s in scores {
        out += "\(s)\n"
    }
    try out.write(toFile: path, atomically: true, encoding: .utf8)
}
