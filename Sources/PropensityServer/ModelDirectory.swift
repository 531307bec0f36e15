#if canImport(Glibc)
import Glibc
#endif
import PropensityModelFile

/// The `*.model` files of a directory, listed from the raw directory entries so that a name that is not UTF-8 is
/// reported rather than skipped or silently re-encoded.
enum ModelDirectory {
    struct Entry {
        /// The path as given to the file system (for a name that is not UTF-8, its escaped form, for reports).
        var path: String
        /// The file name, nil when it is not valid UTF-8.
        var name: String?
    }

    static let suffix = Array(("." + ModelFile.fileExtension).utf8)

    static func list(_ directory: String) throws(ModelDirectoryError) -> [Entry] {
        guard let handle = opendir(directory) else { throw .unreadable(directory: directory, errno: errno) }
        defer { closedir(handle) }
        var entries: [Entry] = []
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        while let entry = readdir(handle) {
            let bytes = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            guard bytes.count >= suffix.count, bytes.suffix(suffix.count).elementsEqual(suffix) else { continue }
            if let name = String(validating: bytes, as: UTF8.self) {
                entries.append(Entry(path: base + name, name: name))
            } else {
                entries.append(Entry(path: base + LogSafe.escape(bytes: bytes), name: nil))
            }
        }
        return entries.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
    }

    /// Modification time and size; nil when the file is gone.
    static func stamp(_ path: String) -> ModelRegistry.FileStamp? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return ModelRegistry.FileStamp(modified: status.st_mtim, size: Int(status.st_size))
    }
}
