import Foundation
import Imaging

/// A two-sided interval for a proportion or a mean.
public struct Interval: Codable, Sendable, Equatable {
    public var low: Double
    public var high: Double
    public init(low: Double, high: Double) { self.low = low; self.high = high }
}

/// Confidence intervals and resampling used by the robustness report.
public enum Statistics {
    /// The standard normal quantile for a two-sided `confidence` (0.95 -> 1.959963...).
    public static func zScore(confidence: Double) -> Double {
        normalQuantile(1 - (1 - confidence) / 2)
    }

    /// Inverse of the standard normal CDF (Acklam's rational approximation refined by one Halley step).
    public static func normalQuantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1)
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        var x: Double
        if p < 0.02425 {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - 0.02425 {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let e = 0.5 * erfc(-x / 2.0.squareRoot()) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        x -= u / (1 + x * u / 2)
        return x
    }

    /// Wilson score interval for `successes` of `trials`.
    public static func wilson(successes: Int, trials: Int, confidence: Double = 0.95) -> Interval {
        guard trials > 0 else { return Interval(low: 0, high: 1) }
        let n = Double(trials), p = Double(successes) / n, z = zScore(confidence: confidence)
        let z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        return Interval(low: max(0, centre - half), high: min(1, centre + half))
    }

    /// Clopper-Pearson (exact) interval for `successes` of `trials`.
    public static func clopperPearson(successes k: Int, trials n: Int, confidence: Double = 0.95) -> Interval {
        guard n > 0 else { return Interval(low: 0, high: 1) }
        let alpha = 1 - confidence
        let lo = k == 0 ? 0 : betaQuantile(alpha / 2, Double(k), Double(n - k + 1))
        let hi = k == n ? 1 : betaQuantile(1 - alpha / 2, Double(k + 1), Double(n - k))
        return Interval(low: lo, high: hi)
    }

    /// Regularized incomplete beta I_x(a, b) by Lentz's continued fraction.
    public static func regularizedBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedBeta(1 - x, b, a) }
        let lbeta = lgamma(a) + lgamma(b) - lgamma(a + b)
        let front = exp(log(x) * a + log(1 - x) * b - lbeta) / a
        var f = 1.0, c = 1.0, d = 0.0
        for i in 0...400 {
            let m = Double(i / 2)
            let num: Double
            if i == 0 { num = 1 } else if i % 2 == 0 { num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)) }
            else { num = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1)) }
            d = 1 + num * d; if abs(d) < 1e-300 { d = 1e-300 }; d = 1 / d
            c = 1 + num / c; if abs(c) < 1e-300 { c = 1e-300 }
            let cd = c * d
            f *= cd
            if abs(1 - cd) < 1e-15 { break }
        }
        return front * (f - 1)
    }

    /// The p-quantile of Beta(a, b), by bisection on `regularizedBeta`.
    public static func betaQuantile(_ p: Double, _ a: Double, _ b: Double) -> Double {
        var lo = 0.0, hi = 1.0
        for _ in 0..<100 {
            let mid = (lo + hi) / 2
            if regularizedBeta(mid, a, b) < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// Pearson correlation of two equally long series; nil when either is constant.
    public static func pearson(_ x: [Float], _ y: [Float]) -> Double? {
        precondition(x.count == y.count)
        let n = Double(x.count)
        guard n > 1 else { return nil }
        let mx = x.reduce(0.0) { $0 + Double($1) } / n, my = y.reduce(0.0) { $0 + Double($1) } / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in 0..<x.count {
            let dx = Double(x[i]) - mx, dy = Double(y[i]) - my
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy
        }
        guard sxx > 1e-20, syy > 1e-20 else { return nil }
        return sxy / (sxx * syy).squareRoot()
    }

    /// Moving-block bootstrap percentile interval for the mean of a dependent series.
    ///
    /// - Parameters:
    ///   - series: the per-frame values in time order.
    ///   - blockLength: block length; nil picks ceil(n^(1/3)).
    ///   - resamples: number of bootstrap replicates.
    ///   - seed: makes the interval reproducible.
    /// - Complexity: O(resamples * n).
    public static func blockBootstrapMean(_ series: [Double], blockLength: Int? = nil, resamples: Int = 2000,
                                          confidence: Double = 0.95, seed: UInt64 = 0) -> Interval {
        let n = series.count
        guard n > 1 else { let v = series.first ?? 0; return Interval(low: v, high: v) }
        let l = max(1, min(n, blockLength ?? Int(ceil(pow(Double(n), 1.0 / 3.0)))))
        let starts = n - l + 1
        var rng = SplitMix64(state: seed ^ 0xB007_5742)
        var means = [Double](repeating: 0, count: resamples)
        // Prefix sums make each block's sum O(1).
        var prefix = [Double](repeating: 0, count: n + 1)
        for i in 0..<n { prefix[i + 1] = prefix[i] + series[i] }
        let blocks = (n + l - 1) / l
        for r in 0..<resamples {
            var sum = 0.0, taken = 0
            for _ in 0..<blocks {
                let s = Int(rng.next() % UInt64(starts))
                let take = min(l, n - taken)
                sum += prefix[s + take] - prefix[s]
                taken += take
            }
            means[r] = sum / Double(taken)
        }
        means.sort()
        let alpha = (1 - confidence) / 2
        let lo = means[min(resamples - 1, max(0, Int((alpha * Double(resamples)).rounded(.down))))]
        let hi = means[min(resamples - 1, max(0, Int(((1 - alpha) * Double(resamples)).rounded(.up)) - 1))]
        return Interval(low: lo, high: hi)
    }
}

extension Statistics {
    /// A bootstrap interval for the weighted mean of `values` (the means of consecutive blocks, such as the windows
    /// of a live feed, each weighted by its frames): blocks are drawn with replacement and each replicate's weighted
    /// mean taken.
    /// - Complexity: O(resamples * n).
    public static func weightedBootstrapMean(_ values: [Double], weights: [Double], resamples: Int = 2000,
                                             confidence: Double = 0.95, seed: UInt64 = 0) -> Interval {
        let n = values.count
        precondition(weights.count == n)
        guard n > 1 else { let v = values.first ?? 0; return Interval(low: v, high: v) }
        var rng = SplitMix64(state: seed ^ 0x3E16_47ED)
        var means = [Double](repeating: 0, count: resamples)
        for r in 0..<resamples {
            var sum = 0.0, weight = 0.0
            for _ in 0..<n {
                let i = Int(rng.next() % UInt64(n))
                sum += values[i] * weights[i]; weight += weights[i]
            }
            means[r] = weight > 0 ? sum / weight : 0
        }
        means.sort()
        let alpha = (1 - confidence) / 2
        let lo = means[min(resamples - 1, max(0, Int((alpha * Double(resamples)).rounded(.down))))]
        let hi = means[min(resamples - 1, max(0, Int(((1 - alpha) * Double(resamples)).rounded(.up)) - 1))]
        return Interval(low: lo, high: hi)
    }
}

