import Foundation

/// Progress of long work on stderr: on a terminal a bar redrawn in place (count, rate, ETA), shown only once the work
/// has run for `terminalDelay`, so short runs stay quiet; otherwise (logs, CI) a plain line every `interval` seconds.
/// Either way a closing line follows once anything was shown. `--quiet` silences it. Safe to update from several
/// threads (cross-validation folds finish on workers).
///
/// Hand-written rather than console-kit's ProgressBar: that one draws percentages only (no rate or ETA) and has no
/// mode for output that is not a terminal, which is where training jobs usually write.
final class ProgressReporter: @unchecked Sendable {
    enum Mode: Equatable {
        case silent
        case terminal
        case lines(interval: Double)

        /// `--quiet` (`ProgressReporter.quiet`) → silent; stderr a terminal → a bar; else lines every
        /// $PROPENSITY_PROGRESS_INTERVAL seconds (default 5; 0 prints every update, for tests).
        static func current() -> Mode {
            if ProgressReporter.quiet { return .silent }
            if isatty(STDERR_FILENO) == 1 { return .terminal }
            let interval = ProcessInfo.processInfo.environment["PROPENSITY_PROGRESS_INTERVAL"].flatMap(Double.init) ?? 5
            return .lines(interval: max(0, interval))
        }
    }

    /// How a count is shown: plain ("trees"), or bytes as MB.
    enum Unit {
        case count(String)
        case bytes
    }

    /// Set once by a command's `--quiet` before any work: one process runs one command.
    nonisolated(unsafe) static var quiet = false

    private let label: String
    private var total: Double?
    private let unit: Unit
    private let mode: Mode
    private let terminalDelay = 0.3
    private let lock = NSLock()
    private let start = DispatchTime.now().uptimeNanoseconds
    private var done = 0.0
    /// Shown after the amount, e.g. the rows a file read has found so far.
    private var detail = ""
    private var lastShown = 0.0
    private var shown = false
    private var finished = false

    init(_ label: String, total: Double?, unit: Unit, mode: Mode) {
        self.label = label
        self.total = total.flatMap { $0 > 0 ? $0 : nil }
        self.unit = unit
        self.mode = mode
    }

    private var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    /// Sets the amount done so far (not an increment), and optionally what to show beside it.
    func update(_ value: Double, detail newDetail: String? = nil) {
        record(detail: newDetail) { $0 = value }
    }

    /// Sets the amount done and the total (when it is learnt with the first update).
    func update(_ value: Double, total newTotal: Double) {
        record(total: newTotal) { $0 = value }
    }

    /// Adds to the amount done (atomically: folds finish on several threads at once).
    func advance(by amount: Double = 1) {
        record { $0 += amount }
    }

    private func record(detail newDetail: String? = nil, total newTotal: Double? = nil, _ change: (inout Double) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        guard !finished, mode != .silent else { return }
        change(&done)
        if let newDetail { detail = newDetail }
        if let newTotal { total = newTotal > 0 ? newTotal : nil }
        let now = elapsed
        switch mode {
        case .silent: return
        case .terminal:
            guard now >= terminalDelay, !shown || now - lastShown >= 0.1 else { return }
            write("\r\u{1B}[2K" + bar(now))
        case .lines(let interval):
            guard now - lastShown >= interval else { return }
            write(line(now) + "\n")
        }
        shown = true
        lastShown = now
    }

    /// A line of other output: on a terminal the bar is cleared first and redrawn at the next update.
    func note(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        write((mode == .terminal && shown ? "\r\u{1B}[2K" : "") + text + "\n")
        if mode == .terminal { lastShown = 0 }
    }

    /// The closing line (when anything was shown); the bar is cleared first.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        finished = true
        guard shown else { return }
        let seconds = elapsed
        let rate = seconds > 0 ? done / seconds : 0
        let prefix = mode == .terminal ? "\r\u{1B}[2K" : ""
        write(prefix + "\(label): \(amount(done))\(detail.isEmpty ? "" : ", " + detail) in \(String(format: "%.1f", seconds)) s (\(amount(rate))/s)\n")
    }

    private func bar(_ now: Double) -> String {
        let width = 28
        var text = label + " "
        if let total {
            let filled = min(width, Int((done / total * Double(width)).rounded(.down)))
            text += "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            text += String(format: "%3.0f%% ", min(100, 100 * done / total))
        }
        return text + counts(now)
    }

    private func line(_ now: Double) -> String {
        label + ": " + counts(now)
    }

    private func counts(_ now: Double) -> String {
        let rate = now > 0 ? done / now : 0
        var text: String
        switch unit {
        case .count(let name): text = "\(Int(done.rounded()))" + (total.map { "/\(Int($0.rounded()))" } ?? "") + " \(name)"
        case .bytes: text = amount(done) + (total.map { " of " + amount($0) } ?? "")
        }
        if !detail.isEmpty { text += ", " + detail }
        text += ", " + amount(rate) + "/s"
        if let total, rate > 0 { text += ", ETA " + clock(max(0, (total - done) / rate)) }
        return text
    }

    private func amount(_ value: Double) -> String {
        switch unit {
        case .count(let name): return "\(Int(value.rounded())) \(name)"
        case .bytes: return String(format: "%.1f MB", value / 1e6)
        }
    }

    private func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
