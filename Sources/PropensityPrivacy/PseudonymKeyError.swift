/// Why a pseudonymisation key file was refused. The key's bytes never appear in a message.
public enum PseudonymKeyError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    /// Fewer than `Pseudonymiser.minimumKeyBytes` bytes (after the trailing newline is dropped).
    case tooShort(file: String, bytes: Int)
    /// Readable by the group or by others (its mode, in octal): a secret must be `chmod 600`.
    case tooOpen(file: String, mode: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason): "key file \(file): cannot read it (\(reason))"
        case .tooShort(let file, let bytes):
            "key file \(file): \(bytes) bytes, at least \(Pseudonymiser.minimumKeyBytes) are needed (e.g. `openssl rand -hex 32 > \(file)`)"
        case .tooOpen(let file, let mode):
            "key file \(file): mode \(mode) lets others read it; run `chmod 600 \(file)`"
        }
    }
}
