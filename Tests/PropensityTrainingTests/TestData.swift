import Foundation

/// Where test inputs live: bundled fixtures, and the shared real datasets beside the repository.
enum TestData {
    static func fixture(_ name: String) -> String {
        Bundle.module.path(forResource: name, ofType: nil, inDirectory: "Fixtures")!
    }

    /// `../shared/datasets` beside the repository root (or `$PROPENSITY_DATASETS`).
    static var sharedDatasets: String {
        if let override = ProcessInfo.processInfo.environment["PROPENSITY_DATASETS"] { return override }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.deletingLastPathComponent().appendingPathComponent("shared/datasets").path
    }
}
