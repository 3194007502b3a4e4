import Foundation

/// Latencies in buckets 5% wide on a log scale (1 ms to about 3 hours), so percentiles over a run of any length
/// take a fixed 330 counters.
struct LatencyHistogram: Sendable {
    static let base = 0.001, growth = 1.05
    private var counts = [Int](repeating: 0, count: 330)
    private(set) var samples = 0
    private(set) var maximum = 0.0

    mutating func add(_ seconds: Double) {
        guard seconds.isFinite else { return }
        let s = max(seconds, 0)
        let i = s <= Self.base ? 0 : min(counts.count - 1, Int((log(s / Self.base) / log(Self.growth)).rounded(.up)))
        counts[i] += 1
        samples += 1
        maximum = max(maximum, s)
    }

    /// The upper edge of the bucket holding the `q` quantile (0...1), at most the largest sample.
    func quantile(_ q: Double) -> Double? {
        guard samples > 0 else { return nil }
        let rank = max(1, Int((q * Double(samples)).rounded(.up)))
        var seen = 0
        for (i, c) in counts.enumerated() {
            seen += c
            if seen >= rank { return min(maximum, Self.base * pow(Self.growth, Double(i))) }
        }
        return maximum
    }
}

/// Hears what a live run does, for metrics. Called from the run's threads; implementations must be thread-safe.
public protocol LiveObserver: AnyObject, Sendable {
    func frameReceived()
    func frameDropped()
    /// A frame was analysed `latency` seconds after it was decoded.
    func frameAnalysed(latency: Double, top1Probability: Double, retention: Double)
    func windowClosed(meanRetention: Double, low: Double, high: Double)
    func reconnected()
}
