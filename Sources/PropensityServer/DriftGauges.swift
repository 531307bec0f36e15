import Dispatch
import Metrics
import NIOConcurrencyHelpers
import PropensityDrift

/// Publishes each served model version's drift over the rolling window as Prometheus gauges, computed every
/// `DriftSettings.interval` off the request path (from the monitors' counters, which the request path only adds to):
///
/// - `propensity_drift_psi{model,version,column}`: population stability index of each input column;
/// - `propensity_drift_score_psi{model,version}`: of the reported probability;
/// - `propensity_drift_rows{model,version}`: rows counted in the window.
///
/// PSI gauges read NaN while the window holds fewer than `minimumRows` rows. A version's gauges go when it is
/// unloaded.
final class DriftGauges: Sendable {
    private struct Published {
        let monitor: ObjectIdentifier
        let columns: [Gauge]
        let score: Gauge
        let rows: Gauge

        func destroy() {
            for g in columns { g.destroy() }
            score.destroy()
            rows.destroy()
        }
    }

    private let registry: ModelRegistry
    private let published = NIOLockedValueBox<[String: Published]>([:])

    init(registry: ModelRegistry) {
        self.registry = registry
    }

    /// Each tracked version's report over the window ending `now` (monotonic nanoseconds), by `name@version`; the
    /// gauges are set to it.
    @discardableResult
    func update(now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> [String: DriftReport] {
        var reports: [String: DriftReport] = [:]
        let tracked = registry.all.filter { $0.drift != nil }
        published.withLockedValue { published in
            for served in tracked {
                guard let monitor = served.drift else { continue }
                let report = DriftReport(
                    profile: monitor.profile, schema: served.model.schema, counts: monitor.counts(now: now))
                reports[served.key] = report
                let gauges: Published
                if let existing = published[served.key], existing.monitor == ObjectIdentifier(monitor) {
                    gauges = existing
                } else {
                    published[served.key]?.destroy()
                    let base = [("model", served.name), ("version", served.version)]
                    gauges = Published(
                        monitor: ObjectIdentifier(monitor),
                        columns: served.model.schema.names.map {
                            Gauge(label: "propensity_drift_psi", dimensions: base + [("column", $0)])
                        },
                        score: Gauge(label: "propensity_drift_score_psi", dimensions: base),
                        rows: Gauge(label: "propensity_drift_rows", dimensions: base))
                    published[served.key] = gauges
                }
                let enough = report.currentRows >= UInt64(registry.drift.minimumRows)
                for (gauge, column) in zip(gauges.columns, report.columns) { gauge.record(enough ? column.psi : .nan) }
                gauges.score.record(enough ? report.scorePSI : .nan)
                gauges.rows.record(Double(report.currentRows))
            }
            for key in published.keys where reports[key] == nil {
                published[key]?.destroy()
                published[key] = nil
            }
        }
        return reports
    }
}
