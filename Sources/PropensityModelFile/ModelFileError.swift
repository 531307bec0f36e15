/// Why a model file could not be read. Loading is all-or-nothing: on any of these, no model is produced.
public struct ModelFileError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}
