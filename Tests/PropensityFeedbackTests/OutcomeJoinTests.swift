import Foundation
import PropensityPrivacy
import Testing

@testable import PropensityFeedback

struct OutcomeJoinTests {
    static let key = Pseudonymiser(key: Array(repeating: 7, count: 32))

    /// A feed directory with one file of `lines` (after the header) and a conversions file.
    func fixture(feed lines: [String], conversions: String, torn: String = "", keyFingerprint: String? = nil)
        throws -> (dir: String, feed: String, conversions: String, out: String)
    {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("propensity-join-\(UUID())").path
        let feed = dir + "/conv@1"
        try FileManager.default.createDirectory(atPath: feed, withIntermediateDirectories: true)
        let text = (["visitor,time,route,variant,age,device,score"] + lines).joined(separator: "\n") + "\n" + torn
        let fp = keyFingerprint ?? Self.key.keyFingerprint
        try Data(text.utf8).write(to: URL(fileURLWithPath: feed + "/feed-20261203T100000-k\(fp).csv"))
        try Data(conversions.utf8).write(to: URL(fileURLWithPath: dir + "/conversions.csv"))
        return (dir, feed, dir + "/conversions.csv", dir + "/out.csv")
    }

    @Test func aConversionInsideTheWindowLabelsTheRow() throws {
        let alice = Self.key.pseudonym("alice"), bob = Self.key.pseudonym("bob")
        let f = try fixture(
            feed: [
                "\(alice),2026-12-03T10:00:00.000Z,checkout,conv@1,41,mobile,0.25",
                "\(bob),2026-12-03T10:00:00.000Z,checkout,conv@1,30,\"desk,top\",0.5",
                "\(alice),2026-12-01T10:00:00.000Z,checkout,conv@1,41,mobile,0.2",  // two days before: outside
            ],
            conversions: "visitor,time\nalice,2026-12-03T12:00:00Z\nbob,2026-12-02T12:00:00Z\ncarol,2026-12-03T12:00:00Z\n")
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let summary = try OutcomeJoin.run(
            feed: f.feed, conversions: f.conversions, keyColumn: "visitor", timeColumn: "time", window: 24 * 3600,
            pseudonymiser: Self.key, output: f.out)
        #expect(summary.rows == 3 && summary.positives == 1 && summary.conversions == 3 && summary.tornFiles.isEmpty)
        let out = try String(contentsOfFile: f.out, encoding: .utf8).split(separator: "\n")
        #expect(out[0] == "visitor,time,route,variant,age,device,score,converted")
        #expect(out[1].hasSuffix(",1") && out[2].hasSuffix(",0") && out[3].hasSuffix(",0"))
        #expect(out[2].contains("\"desk,top\""))
        // No raw identifier reaches the output.
        let text = try String(contentsOfFile: f.out, encoding: .utf8)
        #expect(!text.contains("alice") && !text.contains("bob"))
    }

    @Test func aTornLastRecordIsSkippedAndReported() throws {
        let alice = Self.key.pseudonym("alice")
        let f = try fixture(
            feed: ["\(alice),2026-12-03T10:00:00.000Z,checkout,conv@1,41,mobile,0.25"],
            conversions: "visitor,time\nalice,2026-12-03T11:00:00Z\n", torn: "\(alice),2026-12-03T10:00:01.0")
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let summary = try OutcomeJoin.run(
            feed: f.feed, conversions: f.conversions, keyColumn: "visitor", timeColumn: "time", window: 3600,
            pseudonymiser: Self.key, output: f.out)
        #expect(summary.rows == 1 && summary.positives == 1 && summary.tornFiles.count == 1)
    }

    @Test func badInputsNameTheirFile() throws {
        let f = try fixture(feed: ["x,not-a-time,r,v,1,a,0.5"], conversions: "visitor,time\nalice,2026-12-03T11:00:00Z\n")
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        func run(_ feed: String, window: Double = 3600, key: Pseudonymiser = Self.key) throws {
            _ = try OutcomeJoin.run(
                feed: feed, conversions: f.conversions, keyColumn: "visitor", timeColumn: "time", window: window,
                pseudonymiser: key, output: f.out)
        }
        let file = f.feed + "/feed-20261203T100000-k\(Self.key.keyFingerprint).csv"
        #expect(throws: OutcomeJoinError.badTime(file: file, line: 2, value: "not-a-time")) { try run(f.feed) }
        #expect(throws: OutcomeJoinError.noFeedFiles(directory: f.dir)) { try run(f.dir) }
        #expect(throws: OutcomeJoinError.badWindow(hours: 0)) { try run(f.feed, window: 0) }
        let other = Pseudonymiser(key: Array(repeating: 9, count: 32))
        #expect(throws: OutcomeJoinError.otherKey(file: file, fileKey: Self.key.keyFingerprint, givenKey: other.keyFingerprint)) {
            try run(f.feed, key: other)
        }
    }
}
