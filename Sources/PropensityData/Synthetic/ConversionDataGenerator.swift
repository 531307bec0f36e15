import Foundation

/// Generates realistic e-commerce remarketing data: one row per visitor, with behaviour over the last 30 days,
/// a known true conversion probability (`true_propensity`) and a label drawn from it (`converted`, 0/1).
///
/// The same seed always gives the same bytes. `true_propensity` is the answer key: drop it when training
/// (`--drop true_propensity`) and compare it with the model's scores to see how close a model gets to the truth.
public struct ConversionDataGenerator {
    public static let labelColumn = "converted"
    public static let truthColumn = "true_propensity"
    public static let header = [
        "sessions_30d", "pages_per_session", "avg_session_seconds", "days_since_last_visit", "cart_adds_30d",
        "cart_value", "email_opens_30d", "discount_viewed", "hour_of_day", "device", "traffic_source", "country",
        "visitor_type", truthColumn, labelColumn,
    ]

    static let devices = [("mobile", 0.55, -0.25), ("desktop", 0.35, 0.20), ("tablet", 0.10, 0.0)]
    static let sources = [
        ("organic", 0.30, 0.0), ("paid_search", 0.20, 0.25), ("social", 0.15, -0.45), ("email", 0.10, 0.55),
        ("direct", 0.15, 0.30), ("referral", 0.06, 0.10), ("display", 0.04, -0.60),
    ]
    static let countries = [
        ("US", 0.40, 0.10), ("GB", 0.15, 0.05), ("DE", 0.12, 0.0), ("FR", 0.10, -0.10), ("ES", 0.07, -0.20),
        ("IT", 0.06, -0.15), ("NL", 0.05, 0.05), ("other", 0.05, -0.35),
    ]

    private var rng: SplitMix64

    public init(seed: UInt64) {
        rng = SplitMix64(seed: seed)
    }

    /// One visitor: the CSV fields in `header` order, and the true probability.
    public mutating func nextRow() -> (fields: [String], propensity: Double) {
        let engagement = rng.nextGaussian()  // latent interest, drives several columns
        let returning = rng.nextUnit() < 0.62
        let sessions = 1 + poisson(mean: exp(0.6 + 0.5 * engagement + (returning ? 0.5 : 0)))
        let pages = exp(1.1 + 0.35 * engagement + 0.45 * rng.nextGaussian())
        let seconds = exp(4.6 + 0.3 * engagement + 0.7 * rng.nextGaussian())
        let days = Int(-log(max(rng.nextUnit(), 1e-12)) * (returning ? 6 : 14))
        let cartAdds = poisson(mean: exp(-1.3 + 0.8 * engagement))
        let cartValue = cartAdds > 0 ? exp(3.9 + 0.2 * Double(cartAdds) + 0.6 * rng.nextGaussian()) : Double.nan
        let subscribed = rng.nextUnit() < 0.7
        let emailOpens = subscribed ? poisson(mean: exp(0.3 + 0.4 * engagement)) : -1
        let discount = rng.nextUnit() < 0.18 + 0.1 * (engagement > 0 ? 1 : 0) ? 1 : 0
        let hour = Int((14 + 4.5 * rng.nextGaussian()).rounded()).clamped(0, 23)
        let device = pick(Self.devices)
        let source = pick(Self.sources)
        let country = pick(Self.countries)

        var logit = -4.35
        logit += 0.45 * log1p(Double(sessions))
        logit += 0.55 * log(pages)
        logit += 0.15 * (log(seconds) - 4.6)
        logit -= 0.035 * Double(min(days, 60))
        logit += cartAdds > 0 ? 1.1 + 0.25 * log1p(Double(cartAdds)) + 0.15 * (log(cartValue) - 4) : 0
        logit += emailOpens > 0 ? 0.2 * log1p(Double(emailOpens)) : 0
        logit += discount == 1 ? (cartAdds > 0 ? 0.7 : 0.25) : 0  // a discount matters most to cart holders
        logit += (hour >= 19 && hour <= 22) ? 0.15 : 0
        logit += device.effect + source.effect + country.effect + (returning ? 0.35 : 0)
        let propensity = 1 / (1 + exp(-logit))
        let converted = rng.nextUnit() < propensity

        // Missing values as they occur in real tracking data.
        let secondsField = rng.nextUnit() < 0.03 ? "" : Self.decimal(seconds, places: 1)
        let deviceField = rng.nextUnit() < 0.01 ? "NA" : device.name
        let fields = [
            String(sessions), Self.decimal(pages, places: 2), secondsField, String(days), String(cartAdds),
            cartValue.isNaN ? "" : Self.decimal(cartValue, places: 2), emailOpens < 0 ? "NA" : String(emailOpens),
            String(discount), String(hour), deviceField, source.name, country.name, returning ? "returning" : "new",
            Self.decimal(propensity, places: 6), converted ? "1" : "0",
        ]
        return (fields, propensity)
    }

    /// Writes `rows` rows with a header to `path`.
    public static func write(rows: Int, seed: UInt64, to path: String) throws {
        var generator = ConversionDataGenerator(seed: seed)
        var out = header.joined(separator: ",") + "\n"
        out.reserveCapacity(rows * 96)
        for _ in 0..<rows {
            out += generator.nextRow().fields.joined(separator: ",")
            out += "\n"
        }
        try out.write(toFile: path, atomically: true, encoding: .utf8)
    }

    private mutating func pick(_ options: [(String, Double, Double)]) -> (name: String, effect: Double) {
        var u = rng.nextUnit()
        for option in options {
            if u < option.1 { return (option.0, option.2) }
            u -= option.1
        }
        return (options.last!.0, options.last!.2)
    }

    /// Knuth's method for small means, normal approximation above 30.
    private mutating func poisson(mean: Double) -> Int {
        if mean > 30 { return max(0, Int((mean + mean.squareRoot() * rng.nextGaussian()).rounded())) }
        let limit = exp(-mean)
        var k = 0
        var p = rng.nextUnit()
        while p > limit {
            k += 1
            p *= rng.nextUnit()
        }
        return k
    }

    /// Fixed-point text without Foundation's locale-dependent formatting.
    static func decimal(_ value: Double, places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = Int64((value * scale).rounded())
        let sign = scaled < 0 ? "-" : ""
        let magnitude = scaled.magnitude
        let whole = magnitude / UInt64(scale)
        var fraction = String(magnitude % UInt64(scale))
        while fraction.count < places { fraction = "0" + fraction }
        return places == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
    }
}

extension Comparable {
    fileprivate func clamped(_ low: Self, _ high: Self) -> Self { min(max(self, low), high) }
}
