import Foundation

/// Hands out "grow the next tree of fold k" to the tuning threads so that no thread idles while a fold could
/// advance, and decides when a trial ends.
///
/// A strict lockstep (every fold grows tree t, then all wait) leaves a thread idle whenever the fold count is not a
/// multiple of the thread count: 5 folds on 2 threads waste a sixth of each step. Here a fold may run up to `window`
/// trees ahead of the slowest one; the trial's decisions (the mean AUC at each tree count, early stopping, pruning)
/// are still taken tree count by tree count, in order, once every fold has reached that count, so they do not
/// depend on the schedule. Trees grown past the stopping count are discarded work, at most `window` per fold.
final class FoldSchedule: @unchecked Sendable {
    private let condition = NSCondition()
    private var progress: [Int]
    private var busy: [Bool]
    /// Per fold, its held-out AUC after each tree.
    private var aucs: [[Double]]
    private let window: Int
    /// Tree counts decided so far; the trial ends when a decision stops it or `maxTrees` is decided.
    private var decided = 0
    private var stopped = false
    private let maxTrees: Int
    private let decide: (_ trees: Int, _ foldAUCs: [Double]) -> Bool

    /// `decide(t, aucs)` is called for t = 1, 2, … in order, under the schedule's lock, with every fold's AUC after
    /// t trees; it returns true to end the trial at t.
    init(folds: Int, maxTrees: Int, window: Int = 4, decide: @escaping (Int, [Double]) -> Bool) {
        progress = Array(repeating: 0, count: folds)
        busy = Array(repeating: false, count: folds)
        aucs = Array(repeating: [], count: folds)
        self.window = window
        self.maxTrees = maxTrees
        self.decide = decide
    }

    /// The next fold to grow a tree for (the least advanced one free to run), waiting while every runnable fold is
    /// taken by another thread; nil when the trial has ended.
    func next() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if stopped { return nil }
            let slowest = progress.min()!
            let limit = min(maxTrees, slowest + window)
            var pick: Int? = nil
            for k in progress.indices where !busy[k] && progress[k] < limit {
                if pick == nil || progress[k] < progress[pick!] { pick = k }
            }
            if let pick {
                busy[pick] = true
                return pick
            }
            // Every fold is either running or at the limit: some other thread holds a fold, or all reached maxTrees.
            if !busy.contains(true) { return nil }
            condition.wait()
        }
    }

    /// Records fold `k`'s AUC after its next tree and takes every decision that became possible.
    func finished(_ k: Int, auc: Double) {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        busy[k] = false
        progress[k] += 1
        aucs[k].append(auc)
        while !stopped, decided < maxTrees, progress.allSatisfy({ $0 > decided }) {
            decided += 1
            if decide(decided, aucs.map { $0[decided - 1] }) { stopped = true }
        }
        if decided == maxTrees { stopped = true }
    }
}
