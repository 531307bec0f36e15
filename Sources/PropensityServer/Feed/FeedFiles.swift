import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The files of a sample log directory: `MODEL@VERSION/feed-<UTC time>-k<key fingerprint>.csv`.
enum FeedFiles {
    static func list(_ directory: String) -> [String] {
        guard let subdirectories = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return subdirectories.sorted().flatMap { sub -> [String] in
            let path = directory + "/" + sub
            let files = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            return files.filter { $0.hasPrefix("feed-") && $0.hasSuffix(".csv") }.sorted().map { path + "/" + $0 }
        }
    }

    /// Cuts a file back to its last complete line; the number of bytes removed, nil when it was whole.
    static func trimTornLine(_ path: String) -> Int? {
        guard let data = FileManager.default.contents(atPath: path), let last = data.last, last != UInt8(ascii: "\n")
        else { return nil }
        let keep = (data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
        guard truncate(path, off_t(keep)) == 0 else { return nil }
        return data.count - keep
    }

    static func olderThan(days: Int, in directory: String, now: Date) -> [String] {
        let limit = now.addingTimeInterval(-Double(days) * 86_400)
        return list(directory).filter { path in
            var status = stat()
            guard stat(path, &status) == 0 else { return false }
            return Double(status.st_mtim.tv_sec) < limit.timeIntervalSince1970
        }
    }
}
