/// Why a model file could not be read. Loading is all-or-nothing: on any of these, no model is produced.
///
/// `reason` says what kind of failure it was (tests and callers switch on it); `description` is the one-line message,
/// `file: reason`, which names positions and sections but never model contents.
public struct ModelFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var reason: Reason

    public init(file: String, reason: Reason) {
        self.file = file
        self.reason = reason
    }

    public enum Reason: Equatable, Sendable, CustomStringConvertible {
        /// No file at the path.
        case notFound
        /// The file exists but could not be read (permissions, a directory, an I/O error).
        case unreadable
        /// Larger than the reader's limit (`bytes` the file's size): refused before it is read.
        case tooLarge(bytes: Int, limit: Int)
        /// The first bytes are not the Propensity magic: some other kind of file.
        case notAModelFile
        /// Fewer bytes than the header needs, or than the header declares (`declared` is nil for the former).
        case truncated(bytes: Int, declared: UInt64?)
        /// A format version this build does not read.
        case unsupportedVersion(found: UInt16, supported: UInt16)
        /// Bytes after the end the header declares.
        case trailingBytes(Int)
        /// The SHA-256 trailer does not match the bytes before it: the file is corrupt.
        case checksumMismatch
        /// A model kind this build does not know.
        case unknownModelKind(UInt16)
        /// The section table does not fit the file (a section header or payload runs past the end, or bytes remain).
        case malformedLayout(String)
        /// A section flagged as required that this build does not know (written by a newer version).
        case unsupportedRequiredSection(String)
        case duplicateSection(String)
        case missingSection(String)
        /// A section whose contents are inconsistent: `section` is its tag, `detail` what is wrong.
        case malformedSection(String, detail: String)

        public var description: String {
            switch self {
            case .notFound: "no such file"
            case .unreadable: "cannot read file"
            case .tooLarge(let bytes, let limit): "\(bytes) bytes is more than the limit of \(limit) for a model file"
            case .notAModelFile: "not a Propensity model file (wrong magic bytes)"
            case .truncated(let bytes, nil): "truncated: \(bytes) bytes is shorter than the header and checksum"
            case .truncated(let bytes, let declared?): "truncated: the header declares \(declared) bytes, the file has \(bytes)"
            case .unsupportedVersion(let found, let supported):
                "unsupported format version \(found) (this build reads version \(supported))"
            case .trailingBytes(let count): "\(count) unexpected bytes after the declared end of the file"
            case .checksumMismatch: "checksum mismatch: the file is corrupt"
            case .unknownModelKind(let code): "unknown model kind \(code)"
            case .malformedLayout(let detail): detail
            case .unsupportedRequiredSection(let tag): "required section \(tag) is not supported by this build (newer file?)"
            case .duplicateSection(let tag): "section \(tag) appears twice"
            case .missingSection(let tag): "missing required section \(tag)"
            case .malformedSection(let tag, let detail): "section \(tag): \(detail)"
            }
        }
    }

    public var description: String { "\(file): \(reason)" }
}
