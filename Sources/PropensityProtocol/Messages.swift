import PropensityModel

/// Protocol version 1. Every byte is specified in docs/protocol.md.
public enum WireProtocol {
    public static let version: UInt8 = 1
    /// Bytes after the length field: version, opcode, flags, request id.
    public static let headerSize = 8
    public static let defaultMaxFrameBytes = 16 << 20
}

public enum Opcode: UInt8, Sendable {
    case ping = 0x01
    case listModels = 0x02
    case modelInfo = 0x03
    case score = 0x04
    case auth = 0x05
    case explain = 0x06
    case routeScore = 0x07
    case routeExplain = 0x08

    case pong = 0x81
    case modelList = 0x82
    case modelInfoResult = 0x83
    case scores = 0x84
    case authenticated = 0x85
    case explanations = 0x86
    case routedScores = 0x87
    case routedExplanations = 0x88
    case error = 0xFF
}

/// Stable error codes carried by ERROR frames.
public enum ErrorCode: UInt16, Sendable, CaseIterable {
    case malformedFrame = 1
    case unsupportedVersion = 2
    case frameTooLarge = 3
    case unknownOpcode = 4
    case unknownModel = 10
    case schemaMismatch = 11
    case wrongFeatureCount = 12
    case tooManyRows = 13
    case infiniteFeature = 14
    case cannotExplain = 15
    case invalidTopK = 16
    case unknownRoute = 17
    case invalidVisitorKey = 18
    case overloaded = 20
    case unauthorized = 30
    case internalError = 99
}

public enum Request: Sendable, Equatable {
    case ping
    case listModels
    case modelInfo(model: String)
    case score(ScoreRequest)
    /// The shared-secret token a server started with `--token-file` requires before any other request.
    case auth(token: [UInt8])
    /// Scores rows and returns, per row, the `top` strongest contributions to its margin.
    case explain(ScoreRequest, top: Int)
    /// Scores rows with the variant of a route (an experiment) that the visitor key is assigned to.
    case routeScore(RouteScoreRequest)
    /// EXPLAIN with the route's variant for the visitor key.
    case routeExplain(RouteScoreRequest, top: Int)
}

public struct RouteScoreRequest: Sendable, Equatable {
    public var route: String
    /// The visitor's key (1 … 256 bytes): the same key always gets the same variant while the split stays.
    public var key: [UInt8]
    public var fingerprint: UInt64
    public var rowCount: Int
    public var featureCount: Int
    public var features: [Float]

    public init(route: String, key: [UInt8], fingerprint: UInt64, rowCount: Int, featureCount: Int, features: [Float]) {
        self.route = route
        self.key = key
        self.fingerprint = fingerprint
        self.rowCount = rowCount
        self.featureCount = featureCount
        self.features = features
    }

    public static func == (a: RouteScoreRequest, b: RouteScoreRequest) -> Bool {
        a.route == b.route && a.key == b.key && a.fingerprint == b.fingerprint && a.rowCount == b.rowCount
            && a.featureCount == b.featureCount && a.features.map(\.bitPattern) == b.features.map(\.bitPattern)
    }
}

/// Visitor keys of ROUTE_SCORE are 1 … this many bytes.
public let maxVisitorKeyBytes = 256

public struct ScoreRequest: Sendable, Equatable {
    public var model: String
    public var fingerprint: UInt64
    public var rowCount: Int
    public var featureCount: Int
    /// Row-major, `rowCount × featureCount`.
    public var features: [Float]

    public init(model: String, fingerprint: UInt64, rowCount: Int, featureCount: Int, features: [Float]) {
        self.model = model
        self.fingerprint = fingerprint
        self.rowCount = rowCount
        self.featureCount = featureCount
        self.features = features
    }

    public static func == (a: ScoreRequest, b: ScoreRequest) -> Bool {
        a.model == b.model && a.fingerprint == b.fingerprint && a.rowCount == b.rowCount
            && a.featureCount == b.featureCount
            && a.features.map(\.bitPattern) == b.features.map(\.bitPattern)
    }
}

/// One row of an EXPLANATIONS answer: the probability SCORE would give, the bias, and the strongest contributions.
public struct RowExplanation: Sendable, Equatable {
    public var probability: Float
    /// The margin every row starts from (see `Contributions` in PropensityScoring).
    public var bias: Double
    /// Largest |contribution| first: schema feature index and signed contribution to the margin (log-odds).
    public var reasons: [Reason]

    public struct Reason: Sendable, Equatable {
        public var feature: Int
        public var contribution: Double
        public init(feature: Int, contribution: Double) {
            self.feature = feature
            self.contribution = contribution
        }
    }

    public init(probability: Float, bias: Double, reasons: [Reason]) {
        self.probability = probability
        self.bias = bias
        self.reasons = reasons
    }

    public static func == (a: RowExplanation, b: RowExplanation) -> Bool {
        a.probability.bitPattern == b.probability.bitPattern && a.bias == b.bias && a.reasons == b.reasons
    }
}

public struct ModelSummary: Sendable, Equatable {
    public var name: String
    public var kind: UInt16
    public var fingerprint: UInt64
    public var featureCount: Int

    public init(name: String, kind: UInt16, fingerprint: UInt64, featureCount: Int) {
        self.name = name
        self.kind = kind
        self.fingerprint = fingerprint
        self.featureCount = featureCount
    }
}

public struct ModelInfo: Sendable, Equatable {
    public var name: String
    public var kind: UInt16
    public var fingerprint: UInt64
    /// Free text identifying the loaded file (its creation time), so a client can tell a new version.
    public var version: String
    public var schema: FeatureSchema

    public init(name: String, kind: UInt16, fingerprint: UInt64, version: String, schema: FeatureSchema) {
        self.name = name
        self.kind = kind
        self.fingerprint = fingerprint
        self.version = version
        self.schema = schema
    }
}

public enum Response: Sendable, Equatable {
    case pong
    case modelList([ModelSummary])
    case modelInfo(ModelInfo)
    case scores([Float])
    case authenticated
    case explanations([RowExplanation])
    /// The probabilities and the variant (`NAME@VERSION`) of the route that answered.
    case routedScores(variant: String, scores: [Float])
    /// EXPLANATIONS and the variant that explained.
    case routedExplanations(variant: String, rows: [RowExplanation])
    case error(ErrorCode, String)

    public static func == (a: Response, b: Response) -> Bool {
        switch (a, b) {
        case (.pong, .pong), (.authenticated, .authenticated): true
        case (.modelList(let x), .modelList(let y)): x == y
        case (.modelInfo(let x), .modelInfo(let y)): x == y
        case (.scores(let x), .scores(let y)): x.map(\.bitPattern) == y.map(\.bitPattern)
        case (.explanations(let x), .explanations(let y)): x == y
        case (.routedScores(let v1, let x), .routedScores(let v2, let y)): v1 == v2 && x.map(\.bitPattern) == y.map(\.bitPattern)
        case (.routedExplanations(let v1, let x), .routedExplanations(let v2, let y)): v1 == v2 && x == y
        case (.error(let c1, let m1), .error(let c2, let m2)): c1 == c2 && m1 == m2
        default: false
        }
    }
}

/// A frame that could not be understood; the code goes back to the peer in an ERROR frame.
public struct ProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code) (\(code.rawValue)): \(message)" }
}
