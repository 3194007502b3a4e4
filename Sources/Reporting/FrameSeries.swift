import Foundation
import Robustness

/// The per-frame values of a clip over time, consecutive frames averaged in buckets so that at most `maxPoints`
/// remain: what report.json (version 2) stores as `series` and what the HTML charts draw.
public struct FrameSeries: Codable, Sendable, Equatable {
    /// One bucket of consecutive frames.
    public struct Point: Codable, Sendable, Equatable {
        public var pts: Double
        public var top1Probability: Double
        public var top1ProbabilityMin: Double
        public var top1ProbabilityMax: Double
        public var retention: Double
        public var retentionLow: Double
        public var retentionHigh: Double
    }

    /// Most points kept.
    public static let maxPoints = 2000

    /// Frames averaged into each point.
    public var bucketFrames: Int
    public var points: [Point]

    /// Reads `frameCount` frame records, one JSON object per line, from `path` in one pass. A bucket's retention
    /// band spans its lowest low and highest high.
    /// - Throws: `ReportingError` when the file cannot be read or a line is not a frame record.
    public static func read(path: String, frameCount: Int) throws -> FrameSeries {
        var builder = Builder(frameCount: frameCount)
        try FrameSample.forEach(path: path) { builder.add($0) }
        return builder.series
    }

    /// Averages frames, given in time order, into buckets of `bucketFrames`.
    struct Builder {
        let bucket: Int
        private var points: [Point] = []
        private var n = 0, x = 0.0, p = 0.0, r = 0.0, lo = Double.infinity, hi = -Double.infinity
        private var pLo = Double.infinity, pHi = -Double.infinity

        /// A builder for a clip of `frameCount` frames (at most `maxPoints` points).
        init(frameCount: Int) { bucket = max(1, (frameCount + FrameSeries.maxPoints - 1) / FrameSeries.maxPoints) }

        mutating func add(_ s: FrameSample) {
            let top1 = Double(s.top5.first?.probability ?? 0)
            n += 1; x += s.pts; p += top1; r += s.retention
            lo = min(lo, s.retentionInterval.low); hi = max(hi, s.retentionInterval.high)
            pLo = min(pLo, top1); pHi = max(pHi, top1)
            if n == bucket { emit() }
        }

        private mutating func emit() {
            guard n > 0 else { return }
            let d = Double(n)
            points.append(Point(pts: x / d, top1Probability: p / d, top1ProbabilityMin: pLo, top1ProbabilityMax: pHi,
                                retention: r / d, retentionLow: lo, retentionHigh: hi))
            n = 0; x = 0; p = 0; r = 0; lo = .infinity; hi = -.infinity; pLo = .infinity; pHi = -.infinity
        }

        /// The series, the last (possibly short) bucket included.
        var series: FrameSeries {
            var b = self
            b.emit()
            return FrameSeries(bucketFrames: bucket, points: b.points)
        }
    }

    /// The chart points of the top-1 probability (band: the bucket's range) and of the retention (band: its interval).
    var chartPoints: (probability: [ChartPoint], retention: [ChartPoint]) {
        (points.map { ChartPoint(x: $0.pts, y: $0.top1Probability, low: $0.top1ProbabilityMin, high: $0.top1ProbabilityMax) },
         points.map { ChartPoint(x: $0.pts, y: $0.retention, low: $0.retentionLow, high: $0.retentionHigh) })
    }
}
