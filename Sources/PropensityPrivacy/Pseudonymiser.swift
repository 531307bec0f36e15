import Crypto
import Foundation

/// Keyed pseudonyms for visitor identifiers: HMAC-SHA256 of the identifier's UTF-8 bytes under a secret key, as 64
/// lowercase hex digits. The same identifier and key always give the same pseudonym (so feeds can be joined), and
/// without the key a pseudonym cannot be linked back to an identifier by hashing candidates (GDPR Art. 4(5): the
/// key is the "additional information kept separately"). See docs/privacy.md for key files and rotation.
public struct Pseudonymiser: Sendable {
    /// HMAC-SHA256 keys shorter than the hash output weaken it; 32 bytes is the floor.
    public static let minimumKeyBytes = 32

    // Immutable once made; Crypto does not mark it Sendable.
    nonisolated(unsafe) private let key: SymmetricKey
    /// The first 8 hex digits of SHA-256 of the key: names the key in logs and outputs without revealing it.
    public let keyFingerprint: String

    public init(key: [UInt8]) {
        self.key = SymmetricKey(data: key)
        keyFingerprint = SHA256.hash(data: key).prefix(4).map { String(format: "%02x", $0) }.joined()
    }

    /// Reads the key from a file: its bytes, less one trailing newline (so `openssl rand -hex 32 > key` works). The
    /// file must not be readable by group or others, and must hold at least `minimumKeyBytes` bytes.
    public init(keyFile: String) throws(PseudonymKeyError) {
        let attributes: [FileAttributeKey: Any]
        let contents: Data
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: keyFile)
            contents = try Data(contentsOf: URL(fileURLWithPath: keyFile))
        } catch {
            let reason = FileManager.default.fileExists(atPath: keyFile) ? "permission denied or not a file" : "no such file"
            throw .unreadable(file: keyFile, reason: reason)
        }
        if let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
            throw .tooOpen(file: keyFile, mode: String(mode, radix: 8))
        }
        var bytes = [UInt8](contents)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard bytes.count >= Self.minimumKeyBytes else { throw .tooShort(file: keyFile, bytes: bytes.count) }
        self.init(key: bytes)
    }

    /// The pseudonym of one identifier (of its UTF-8 bytes).
    public func pseudonym(_ identifier: String) -> String {
        pseudonym(bytes: Array(identifier.utf8))
    }

    /// The pseudonym of an identifier given as bytes (a visitor key on the wire).
    public func pseudonym<Bytes: DataProtocol>(bytes: Bytes) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: bytes, using: key)
        var hex = ""
        hex.reserveCapacity(64)
        for byte in mac {
            hex.append(Self.digits[Int(byte >> 4)])
            hex.append(Self.digits[Int(byte & 15)])
        }
        return hex
    }

    private static let digits = Array("0123456789abcdef")
}
