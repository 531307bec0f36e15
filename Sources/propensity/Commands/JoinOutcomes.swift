import ArgumentParser
import PropensityFeedback
import PropensityPrivacy

struct JoinOutcomes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join-outcomes",
        abstract: "Label a sampled feed (serve --sample-log) with conversions: a labelled training set.",
        discussion: """
            A fed row is a conversion (converted = 1) when its visitor converted within --window-hours after it was \
            scored. Train on the result with: propensity train --data OUT --label converted --drop \
            visitor,time,route,variant,score (docs/feedback.md).
            """)

    @Option(help: "A model version's directory of the sample log (SAMPLE_LOG/NAME@VERSION).") var feed: String
    @Option(help: "CSV of conversions: a visitor identifier and an ISO 8601 time per line.") var conversions: String
    @Option(help: "Identifier column of --conversions (the raw identifier clients pseudonymise into visitor keys).")
    var keyColumn: String = "visitor"
    @Option(help: "Time column of --conversions.") var timeColumn: String = "time"
    @Option(help: "Hours after a scoring in which a conversion counts.") var windowHours: Double = 168
    @Option(help: "The key file the server pseudonymised with (serve --pseudonymise-key-file).") var pseudonymiseKeyFile: String
    @Option(help: "Output CSV: the feed's lines with a converted column.") var out: String

    func run() async throws {
        try await reportingErrors {
            let summary = try OutcomeJoin.run(
                feed: feed, conversions: conversions, keyColumn: keyColumn, timeColumn: timeColumn,
                window: windowHours * 3600, pseudonymiser: try Pseudonymiser(keyFile: pseudonymiseKeyFile), output: out)
            for file in summary.tornFiles {
                progress("\(file): its last record was incomplete (the server stopped mid-write) and was skipped")
            }
            print("joined \(summary.rows) fed rows from \(summary.files) files with \(summary.conversions) conversions: "
                + "\(summary.positives) converted within \(fixed(windowHours, 1)) h; written to \(out)")
        }
    }
}
