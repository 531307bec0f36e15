#if canImport(Glibc)
import Glibc
#endif

/// The model directory itself could not be read; the registry keeps what it served.
public enum ModelDirectoryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `opendir` failed with `errno` (missing, not a directory, no permission).
    case unreadable(directory: String, errno: Int32)

    public var description: String {
        switch self {
        case .unreadable(let directory, let code):
            "cannot read the model directory \(LogSafe.escape(directory)): \(String(cString: strerror(code)))"
        }
    }
}
