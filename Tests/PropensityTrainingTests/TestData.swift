import Foundation

/// Where bundled test fixtures live (the shared real datasets: `SharedDatasets`).
enum TestData {
    static func fixture(_ name: String) -> String {
        Bundle.module.path(forResource: name, ofType: nil, inDirectory: "Fixtures")!
    }
}
