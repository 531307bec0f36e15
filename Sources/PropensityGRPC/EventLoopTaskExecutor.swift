import NIOCore

/// Runs the gRPC load generator's tasks on its own event loops instead of Swift's global pool: grpc-swift's client
/// hands each call from the connection's event loop to a task, and with the default executor every call paid two
/// thread switches (a third of the CPU, measured on the server side when it ran on grpc-swift too). A task's jobs arrive one at a time,
/// so spreading them over the loops keeps each task serial.
final class EventLoopTaskExecutor: TaskExecutor {
    let group: any EventLoopGroup

    init(group: any EventLoopGroup) { self.group = group }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        group.next().execute { job.runSynchronously(on: executor) }
    }
}
