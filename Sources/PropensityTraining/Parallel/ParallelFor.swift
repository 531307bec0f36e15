import Foundation
import Synchronization

/// Runs `body(i)` for `i` in `0..<count` on up to `threads` threads (the caller's included) and returns when all
/// are done. Callers make every `i` write its own outputs, so results never depend on which thread ran what.
enum ParallelFor {
    static func run(count: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
        if min(threads, count) <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        WorkerPool.shared(threads: threads).run(count: count, body)
    }
}

/// Worker threads that spin briefly between jobs before sleeping.
///
/// Training hands out hundreds of small parallel jobs per tree (one per histogram, partition, gather). Waking a
/// parked thread for each costs tens of microseconds on these VMs — an idle vCPU halts at once — which added up to
/// a tenth of the training time with Dispatch. Here a worker that just finished a job keeps polling for ~100 µs, so
/// back-to-back jobs start immediately; a worker idle for longer parks on a semaphore and costs nothing.
final class WorkerPool: @unchecked Sendable {
    private static let pools = Mutex<[Int: WorkerPool]>([:])

    /// The process-wide pool for `threads` threads (`threads − 1` workers plus the caller).
    static func shared(threads: Int) -> WorkerPool {
        pools.withLock { pools in
            if let pool = pools[threads] { return pool }
            let pool = WorkerPool(workers: threads - 1)
            pools[threads] = pool
            return pool
        }
    }

    /// The current job in one word, so a worker can never pair one job's task index with another's count:
    /// generation (16 bits) | task count (24 bits) | next task index (24 bits).
    private let ticket = Atomic<UInt64>(0)
    private let finished = Atomic<Int>(0)
    /// Workers currently looking at or running a job; `run` changes `job` only when this is 0.
    private let busy = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let wake = DispatchSemaphore(value: 0)
    /// One job at a time.
    private let submit = NSLock()
    nonisolated(unsafe) private var job: ((Int) -> Void)?
    nonisolated(unsafe) private var generation: UInt64 = 0

    private init(workers: Int) {
        for _ in 0..<workers {
            let thread = Thread { [unowned self] in self.workerLoop() }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private static func generation(_ t: UInt64) -> UInt64 { t >> 48 }
    private static func count(_ t: UInt64) -> Int { Int((t >> 24) & 0xFF_FFFF) }
    private static func index(_ t: UInt64) -> Int { Int(t & 0xFF_FFFF) }

    func run(count: Int, _ body: @Sendable (Int) -> Void) {
        precondition(count < 1 << 24)
        submit.lock()
        defer { submit.unlock() }
        withoutActuallyEscaping(body) { body in
            job = body
            finished.store(0, ordering: .sequentiallyConsistent)
            generation = (generation + 1) & 0xFFFF
            ticket.store(generation << 48 | UInt64(count) << 24, ordering: .sequentiallyConsistent)
            let asleep = sleepers.load(ordering: .sequentiallyConsistent)
            for _ in 0..<asleep { wake.signal() }
            runTasks(generation: generation)
            // Every task done, and no worker between reading the ticket and finishing: `job` may change now.
            while finished.load(ordering: .sequentiallyConsistent) < count
                || busy.load(ordering: .sequentiallyConsistent) > 0
            {}
            job = nil
        }
    }

    private func runTasks(generation: UInt64) {
        var t = ticket.load(ordering: .sequentiallyConsistent)
        while Self.generation(t) == generation, Self.index(t) < Self.count(t) {
            let (taken, current) = ticket.compareExchange(
                expected: t, desired: t + 1, ordering: .sequentiallyConsistent)
            if taken {
                job!(Self.index(t))
                finished.add(1, ordering: .sequentiallyConsistent)
                t = ticket.load(ordering: .sequentiallyConsistent)
            } else {
                t = current
            }
        }
    }

    private func workerLoop() {
        var seen: UInt64 = 0
        var idleSpins = 0
        while true {
            busy.add(1, ordering: .sequentiallyConsistent)
            let current = Self.generation(ticket.load(ordering: .sequentiallyConsistent))
            if current != seen {
                seen = current
                runTasks(generation: current)
                busy.subtract(1, ordering: .sequentiallyConsistent)
                idleSpins = 0
                continue
            }
            busy.subtract(1, ordering: .sequentiallyConsistent)
            idleSpins += 1
            if idleSpins > 50_000 {
                sleepers.add(1, ordering: .sequentiallyConsistent)
                if Self.generation(ticket.load(ordering: .sequentiallyConsistent)) == seen { wake.wait() }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                idleSpins = 0
            }
        }
    }
}
