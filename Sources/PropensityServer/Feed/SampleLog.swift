import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Metrics
import NIOConcurrencyHelpers
import PropensityModel
import PropensityPrivacy

/// The sampled feed of scored routed requests, ROUTE_SCORE and infer requests with a visitor key (docs/feedback.md):
/// the event loop hands over a copy of a sampled request and moves on; one writer thread pseudonymises the visitor key,
/// formats one CSV line per row in the model's schema and appends it with a single `write(2)`, so a killed server
/// leaves at most its last line torn (and the next start trims it). Files rotate by age and size; files older than the
/// retention are deleted; a write error (a full disk) stops sampling for a minute, logged once, while scoring goes on.
///
/// Metrics: `propensity_sample_log_rows_total`, `propensity_sample_log_dropped_rows_total{reason}` (queue_full,
/// write_error).
public final class SampleLog: Sendable {
    struct Record: Sendable {
        let model: ServedModel
        let route: String
        let key: [UInt8]
        let features: [Float]
        let scores: [Float]
        let time: Date
    }

    private struct Queue {
        var records: [Record] = []
        var rows = 0
        var stopped = false
        var pseudonymiser: Pseudonymiser
        /// Requests until the next sample, for callers without a connection of their own to count on (the Open
        /// Inference Protocol ports; a binary connection counts its own).
        var untilSample = 1
    }

    public let settings: SampleLogSettings
    private let logger: Logger
    private let queue: NIOLockedValueBox<Queue>
    private let wake = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private let written = Counter(label: "propensity_sample_log_rows_total")
    private let queueFull = Counter(label: "propensity_sample_log_dropped_rows_total", dimensions: [("reason", "queue_full")])
    private let writeFailed = Counter(label: "propensity_sample_log_dropped_rows_total", dimensions: [("reason", "write_error")])

    /// Creates the directory, trims torn last lines left by a killed server, applies the retention, and starts the
    /// writer.
    /// - Throws: `SampleLogError.unusableDirectory` when the directory cannot be created or written.
    public init(settings: SampleLogSettings, logger: Logger) throws(SampleLogError) {
        self.settings = settings
        self.logger = logger
        self.queue = NIOLockedValueBox(Queue(pseudonymiser: settings.pseudonymiser))
        do {
            try FileManager.default.createDirectory(atPath: settings.directory, withIntermediateDirectories: true)
        } catch {
            throw .unusableDirectory(settings.directory)
        }
        guard access(settings.directory, W_OK) == 0 else { throw .unusableDirectory(settings.directory) }
        for file in FeedFiles.list(settings.directory) {
            if let removed = FeedFiles.trimTornLine(file) {
                logger.notice("audit: sample log file had an incomplete last record (the server stopped mid-write); removed it", metadata: [
                    "file": "\(LogSafe.escape(file))", "bytes": "\(removed)",
                ])
            }
        }
        applyRetention(now: Date())
        let thread = Thread { [self] in self.work() }
        thread.name = "propensity-sample-log"
        thread.start()
    }

    /// True for every `settings.every`-th call, counted over all callers: which routed requests of the Open
    /// Inference Protocol ports are sampled.
    func takeSample() -> Bool {
        queue.withLockedValue { q in
            q.untilSample -= 1
            guard q.untilSample <= 0 else { return false }
            q.untilSample = settings.every
            return true
        }
    }

    /// Queues a sampled request (the caller decides which: every `settings.every`-th); false when the queue is full.
    @discardableResult
    func offer(_ record: Record) -> Bool {
        let rows = record.scores.count
        let accepted = queue.withLockedValue { q in
            guard !q.stopped, q.rows + rows <= settings.maxQueuedRows else { return false }
            q.records.append(record)
            q.rows += rows
            return true
        }
        if accepted { wake.signal() } else { queueFull.increment(by: rows) }
        return accepted
    }

    /// A new pseudonym key (SIGHUP re-read the key file): later records use it, in new files named by its
    /// fingerprint. Audited.
    public func replaceKey(with pseudonymiser: Pseudonymiser) {
        let old = queue.withLockedValue { q in
            defer { q.pseudonymiser = pseudonymiser }
            return q.pseudonymiser.keyFingerprint
        }
        guard old != pseudonymiser.keyFingerprint else { return }
        logger.notice("audit: pseudonym key rotated", metadata: [
            "old_key": "\(old)", "new_key": "\(pseudonymiser.keyFingerprint)",
        ])
    }

    /// Writes what is queued, closes the files and ends the writer.
    public func stop() {
        let first = queue.withLockedValue { q in
            defer { q.stopped = true }
            return !q.stopped
        }
        guard first else { return }
        wake.signal()
        done.wait()
    }

    // MARK: The writer thread

    private func work() {
        var files = FeedWriter(settings: settings)
        var pausedUntil: Date?
        var lastRetention = Date()
        while true {
            _ = wake.wait(timeout: .now() + 1)
            let (records, stopped, pseudonymiser) = queue.withLockedValue { q -> ([Record], Bool, Pseudonymiser) in
                defer { q.records.removeAll(keepingCapacity: true); q.rows = 0 }
                return (q.records, q.stopped, q.pseudonymiser)
            }
            let now = Date()
            if let until = pausedUntil, now < until {
                writeFailed.increment(by: records.reduce(0) { $0 + $1.scores.count })
            } else {
                pausedUntil = nil
                do {
                    for record in records {
                        try files.write(record, pseudonym: pseudonymiser.pseudonym(bytes: record.key),
                                        keyFingerprint: pseudonymiser.keyFingerprint)
                        written.increment(by: record.scores.count)
                    }
                } catch {
                    pausedUntil = now.addingTimeInterval(60)
                    writeFailed.increment(by: records.reduce(0) { $0 + $1.scores.count })
                    logger.error("sample log: cannot write, sampling pauses for 60 s; scoring goes on", metadata: [
                        "reason": "\(error)",
                    ])
                    files.closeAll()
                }
            }
            files.rotateIfDue(now: now)
            if now.timeIntervalSince(lastRetention) >= 60 {
                lastRetention = now
                applyRetention(now: now)
            }
            if stopped {
                files.closeAll()
                done.signal()
                return
            }
        }
    }

    private func applyRetention(now: Date) {
        guard let days = settings.retentionDays else { return }
        for file in FeedFiles.olderThan(days: days, in: settings.directory, now: now) {
            if unlink(file) == 0 {
                logger.notice("audit: sample log file deleted by retention", metadata: [
                    "file": "\(LogSafe.escape(file))", "retention_days": "\(days)",
                ])
            }
        }
    }
}

/// Why the sample log cannot start.
public enum SampleLogError: Error, Equatable, Sendable, CustomStringConvertible {
    case unusableDirectory(String)

    public var description: String {
        switch self {
        case .unusableDirectory(let path): "\(path): cannot create or write the sample log directory"
        }
    }
}
