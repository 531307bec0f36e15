/// What a model file's name says: `NAME.model` or `NAME@VERSION.model`, split at the first `@`.
///
/// A name is refused when it is empty, starts with a dot (hidden files, `.model`, `..model`) or holds a control
/// character; a version when it is empty or holds another `@` or a control character. Refusing them keeps every
/// served model addressable and keeps file names from forging log lines.
struct ModelFileName: Equatable {
    var name: String
    var version: String?

    init(_ fileName: String) throws(ModelLoadError) {
        let base = String(fileName.dropLast(ModelDirectory.suffix.count))
        let name: Substring
        let version: Substring?
        if let at = base.firstIndex(of: "@") {
            name = base[..<at]
            version = base[base.index(after: at)...]
        } else {
            (name, version) = (Substring(base), nil)
        }
        guard !name.isEmpty else { throw .invalidFileName(.emptyName) }
        guard !name.hasPrefix(".") else { throw .invalidFileName(.hidden) }
        guard !Self.hasControlCharacter(name) else { throw .invalidFileName(.controlCharacter) }
        if let version {
            guard !version.isEmpty else { throw .invalidFileName(.emptyVersion) }
            guard !version.contains("@") else { throw .invalidFileName(.secondAt) }
            guard !Self.hasControlCharacter(version) else { throw .invalidFileName(.controlCharacter) }
        }
        self.name = String(name)
        self.version = version.map(String.init)
    }

    static func hasControlCharacter(_ s: Substring) -> Bool {
        s.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}
