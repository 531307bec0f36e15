import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PropensityData
import PropensityModel

/// The writer thread's open files, one per model version: lines in, `write(2)` per line, rotation by age and size.
struct FeedWriter {
    struct WriteError: Error, CustomStringConvertible {
        var file: String
        var errno: Int32
        var description: String { "\(file): \(String(cString: strerror(errno)))" }
    }

    private struct OpenFile {
        var fd: Int32
        var path: String
        var bytes: Int
        var opened: Date
        var keyFingerprint: String
    }

    let settings: SampleLogSettings
    private var open: [String: OpenFile] = [:]

    init(settings: SampleLogSettings) {
        self.settings = settings
    }

    mutating func write(_ record: SampleLog.Record, pseudonym: String, keyFingerprint: String) throws(WriteError) {
        let model = record.model
        if let file = open[model.key], file.keyFingerprint != keyFingerprint { close(model.key) }
        if open[model.key] == nil { try begin(model, keyFingerprint: keyFingerprint, time: record.time) }
        let time = clock.string(from: record.time)
        let width = model.model.schema.count
        for (row, score) in record.scores.enumerated() {
            var line = pseudonym + "," + time + "," + CSVField.quoted(record.route) + "," + CSVField.quoted(model.key)
            for (j, feature) in model.model.schema.features.enumerated() {
                line += "," + Self.value(record.features[row * width + j], feature.kind)
            }
            line += "," + Self.number(score) + "\n"
            try append(line, to: model.key)
        }
    }

    mutating func rotateIfDue(now: Date) {
        for (key, file) in open where now.timeIntervalSince(file.opened) >= settings.rotateSeconds || file.bytes >= settings.rotateBytes {
            close(key)
        }
    }

    mutating func closeAll() {
        for key in Array(open.keys) { close(key) }
    }

    private mutating func close(_ key: String) {
        if let file = open.removeValue(forKey: key) { _ = Glibc.close(file.fd) }
    }

    private mutating func begin(_ model: ServedModel, keyFingerprint: String, time: Date) throws(WriteError) {
        let directory = settings.directory + "/" + model.key
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var path = directory + "/feed-" + Self.fileTime(time) + "-k" + keyFingerprint + ".csv"
        var n = 1
        while FileManager.default.fileExists(atPath: path) {
            n += 1
            path = directory + "/feed-" + Self.fileTime(time) + "-\(n)-k" + keyFingerprint + ".csv"
        }
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WriteError(file: path, errno: errno) }
        open[model.key] = OpenFile(fd: fd, path: path, bytes: 0, opened: Date(), keyFingerprint: keyFingerprint)
        let header = (["visitor", "time", "route", "variant"] + model.model.schema.names.map(CSVField.quoted) + ["score"])
            .joined(separator: ",") + "\n"
        try append(header, to: model.key)
    }

    /// One `write(2)` per line: a killed process leaves whole lines and at most one torn last line.
    private mutating func append(_ line: String, to key: String) throws(WriteError) {
        guard var file = open[key] else { return }
        var text = line
        let result = text.withUTF8 { bytes in Glibc.write(file.fd, bytes.baseAddress, bytes.count) }
        guard result == line.utf8.count else {
            let code = result < 0 ? errno : ENOSPC
            throw WriteError(file: file.path, errno: code)
        }
        file.bytes += result
        open[key] = file
    }

    static func value(_ x: Float, _ kind: FeatureKind) -> String {
        if x.isNaN { return "" }
        switch kind {
        case .numeric: return number(x)
        case .categorical(let categories):
            let index = Int(exactly: x) ?? -1
            return index >= 0 && index < categories.count ? CSVField.quoted(categories[index]) : CSVField.quoted(unseenCategory)
        }
    }

    /// What the feed writes for a category index the model does not know (it is then a category of its own).
    static let unseenCategory = "(unseen)"

    /// Shortest text that reads back as the same float32.
    static func number(_ x: Float) -> String { "\(x)" }


    /// ISO 8601 in UTC with milliseconds, e.g. `2026-12-03T15:04:05.123Z`; made once, not per record (the writer
    /// thread owns it).
    private let clock: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()

    static func fileTime(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss"
        return f.string(from: date)
    }
}
