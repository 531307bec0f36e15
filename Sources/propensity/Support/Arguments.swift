import Foundation

func parseList(_ text: String?) -> [String] {
    guard let text, !text.isEmpty else { return [] }
    return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

func parseDelimiter(_ text: String?) throws -> UInt8? {
    guard let text else { return nil }
    switch text {
    case ",", "comma": return UInt8(ascii: ",")
    case ";", "semicolon": return UInt8(ascii: ";")
    case "\\t", "tab", "\t": return 0x09
    case "|", "pipe": return UInt8(ascii: "|")
    default: throw CLIError("--delimiter must be one of , ; tab |")
    }
}

/// The shared secret in a `--token-file`: its contents without surrounding whitespace.
func readToken(file: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read --token-file \(file)") }
    return Array(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).utf8)
}

/// The token a server requires, from its file: at least 16 characters, so that it cannot be guessed quickly.
func readServerToken(file: String) throws -> [UInt8] {
    let token = try readToken(file: file)
    guard token.count >= 16 else { throw CLIError("the token in \(file) must be at least 16 characters") }
    return token
}

/// Now, or `SOURCE_DATE_EPOCH` (the reproducible-builds convention) so that the same data, parameters and seed
/// give a byte-identical model file.
func creationTime() -> String {
    let epoch = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap(TimeInterval.init)
    return ISO8601DateFormatter().string(from: epoch.map { Date(timeIntervalSince1970: $0) } ?? Date())
}
