import PropensityModel
import Testing

@testable import PropensityDrift

struct DriftMonitorTests {
    static let schema = DriftProfileTests.schema

    static func sample(_ count: Int, seed: Int) -> (rows: [Float], scores: [Float]) {
        var rows: [Float] = []
        var scores: [Float] = []
        for i in 0..<count {
            let k = (i * 7919 + seed * 104_729) % 1009
            rows += [k % 13 == 0 ? .nan : k % 29 == 0 ? -0.0 : Float(k) / 10 - 50, k % 17 == 0 ? .nan : Float(k % 6) - 0.5 * Float(k % 2)]
            scores.append(Float(k % 100) / 100)
        }
        return (rows, scores)
    }

    static let profile = DriftProfileBuilder.profile(
        rows: sample(2000, seed: 1).rows, schema: schema, scores: sample(2000, seed: 1).scores)!

    static func wire(_ values: [Float]) -> [UInt8] { values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }

    func record(_ monitor: DriftMonitor, _ rows: [Float], _ scores: [Float], shard: Int, now: UInt64) {
        let features = Self.wire(rows), wireScores = Self.wire(scores)
        features.withUnsafeBytes { f in
            wireScores.withUnsafeBytes { s in
                monitor.record(features: f, rowCount: scores.count, scores: s, shard: shard, now: now)
            }
        }
    }

    /// The request path's flat bins are the profile's own: the same counts as `DriftCounts`, whichever shard wrote.
    @Test func liveCountsEqualOfflineCounts() {
        let monitor = DriftMonitor(profile: Self.profile, shards: 3, window: .seconds(60))
        let (rows, scores) = Self.sample(900, seed: 2)
        for part in 0..<3 {
            let range = (part * 300)..<((part + 1) * 300)
            record(monitor, Array(rows[(range.lowerBound * 2)..<(range.upperBound * 2)]), Array(scores[range]),
                   shard: part, now: 1_000_000_000)
        }
        #expect(monitor.counts(now: 2_000_000_000) == DriftCounts.of(rows: rows, scores: scores, profile: Self.profile))
    }

    /// The request path counts edges below a value by integer arithmetic on an order-preserving key.
    @Test func orderKeysOrderAsFloatsDo() {
        let values: [Float] = [
            -.greatestFiniteMagnitude, -1e30, -2, -1, -.leastNormalMagnitude, -.leastNonzeroMagnitude, -0.0, 0,
            .leastNonzeroMagnitude, .leastNormalMagnitude, 1, 1.5, 3e38, .greatestFiniteMagnitude,
        ]
        for a in values {
            for b in values {
                let key = DriftMonitor.Plan.orderKey
                #expect((a < b) == (key(a) < key(b)) && (a == b) == (key(a) == key(b)), "\(a) \(b)")
            }
        }
    }

    @Test func countsLeaveTheWindow() {
        let monitor = DriftMonitor(profile: Self.profile, shards: 1, window: .seconds(12), slots: 12)
        let (rows, scores) = Self.sample(10, seed: 3)
        let second: UInt64 = 1_000_000_000
        record(monitor, rows, scores, shard: 0, now: 100 * second)
        record(monitor, rows, scores, shard: 0, now: 105 * second)
        #expect(monitor.counts(now: 106 * second).rows == 20)
        #expect(monitor.counts(now: 112 * second).rows == 10)  // the slot of second 100 has left
        #expect(monitor.counts(now: 117 * second).rows == 0)
        // A slot reused a window later starts from zero.
        record(monitor, rows, scores, shard: 0, now: 112 * second)
        #expect(monitor.counts(now: 112 * second).rows == 20)
        #expect(monitor.counts(now: 112 * second).score.reduce(0, +) == 20)
    }

    @Test func samplingCountsEveryKthRow() {
        let monitor = DriftMonitor(profile: Self.profile, shards: 1, window: .seconds(60), sampleEvery: 4)
        let (rows, scores) = Self.sample(10, seed: 4)
        for _ in 0..<10 { record(monitor, rows, scores, shard: 0, now: 1) }
        #expect(monitor.counts(now: 1).rows == 25)
        #expect(monitor.counts(now: 1).columns[0].reduce(0, +) == 25)
    }

    @Test func anUnknownShardIsIgnored() {
        let monitor = DriftMonitor(profile: Self.profile, shards: 1, window: .seconds(60))
        let (rows, scores) = Self.sample(5, seed: 5)
        record(monitor, rows, scores, shard: 1, now: 1)
        #expect(monitor.counts(now: 1).rows == 0)
    }
}
