import Foundation

/// A figure as the report shows it, in a table cell that names where it comes from: `data-path` is its place in the
/// embedded JSON (dots between keys and array indices) and `data-value` the exact number, so a reader (and the test)
/// can check the rounded text against `evaluate --json`.
struct ReportNumber {
    var value: Double
    var path: String
    var decimals: Int = 4
    /// Shown multiplied by this (100 for a percentage).
    var scale: Double = 1
    var suffix: String = ""
    /// Below this magnitude the number is shown in scientific notation (p-values), so it never reads as 0.0000.
    var scientificBelow: Double = 0
    /// Shown with its sign (a difference).
    var signed = false

    var shown: String {
        let scaled = value * scale
        let sign = signed && scaled >= 0 ? "+" : ""
        if scaled != 0, abs(scaled) < scientificBelow { return sign + String(format: "%.1e", scaled) + suffix }
        return sign + String(format: "%.\(decimals)f", scaled) + suffix
    }

    var cell: String {
        guard value.isFinite else { return "<td class=\"num\" data-path=\"\(path)\">n/a</td>" }
        return "<td class=\"num\" data-path=\"\(path)\" data-value=\"\(value)\" data-scale=\"\(scale == 1 ? "1" : "100")\" "
            + "data-decimals=\"\(decimals)\">\(HTMLText.escaped(shown))</td>"
    }

    static func integer(_ value: Int, path: String) -> String {
        "<td class=\"num\" data-path=\"\(path)\" data-value=\"\(value)\" data-scale=\"1\" data-decimals=\"0\">\(value)</td>"
    }

    /// The number inside another cell's text: a span with the same attributes.
    var bare: String {
        guard value.isFinite else { return "n/a" }
        return "<span data-path=\"\(path)\" data-value=\"\(value)\" data-scale=\"\(scale == 1 ? "1" : "100")\" data-decimals=\"\(decimals)\">\(HTMLText.escaped(shown))</span>"
    }
}
