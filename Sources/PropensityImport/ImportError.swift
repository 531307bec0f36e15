/// Why a foreign model could not be imported: unsupported (multiclass, ranking, linear trees, …) or malformed.
/// An importer never returns a model it cannot score exactly.
public struct ImportError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}
