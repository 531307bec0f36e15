import ArgumentParser
import Foundation

@main
struct Propensity: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "propensity",
        abstract: "Train conversion-propensity models and serve their scores.",
        version: version,
        subcommands: [
            Generate.self, Train.self, Evaluate.self, Predict.self, Inspect.self, Import.self, Serve.self, Score.self,
            LoadTest.self, BenchmarkScorer.self,
        ]
    )
}

/// A failure the user can act on: printed as one line, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a command body, turning any error into `propensity: error: …` on stderr and exit status 1.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        let message = "\(error)".replacingOccurrences(of: "\n", with: " ")
        FileHandle.standardError.write(Data("propensity: error: \(message)\n".utf8))
        throw ExitCode(1)
    }
}

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

func parseList(_ text: String?) -> [String] {
    guard let text, !text.isEmpty else { return [] }
    return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

func parseDelimiter(_ text: String?) throws -> UInt8? {
    guard let text else { return nil }
    switch text {
    case ",", "comma": return UInt8(ascii: ",")
    case ";", "semicolon": return UInt8(ascii: ";")
    case "\\t", "tab", "\t": return 0x09
    case "|", "pipe": return UInt8(ascii: "|")
    default: throw CLIError("--delimiter must be one of , ; tab |")
    }
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
