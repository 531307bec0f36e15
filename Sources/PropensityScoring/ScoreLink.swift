import PropensityModel

/// How a plan turns a row's margin into the probability it writes: the sigmoid, or the model's calibrator. A generic
/// parameter of the plans' loops, so the uncalibrated path compiles to what it was before calibration existed.
protocol ScoreLink: Sendable {
    func probability(_ margin: Double) -> Double
}

struct SigmoidLink: ScoreLink {
    @inline(__always)
    func probability(_ margin: Double) -> Double { Sigmoid.of(margin) }
}

struct CalibratedLink: ScoreLink {
    let calibrator: Calibrator

    @inline(__always)
    func probability(_ margin: Double) -> Double { calibrator.probability(margin: margin) }
}
