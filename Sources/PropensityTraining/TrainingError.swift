/// A training request that cannot be carried out, with the reason in words.
public struct TrainingError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
