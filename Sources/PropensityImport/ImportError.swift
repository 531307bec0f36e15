/// Why a foreign model could not be imported. An importer never returns a model it cannot score exactly, so a model
/// it does not support is refused (`unsupported`), not approximated.
public struct ImportError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var reason: Reason

    public init(file: String, reason: Reason) {
        self.file = file
        self.reason = reason
    }

    public enum Reason: Equatable, Sendable, CustomStringConvertible {
        case notFound
        case unreadable
        /// Not a model of the format asked for; `hint` says how that library saves one.
        case wrongFormat(hint: String)
        /// A model of that format using something Propensity cannot score exactly (multiclass, ranking, linear trees,
        /// dart, random forests, …): what it is.
        case unsupported(String)
        /// A model of that format whose contents are inconsistent or incomplete: what is wrong, and where.
        case malformed(String)

        public var description: String {
            switch self {
            case .notFound: "no such file"
            case .unreadable: "cannot read file"
            case .wrongFormat(let hint), .unsupported(let hint), .malformed(let hint): hint
            }
        }
    }

    public var description: String { "\(file): \(reason)" }
}
