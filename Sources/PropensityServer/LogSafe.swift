/// Text that goes into log lines from outside (file names, directory paths): control characters are escaped so
/// that a name with a newline cannot forge a second log line, and bytes that are not UTF-8 are shown as `\xNN`.
enum LogSafe {
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.properties.generalCategory == .control || scalar == "\\" {
                out += scalar == "\\" ? "\\\\" : "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func escape(bytes: [UInt8]) -> String {
        bytes.map { b in
            b >= 0x20 && b < 0x7F && b != UInt8(ascii: "\\")
                ? String(UnicodeScalar(b)) : "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
        }.joined()
    }
}
