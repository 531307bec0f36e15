/// A problem in a search-space file, at a line (1-based).
public struct SearchSpecError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Problem: Equatable, Sendable {
        case unknownParameter(String)
        case repeated(TunedParameter)
        /// Neither `NAME VALUE` nor `NAME LOW HIGH [log]`.
        case fieldCount(Int)
        /// A third value that is not the word `log`.
        case expectedLog(String)
        case notANumber(String)
        case notAnInteger(TunedParameter, String)
        case outOfDomain(TunedParameter, requirement: String)
        case reversed(TunedParameter)
        case logNeedsPositive(TunedParameter)
    }

    public var line: Int
    public var problem: Problem

    public var description: String {
        let reason = switch problem {
        case .unknownParameter(let name):
            "unknown parameter '\(name)' (one of \(TunedParameter.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .repeated(let p): "\(p.rawValue) is given twice"
        case .fieldCount(let n): "expected NAME VALUE or NAME LOW HIGH [log], found \(n) fields"
        case .expectedLog(let word): "expected 'log' after the range, found '\(word)'"
        case .notANumber(let text): "'\(text)' is not a number"
        case .notAnInteger(let p, let text): "\(p.rawValue) takes whole numbers, not \(text)"
        case .outOfDomain(let p, let requirement): "\(p.rawValue) must be \(requirement)"
        case .reversed(let p): "the range of \(p.rawValue) has its low end above its high end"
        case .logNeedsPositive(let p): "a log range of \(p.rawValue) must start above 0"
        }
        return "line \(line): \(reason)"
    }
}
