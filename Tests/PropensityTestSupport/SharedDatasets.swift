import Foundation

/// The real datasets beside the repository (`../shared/datasets`, or `$PROPENSITY_DATASETS`). Tests that need them
/// are enabled only when they are there, and say so when skipped.
public enum SharedDatasets {
    public static var path: String {
        if let override = ProcessInfo.processInfo.environment["PROPENSITY_DATASETS"] { return override }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.deletingLastPathComponent().appendingPathComponent("shared/datasets").path
    }

    public static var available: Bool { FileManager.default.fileExists(atPath: path + "/README.md") }
}
