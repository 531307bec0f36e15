import NIOCore
import PropensityProtocol

/// Small SCORE requests of one read for the same model, scored together (for models whose scorer has a faster batch
/// path, `Scorer.batchingPays`; the handler scores the others directly). Pipelined single-row requests then take the
/// scorer's batch path where that is faster per row than one row at a time (tree ensembles: several rows walk each
/// tree level together); every scorer gives the same bits for a row whether it is scored alone or in a batch. The
/// features are gathered only when the batch is large enough to pay for the copy (`Scorer.batchingPays`).
struct ScoreBatch {
    /// Requests up to this many rows join a batch; a batch is scored once it holds this many rows.
    static let maxRows = 64

    private(set) var model: ServedModel?
    private(set) var rowCount = 0
    /// Each request's id, row count and features (a slice of the receive buffer, not a copy).
    private var requests: [(id: UInt32, rows: Int, features: ByteBuffer)] = []
    private var features: [UInt8] = []
    private var scores: [Float] = []

    /// Whether a request of `rows` rows for `served` may join without scoring the batch first.
    func accepts(_ served: ServedModel, rows: Int) -> Bool {
        model.map { $0 === served && rowCount + rows <= Self.maxRows } ?? true
    }

    mutating func add(_ served: ServedModel, id: UInt32, rows: Int, features payload: ByteBuffer) {
        model = served
        rowCount += rows
        requests.append((id, rows, payload))
    }

    /// Scores the batch and writes one SCORES answer per request, in arrival order; empties the batch. `answered` is
    /// told each request's model and row count; the rows are counted into the model's drift shard `driftShard` at
    /// time `now`.
    mutating func flush(
        into out: inout ByteBuffer, driftShard: Int, now: UInt64, answered: (ServedModel, Int) -> Void
    ) {
        guard let served = model else { return }
        out.reserveCapacity(minimumWritableBytes: requests.count * 16 + rowCount * 4)
        if requests.count > 1, let enough = served.scorer.batchingPays, rowCount >= enough {
            scoreGathered(served, into: &out, driftShard: driftShard, now: now, answered: answered)
        } else {
            for (id, rows, payload) in requests {
                payload.withUnsafeReadableBytes { input in
                    ResponseCodec.encodeScores(requestID: id, count: rows, into: &out) { output in
                        served.scorer.score(rows: input, rowCount: rows, into: output)
                        served.drift?.record(
                            features: input, rowCount: rows, scores: UnsafeRawBufferPointer(output), shard: driftShard,
                            now: now)
                    }
                }
                answered(served, rows)
            }
        }
        model = nil
        rowCount = 0
        requests.removeAll(keepingCapacity: true)
    }

    private mutating func scoreGathered(
        _ served: ServedModel, into out: inout ByteBuffer, driftShard: Int, now: UInt64, answered: (ServedModel, Int) -> Void
    ) {
        features.removeAll(keepingCapacity: true)
        for request in requests { request.features.withUnsafeReadableBytes { features.append(contentsOf: $0) } }
        if scores.count < rowCount { scores = [Float](repeating: 0, count: Self.maxRows) }
        features.withUnsafeBytes { input in
            scores.withUnsafeMutableBytes { output in
                served.scorer.score(rows: input, rowCount: rowCount, into: output)
                served.drift?.record(
                    features: input, rowCount: rowCount, scores: UnsafeRawBufferPointer(output), shard: driftShard, now: now)
            }
        }
        var first = 0
        scores.withUnsafeBytes { all in
            for (id, rows, _) in requests {
                ResponseCodec.encodeScores(requestID: id, count: rows, into: &out) { output in
                    output.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[(first * 4)..<((first + rows) * 4)]))
                }
                first += rows
                answered(served, rows)
            }
        }
    }
}
