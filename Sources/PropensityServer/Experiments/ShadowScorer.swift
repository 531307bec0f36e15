import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import PropensityScoring

/// Scores a route's shadows off the request path: the event loop hands over a copy of the rows and the answered
/// probabilities and moves on; one background thread, scheduled as SCHED_IDLE on Linux (it runs only when a core
/// would otherwise idle, so it never takes CPU from the event loops), scores each shadow and records how far it is
/// from the answer. The queue is bounded in rows: when it is full, new shadow work is dropped and counted, never
/// waited for.
final class ShadowScorer: Sendable {
    struct Job: Sendable {
        let metrics: RouteMetrics
        /// Each shadow with its position among the route's shadows (its metric).
        let shadows: [(position: Int, model: ServedModel)]
        let features: [UInt8]
        let rowCount: Int
        let answered: [Float]
    }

    private struct Queue {
        var jobs: [Job] = []
        var rows = 0
        var stopped = false
    }

    /// For handlers made outside a server (tests): one thread, created on first use.
    static let shared = ShadowScorer()

    let maxPendingRows: Int
    private let queue = NIOLockedValueBox(Queue())
    private let wake = DispatchSemaphore(value: 0)
    /// Jobs finished, for tests to wait on.
    private let finished = NIOLockedValueBox(0)

    init(maxPendingRows: Int = 65_536) {
        self.maxPendingRows = maxPendingRows
        let thread = Thread { [self] in self.work() }
        thread.name = "propensity-shadows"
        thread.start()
    }

    /// Queues a job; false (and the rows counted as dropped) when the queue holds `maxPendingRows` already.
    @discardableResult
    func submit(_ job: Job) -> Bool {
        let accepted = queue.withLockedValue { q in
            guard !q.stopped, q.rows + job.rowCount <= maxPendingRows else { return false }
            q.jobs.append(job)
            q.rows += job.rowCount
            return true
        }
        if accepted {
            wake.signal()
        } else {
            job.metrics.shadowDropped.increment(by: job.rowCount * job.shadows.count)
        }
        return accepted
    }

    /// Ends the thread once the queued jobs are done.
    func stop() {
        queue.withLockedValue { $0.stopped = true }
        wake.signal()
    }

    var jobsFinished: Int { finished.withLockedValue { $0 } }

    private func work() {
        #if os(Linux)
        var parameters = sched_param()
        _ = pthread_setschedparam(pthread_self(), 5 /* SCHED_IDLE, not exported by Glibc's module */, &parameters)
        #endif
        while true {
            wake.wait()
            let (jobs, stopped) = queue.withLockedValue { q -> ([Job], Bool) in
                defer { q.jobs.removeAll(keepingCapacity: true); q.rows = 0 }
                return (q.jobs, q.stopped)
            }
            for job in jobs { run(job) }
            if stopped { return }
        }
    }

    private func run(_ job: Job) {
        var scores = [Float](repeating: 0, count: job.rowCount)
        for (position, shadow) in job.shadows {
            job.features.withUnsafeBytes { input in
                scores.withUnsafeMutableBytes { output in
                    shadow.scorer.score(rows: input, rowCount: job.rowCount, into: output)
                }
            }
            let recorder = job.metrics.disagreement[position]
            for (s, a) in zip(scores, job.answered) { recorder.record(Double(abs(s - a))) }
        }
        finished.withLockedValue { $0 += 1 }
    }
}
