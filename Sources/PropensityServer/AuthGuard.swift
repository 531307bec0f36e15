import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Bounds token guessing and the log lines it causes, across all connections of a server.
///
/// - A connection is closed after `failuresPerConnection` wrong tokens.
/// - An address with more than `failuresPerAddress` wrong tokens within `addressWindow` is refused without its token
///   being compared until the window ends (every AUTH from it fails and its connection closes).
/// - The audit log gets the first refusal per address in each `logInterval`; the rest are counted and written as
///   one line per address when the interval ends, so a flood cannot fill the disk. Addresses appear in the log only
///   as pseudonyms (a keyed hash with a key made at start), which tell one client from another within a run
///   without putting an address in the log.
public final class AuthGuard: Sendable {
    public struct Settings: Sendable {
        public var failuresPerConnection = 3
        public var failuresPerAddress = 20
        public var addressWindow: TimeAmount = .seconds(60)
        public var logInterval: TimeAmount = .seconds(10)
        public init() {}
    }

    public enum Verdict: Equatable, Sendable {
        /// Compare the token.
        case check
        /// The address is over its limit: refuse without comparing.
        case blocked
    }

    private struct AddressState {
        var windowStart: NIODeadline
        var failures = 0
        /// Refusals in the current log interval and whether the first was logged.
        var logStart: NIODeadline
        var unlogged = 0
    }

    public let settings: Settings
    private let logger: Logger
    private let addresses = NIOLockedValueBox<[String: AddressState]>([:])
    /// The key's bytes (`SymmetricKey` is not Sendable); made once per run.
    private let pseudonymKey: [UInt8] = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }

    public init(settings: Settings = Settings(), logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    public func verdict(for address: String, now: NIODeadline = .now()) -> Verdict {
        addresses.withLockedValue { all in
            guard let state = all[address], now - state.windowStart < settings.addressWindow else { return .check }
            return state.failures >= settings.failuresPerAddress ? .blocked : .check
        }
    }

    /// Records a refused AUTH from `address` and writes the audit line if this is the interval's first.
    public func recordFailure(from address: String, blocked: Bool, now: NIODeadline = .now()) {
        let logNow = addresses.withLockedValue { all -> Bool in
            let known = all[address]
            var state = known ?? AddressState(windowStart: now, logStart: now)
            if now - state.windowStart >= settings.addressWindow { (state.windowStart, state.failures) = (now, 0) }
            state.failures += 1
            let first = state.unlogged == 0 && (known == nil || now - state.logStart >= settings.logInterval)
            if first {
                state.logStart = now
            } else {
                state.unlogged += 1
            }
            all[address] = state
            return first
        }
        if logNow {
            logger.notice("audit: authentication refused", metadata: [
                "client": "\(pseudonym(address))", "reason": "\(blocked ? "too many failed attempts" : "wrong token")",
            ])
        }
    }

    /// The address as the log shows it: 12 hex digits of HMAC-SHA256 under this run's key.
    public func pseudonym(_ address: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Array(address.utf8), using: SymmetricKey(data: pseudonymKey))
            .prefix(6).map { String(format: "%02x", $0) }.joined()
    }

    /// Writes the counted refusals of intervals that have ended and forgets addresses whose windows are over.
    /// The server calls it every `logInterval`.
    public func flush(now: NIODeadline = .now()) {
        let summaries = addresses.withLockedValue { all -> [(String, Int)] in
            var out: [(String, Int)] = []
            for (address, var state) in all {
                if state.unlogged > 0, now - state.logStart >= settings.logInterval {
                    out.append((address, state.unlogged))
                    state.unlogged = 0
                    state.logStart = now
                }
                if state.unlogged == 0, now - state.windowStart >= settings.addressWindow {
                    all[address] = nil
                } else {
                    all[address] = state
                }
            }
            return out.sorted { $0.0 < $1.0 }
        }
        for (address, count) in summaries {
            logger.notice("audit: authentication refused (repeated)", metadata: [
                "client": "\(pseudonym(address))", "count": "\(count)",
            ])
        }
    }
}
