#if canImport(Glibc)
import Glibc
#endif

/// Fits the connection limits to the process's descriptor limit (`RLIMIT_NOFILE`), so that connections are refused
/// with ERROR 20 by the server's own limit, never by the kernel's EMFILE (which leaves clients waiting in the
/// accept queue).
///
/// The soft limit is raised to the hard one where it is lower. Of the descriptors, `reserved` are kept for
/// everything but client connections (model files, event loops, logs, the listeners); of the rest, one in eight is
/// kept for connections being refused (each holds a descriptor until its ERROR is written) and for metrics scrapes.
public struct DescriptorBudget: Sendable, Equatable {
    /// Descriptors kept for the process itself.
    public static let reserved = 64

    /// The descriptor limit in force after `fit`.
    public var softLimit: Int
    /// Whether `fit` raised the soft limit.
    public var raised: Bool
    /// The scoring connection limit that fits (the one asked for, or lower).
    public var maxConnections: Int
    /// Whether the requested limit had to be lowered.
    public var lowered: Bool { maxConnections < requested }
    public var requested: Int

    /// The largest connection limit up to `requested` that `softLimit` descriptors allow, `metricsConnections` of
    /// them going to the metrics port.
    public static func plan(requested: Int, metricsConnections: Int, softLimit: Int) -> Int {
        let forClients = max(0, softLimit - reserved - metricsConnections)
        return max(1, min(requested, forClients - forClients / 8))
    }

    /// Raises the soft limit where allowed and computes the connection limit that fits it.
    public static func fit(requested: Int, metricsConnections: Int) -> DescriptorBudget {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else {
            return DescriptorBudget(softLimit: -1, raised: false, maxConnections: requested, requested: requested)
        }
        var raised = false
        if limit.rlim_cur < limit.rlim_max {
            var wanted = limit
            wanted.rlim_cur = limit.rlim_max
            if setrlimit(RLIMIT_NOFILE_VALUE, &wanted) == 0 {
                limit = wanted
                raised = true
            }
        }
        let soft = limit.rlim_cur == rlim_t.max ? Int.max / 2 : Int(limit.rlim_cur)
        return DescriptorBudget(
            softLimit: soft, raised: raised,
            maxConnections: plan(requested: requested, metricsConnections: metricsConnections, softLimit: soft),
            requested: requested)
    }
}

#if canImport(Glibc)
// Glibc imports RLIMIT_NOFILE as an enum case of `__rlimit_resource`; the functions take it as Int32.
private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#endif
