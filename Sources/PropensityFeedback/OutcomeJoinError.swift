/// Why `join-outcomes` could not join; each names the file (and line or column) at fault.
public enum OutcomeJoinError: Error, Equatable, Sendable, CustomStringConvertible {
    case noFeedFiles(directory: String)
    case unreadable(file: String)
    /// A feed file whose header differs from the first file's (another model version's feed).
    case headerDiffers(file: String)
    /// Written under another pseudonym key than the one given (its file name carries the key's fingerprint).
    case otherKey(file: String, fileKey: String, givenKey: String)
    case malformedLine(file: String, line: Int)
    case missingColumn(file: String, column: String)
    case badTime(file: String, line: Int, value: String)
    case badWindow(hours: Double)

    public var description: String {
        switch self {
        case .noFeedFiles(let directory): "\(directory): no feed-*.csv files (expected a model version's directory of the sample log)"
        case .unreadable(let file): "\(file): cannot read it"
        case .headerDiffers(let file): "\(file): its header differs from the first feed file's (one model version per join)"
        case .otherKey(let file, let fileKey, let givenKey):
            "\(file): written under pseudonym key \(fileKey), not the given key \(givenKey) (join each key's files with its own key)"
        case .malformedLine(let file, let line): "\(file):\(line): not a feed record (too few fields)"
        case .missingColumn(let file, let column): "\(file): no column named '\(column)'"
        case .badTime(let file, let line, let value):
            "\(file):\(line): '\(value.prefix(40))' is not an ISO 8601 time (e.g. 2026-12-03T15:04:05Z)"
        case .badWindow(let hours): "the attribution window must be a positive number of hours, not \(hours)"
        }
    }
}
