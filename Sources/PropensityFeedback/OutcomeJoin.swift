import Foundation
import PropensityData
import PropensityPrivacy

/// Labels a sampled feed with outcomes (docs/feedback.md): a fed row is a conversion when the same visitor (the same
/// pseudonym) converted within the attribution window after it was scored. The output is the feed's own lines with a
/// `converted` column of 0/1, which `propensity train --label converted --drop visitor,time,route,variant,score`
/// reads directly.
public enum OutcomeJoin {
    public struct Summary: Sendable, Equatable {
        public var files = 0
        public var rows = 0
        public var positives = 0
        /// Feed files whose last line was torn (the server was killed mid-write): that line was skipped.
        public var tornFiles: [String] = []
        public var conversions = 0
    }

    /// - Parameters:
    ///   - feed: a model version's directory of the sample log (`SAMPLE_LOG/NAME@VERSION`).
    ///   - conversions: CSV with a visitor identifier and a conversion time (ISO 8601) per line.
    ///   - keyColumn, timeColumn: those columns' names.
    ///   - window: seconds after a scoring in which a conversion counts.
    ///   - pseudonymiser: the key the server pseudonymised with; the conversions' identifiers are pseudonymised
    ///     with it (and must be what clients sent as visitor keys).
    ///   - output: where the labelled CSV goes.
    public static func run(
        feed: String, conversions: String, keyColumn: String, timeColumn: String, window: Double,
        pseudonymiser: Pseudonymiser, output: String
    ) throws -> Summary {
        guard window > 0, window.isFinite else { throw OutcomeJoinError.badWindow(hours: window / 3600) }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: feed)) ?? [])
            .filter { $0.hasPrefix("feed-") && $0.hasSuffix(".csv") }.sorted().map { feed + "/" + $0 }
        guard !files.isEmpty else { throw OutcomeJoinError.noFeedFiles(directory: feed) }
        var summary = Summary()
        let converted = try conversionTimes(
            conversions, keyColumn: keyColumn, timeColumn: timeColumn, pseudonymiser: pseudonymiser,
            count: &summary.conversions)
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var out = Data()
        var header: Substring?
        for file in files {
            if let fileKey = keyFingerprint(ofFile: file), fileKey != pseudonymiser.keyFingerprint {
                throw OutcomeJoinError.otherKey(file: file, fileKey: fileKey, givenKey: pseudonymiser.keyFingerprint)
            }
            guard let data = FileManager.default.contents(atPath: file) else { throw OutcomeJoinError.unreadable(file: file) }
            var text = String(decoding: data, as: UTF8.self)
            if !text.isEmpty, !text.hasSuffix("\n") {
                summary.tornFiles.append(file)
                text = String(text[..<(text.lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex)])
            }
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            guard let first = lines.first else { continue }
            lines = lines.dropFirst()
            if let header {
                guard first == header else { throw OutcomeJoinError.headerDiffers(file: file) }
            } else {
                guard first.hasPrefix("visitor,time,") else { throw OutcomeJoinError.missingColumn(file: file, column: "visitor") }
                header = first
                out.append(contentsOf: Array((first + ",converted\n").utf8))
            }
            summary.files += 1
            for (n, line) in lines.enumerated() {
                // The visitor (hex) and time (ISO 8601) fields are never quoted.
                let fields = line.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
                guard fields.count == 3 else { throw OutcomeJoinError.malformedLine(file: file, line: n + 2) }
                guard let scored = parser.date(from: String(fields[1])) else {
                    throw OutcomeJoinError.badTime(file: file, line: n + 2, value: String(fields[1]))
                }
                let t = scored.timeIntervalSince1970
                let hit = converted[String(fields[0])]?.contains { $0 >= t && $0 <= t + window } ?? false
                if hit { summary.positives += 1 }
                summary.rows += 1
                out.append(contentsOf: Array((line + (hit ? ",1\n" : ",0\n")).utf8))
            }
        }
        do {
            try out.write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw OutcomeJoinError.unreadable(file: output)
        }
        return summary
    }

    /// Conversion times (seconds since 1970) by pseudonym.
    static func conversionTimes(
        _ file: String, keyColumn: String, timeColumn: String, pseudonymiser: Pseudonymiser, count: inout Int
    ) throws -> [String: [Double]] {
        let table = try CSVReader.read(
            file: file, options: CSVOptions(categorical: [keyColumn, timeColumn], required: [keyColumn, timeColumn],
                                            only: [keyColumn, timeColumn]))
        guard let keys = table.columns.first(where: { $0.name == keyColumn }),
              let times = table.columns.first(where: { $0.name == timeColumn })
        else { throw OutcomeJoinError.missingColumn(file: file, column: keyColumn) }
        let parser = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var result: [String: [Double]] = [:]
        for row in 0..<table.rowCount where keys.codes[row] >= 0 && times.codes[row] >= 0 {
            let text = times.categories[Int(times.codes[row])]
            guard let time = parser.date(from: text) ?? fractional.date(from: text) else {
                throw OutcomeJoinError.badTime(file: file, line: table.rowLines[row], value: text)
            }
            result[pseudonymiser.pseudonym(keys.categories[Int(keys.codes[row])]), default: []].append(time.timeIntervalSince1970)
            count += 1
        }
        return result
    }

    /// `feed-…-k<fingerprint>.csv` → the fingerprint.
    static func keyFingerprint(ofFile path: String) -> String? {
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        guard let k = name.range(of: "-k", options: .backwards) else { return nil }
        return String(name[k.upperBound...])
    }
}
