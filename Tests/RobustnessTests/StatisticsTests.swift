import Foundation
import Imaging
@testable import Robustness
import Testing

@Suite struct StatisticsTests {
    /// Wilson intervals against the closed form evaluated independently in double precision (Python).
    @Test(arguments: [
        (8, 10, 0.4901625, 0.9433178),
        (0, 16, 0.0, 0.1936077),
        (16, 16, 0.8063923, 1.0),
        (50, 100, 0.4038315, 0.5961685),
    ])
    func wilson(k: Int, n: Int, lo: Double, hi: Double) {
        let i = Statistics.wilson(successes: k, trials: n)
        #expect(abs(i.low - lo) < 1e-6, "low \(i.low) vs \(lo)")
        #expect(abs(i.high - hi) < 1e-6, "high \(i.high) vs \(hi)")
    }

    /// Clopper-Pearson against the exact beta quantiles (scipy.stats.beta.ppf).
    @Test(arguments: [
        (8, 10, 0.4439045, 0.9747893),
        (0, 16, 0.0, 0.2059072),
        (5, 20, 0.0865715, 0.4910459),
    ])
    func clopperPearson(k: Int, n: Int, lo: Double, hi: Double) {
        let i = Statistics.clopperPearson(successes: k, trials: n)
        #expect(abs(i.low - lo) < 1e-6, "low \(i.low) vs \(lo)")
        #expect(abs(i.high - hi) < 1e-6, "high \(i.high) vs \(hi)")
    }

    @Test func normalQuantile() {
        #expect(abs(Statistics.zScore(confidence: 0.95) - 1.959963984540054) < 1e-9)
        #expect(abs(Statistics.normalQuantile(0.001) + 3.090232306167813) < 1e-9)
    }

    /// A block bootstrap on an AR(1) series with known mean 0.7: the interval covers the mean, is wider than the
    /// naive iid interval (the series is positively correlated), and is reproducible from its seed.
    @Test func blockBootstrapOnDependentSeries() {
        var g = SplitMix64(state: 42)
        var x = 0.0
        var series: [Double] = []
        for _ in 0..<2000 {
            // AR(1) with phi 0.8 around 0.7, uniform innovations.
            x = 0.8 * x + (g.unit() - 0.5) * 0.2
            series.append(0.7 + x)
        }
        let ci = Statistics.blockBootstrapMean(series, seed: 1)
        let mean = series.reduce(0, +) / Double(series.count)
        #expect(ci.low < mean && mean < ci.high)
        #expect(ci.low < 0.7 && 0.7 < ci.high, "interval \(ci) should cover the true mean 0.7")
        let sd = (series.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(series.count - 1)).squareRoot()
        let iidHalf = 1.96 * sd / Double(series.count).squareRoot()
        #expect((ci.high - ci.low) / 2 > 1.5 * iidHalf, "block interval \(ci) should be wider than the iid half-width \(iidHalf)")
        #expect(Statistics.blockBootstrapMean(series, seed: 1) == ci)
    }

    @Test func pearson() {
        #expect(abs(Statistics.pearson([1, 2, 3, 4], [2, 4, 6, 8])! - 1) < 1e-12)
        #expect(abs(Statistics.pearson([1, 2, 3, 4], [8, 6, 4, 2])! + 1) < 1e-12)
        #expect(Statistics.pearson([1, 1, 1], [1, 2, 3]) == nil)
    }

    /// Patch positions match the vectors the Python peers reproduce (scripts/benchmarks/README.md).
    @Test func patchVectors() {
        var g = SplitMix64(state: 0)
        #expect(g.next() == 0xe220a8397b1dcdaf)
        #expect(g.next() == 0x6e789e6aa1b965f4)
        let a = PatchSampler(count: 3, low: 0.25, high: 0.25, seed: 0).patches(frame: 0, width: 224, height: 224)
        #expect(a == [Patch(x: 39, y: 157, side: 56), Patch(x: 43, y: 55, side: 56), Patch(x: 60, y: 63, side: 56)])
        let b = PatchSampler(count: 2, low: 0.125, high: 0.25, seed: 0).patches(frame: 1, width: 224, height: 224)
        #expect(b == [Patch(x: 146, y: 111, side: 33), Patch(x: 102, y: 105, side: 38)])
    }
}

/// The label timeline stays bounded however often the top-1 changes, and still covers the whole clip.
@Suite struct TimelineBoundTests {
    @Test func flickeringLabelsAreMergedInPairs() {
        let runs = (0..<9).map { i in LabelSegment(label: "l\(i % 3)", classIndex: i % 3, startPTS: Double(i), endPTS: Double(i) + 0.5, frames: i == 1 ? 5 : 1) }
        let h = ClipAccumulator.halved(runs)
        #expect(h.count == 5)
        #expect(h[0].label == "l1" && h[0].frames == 6 && h[0].startPTS == 0 && h[0].endPTS == 1.5)
        #expect(h.reduce(0) { $0 + $1.frames } == runs.reduce(0) { $0 + $1.frames })
        #expect(h.last!.endPTS == 8.5)
    }

    @Test func weightedBootstrapCoversTheWeightedMean() {
        let i = Statistics.weightedBootstrapMean([0.2, 0.9, 0.5, 0.7], weights: [100, 10, 50, 40], seed: 3)
        let mean = (0.2 * 100 + 0.9 * 10 + 0.5 * 50 + 0.7 * 40) / 200
        #expect(i.low <= mean && mean <= i.high && i.low < i.high)
        #expect(Statistics.weightedBootstrapMean([0.4], weights: [3]) == Interval(low: 0.4, high: 0.4))
    }
}
