/// What `propensity stream` consumes and writes (docs/streams.md).
public struct StreamSettings: Sendable {
    public var host = "127.0.0.1"
    public var port = 6379
    public var password: String?
    /// The input stream, its consumer group, and this consumer's name in the group (unique per process).
    public var stream: String
    public var group: String
    public var consumer: String
    /// Scores go here: `visitor`, `model`, `score`, `event` per entry.
    public var output: String
    /// Malformed events go here with the reason, then are acknowledged.
    public var deadLetter: String
    public var audiences: [Audience] = []
    /// Seconds after which a visitor not scored again leaves an audience.
    public var audienceTTL: Double = 7 * 86_400
    /// Entries read per XREADGROUP (the in-flight window: after a crash at most this many are scored twice).
    public var batch = 100
    public var blockMilliseconds = 1000
    /// Pending entries of other consumers idle this long are claimed (XAUTOCLAIM): their consumer died.
    public var claimIdleMilliseconds = 30_000
    /// Create the input stream when it does not exist (otherwise that is refused at start).
    public var createStream = false

    public init(stream: String, group: String, consumer: String, output: String, deadLetter: String) {
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.output = output
        self.deadLetter = deadLetter
    }
}

/// `--audience NAME:THRESHOLD`: visitors whose latest probability is at least the threshold, as a sorted set.
public struct Audience: Sendable, Equatable {
    public var name: String
    public var threshold: Double

    /// Parses `NAME:THRESHOLD`, the threshold in (0, 1).
    public init(parsing text: String) throws(StreamSetupError) {
        guard let colon = text.lastIndex(of: ":"), let threshold = Double(text[text.index(after: colon)...]),
              !text[..<colon].isEmpty
        else { throw .badAudience(text) }
        guard threshold > 0, threshold < 1 else { throw .badAudience(text) }
        self.name = String(text[..<colon])
        self.threshold = threshold
    }

    /// The sorted set of members (by probability) and of when each was last scored; one hash tag, so both sit in
    /// one Redis Cluster slot.
    public var membersKey: String { "{audience:\(name)}" }
    public var seenKey: String { "{audience:\(name)}:seen" }
}

/// Refusals at start, before any event is read.
public enum StreamSetupError: Error, Equatable, Sendable, CustomStringConvertible {
    case badAudience(String)
    case redis(RedisError)

    public var description: String {
        switch self {
        case .badAudience(let text): "--audience '\(text)': expected NAME:THRESHOLD with the threshold in (0, 1)"
        case .redis(let error): "\(error)"
        }
    }
}
