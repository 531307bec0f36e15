import Foundation
import Testing

@testable import PropensityPrivacy

@Suite struct PseudonymiserTests {
    // RFC 4231, test cases 1 and 2: the pseudonym is HMAC-SHA256, hex.
    @Test func pseudonymsAreHMACSHA256() {
        let one = Pseudonymiser(key: Array(repeating: 0x0b, count: 20))
        #expect(one.pseudonym("Hi There") == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        let two = Pseudonymiser(key: Array("Jefe".utf8))
        #expect(two.pseudonym("what do ya want for nothing?")
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func keyFile(_ contents: String, mode: Int = 0o600) throws -> String {
        let path = NSTemporaryDirectory() + "propensity-key-\(UUID().uuidString)"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    @Test func aKeyFileLosesItsTrailingNewline() throws {
        let hex = String(repeating: "ab", count: 32)
        let fromFile = try Pseudonymiser(keyFile: try keyFile(hex + "\n"))
        let direct = Pseudonymiser(key: Array(hex.utf8))
        #expect(fromFile.pseudonym("visitor-1") == direct.pseudonym("visitor-1"))
        #expect(fromFile.keyFingerprint == direct.keyFingerprint && fromFile.keyFingerprint.count == 8)
        // Another key, another pseudonym: rotation unlinks old pseudonyms.
        let other = Pseudonymiser(key: Array(String(repeating: "cd", count: 32).utf8))
        #expect(other.pseudonym("visitor-1") != direct.pseudonym("visitor-1"))
        #expect(other.keyFingerprint != direct.keyFingerprint)
    }

    @Test func badKeyFilesAreRefused() throws {
        let short = try keyFile("0123456789\n")
        #expect(throws: PseudonymKeyError.tooShort(file: short, bytes: 10)) { try Pseudonymiser(keyFile: short) }
        let open = try keyFile(String(repeating: "x", count: 40), mode: 0o644)
        #expect(throws: PseudonymKeyError.tooOpen(file: open, mode: "644")) { try Pseudonymiser(keyFile: open) }
        let missing = NSTemporaryDirectory() + "propensity-no-such-key"
        #expect(throws: PseudonymKeyError.unreadable(file: missing, reason: "no such file")) {
            try Pseudonymiser(keyFile: missing)
        }
        // The message names the file and the fix, never the key.
        #expect("\(PseudonymKeyError.tooOpen(file: open, mode: "644"))".contains("chmod 600"))
    }
}
