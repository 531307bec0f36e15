import Foundation
import Synchronization
import Testing

@testable import PropensityTraining

@Suite struct FoldScheduleTests {
    /// Runs a schedule over `folds` fake folds whose AUC after tree t is a fixed function of (fold, t), and returns
    /// the decisions it took and the most trees any fold grew.
    func drive(folds: Int, threads: Int, maxTrees: Int, stopAt: Int?) -> (decisions: [[Double]], grown: [Int]) {
        let decisions = Mutex<[[Double]]>([])
        let schedule = FoldSchedule(folds: folds, maxTrees: maxTrees) { t, values in
            decisions.withLock { $0.append(values) }
            #expect(decisions.withLock { $0.count } == t, "decisions come in tree order")
            return t == stopAt
        }
        let grown = Mutex<[Int]>(Array(repeating: 0, count: folds))
        ParallelFor.run(count: threads, threads: threads) { _ in
            while let k = schedule.next() {
                let t = grown.withLock { g -> Int in
                    g[k] += 1
                    return g[k]
                }
                if k == 0 { usleep(200) }  // one slow fold: the others must not run away from it
                schedule.finished(k, auc: Double(k) + Double(t) / 1000)
            }
        }
        return (decisions.withLock { $0 }, grown.withLock { $0 })
    }

    @Test(arguments: [1, 2, 3])
    func decisionsSeeEveryFoldAtTheSameTreeCount(threads: Int) {
        let (decisions, grown) = drive(folds: 5, threads: threads, maxTrees: 40, stopAt: nil)
        #expect(decisions.count == 40)
        for (i, values) in decisions.enumerated() {
            #expect(values == (0..<5).map { Double($0) + Double(i + 1) / 1000 })
        }
        #expect(grown == Array(repeating: 40, count: 5), "nothing grows past maxTrees")
    }

    @Test(arguments: [1, 2, 3])
    func aStopEndsTheTrialWithinTheWindow(threads: Int) {
        let (decisions, grown) = drive(folds: 5, threads: threads, maxTrees: 1000, stopAt: 30)
        #expect(decisions.count == 30)
        // A fold runs at most 4 trees ahead of the slowest, so at most that many trees are grown past the stop.
        #expect(grown.allSatisfy { $0 >= 30 && $0 <= 34 }, "grown \(grown)")
    }
}
