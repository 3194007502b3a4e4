@testable import Robustness
import Testing

@Suite struct FaithfulnessTests {
    @Test func trapezoidArea() {
        #expect(trapezoidAUC([1, 1, 1]) == 1)
        #expect(abs(trapezoidAUC([1, 0]) - 0.5) < 1e-12)
        #expect(abs(trapezoidAUC([0, 0.5, 1, 0.5, 0]) - 0.5) < 1e-12)
    }

    @Test func orders() {
        #expect(rankOrder([0.1, 0.9, 0.5, 0.9]) == [1, 3, 2, 0])
        let r = randomOrder(count: 100, seed: 4)
        #expect(r.sorted() == Array(0..<100) && r != Array(0..<100))
        #expect(r == randomOrder(count: 100, seed: 4))
    }

    /// The copies delete (insert) exactly the first j/steps of the order, in every channel.
    @Test func copiesFollowTheOrder() {
        let channels = 2, plane = 8, steps = 4
        let input = (0..<(channels * plane)).map { Float($0 + 1) }
        let order = [5, 2, 7, 0, 1, 3, 4, 6]
        let copies = deletionInsertionCopies(input, channels: channels, plane: plane, order: order, steps: steps, baseline: -1)
        #expect(copies.count == 2 * (steps - 1) * channels * plane)
        for j in 1..<steps {
            let n = j * plane / steps, gone = Set(order.prefix(n))
            for ch in 0..<channels {
                for p in 0..<plane {
                    let d = copies[(j - 1) * channels * plane + ch * plane + p]
                    let i = copies[(steps - 1 + j - 1) * channels * plane + ch * plane + p]
                    #expect(d == (gone.contains(p) ? -1 : input[ch * plane + p]))
                    #expect(i == (gone.contains(p) ? input[ch * plane + p] : -1))
                }
            }
        }
    }

    /// A linear "model" whose score is the mean of the kept pixel values: deletion in the map's order falls fastest
    /// when the map ranks the largest pixels first, and the random order lies between.
    @Test func faithfulMapBeatsRandomAndReversed() throws {
        let plane = 64
        let input = (0..<plane).map { Float($0) / Float(plane) }
        let probe = FaithfulnessProbe(steps: 8, batchSize: 5) { x, n in
            (0..<n).map { b in x[(b * plane)..<((b + 1) * plane)].reduce(0, +) / Float(plane) }
        }
        let clean = input.reduce(0, +) / Float(plane)
        let good = try probe.curves(input, channels: 1, plane: plane, order: rankOrder(input), clean: clean, baseline: 0)
        let bad = try probe.curves(input, channels: 1, plane: plane, order: rankOrder(input.map { -$0 }), clean: clean, baseline: 0)
        let random = try probe.curves(input, channels: 1, plane: plane, order: randomOrder(count: plane, seed: 1), clean: clean, baseline: 0)
        #expect(good.deletion.count == 9 && good.deletion.first == clean && good.deletion.last == 0)
        #expect(good.deletionAUC < random.deletionAUC && random.deletionAUC < bad.deletionAUC)
        #expect(good.insertionAUC > random.insertionAUC && random.insertionAUC > bad.insertionAUC)
        #expect(good.score > random.score)
    }

    /// Live windows taken together: means weighted by frames, methods re-ranked, the random order last.
    @Test func summariesCombineAcrossWindows() throws {
        func m(_ x: Double) -> MeanWithInterval { MeanWithInterval(mean: x, interval: Interval(low: x - 0.01, high: x + 0.01)) }
        func row(_ name: String, _ frames: Int, del: Double, ins: Double) -> FaithfulnessSummary {
            FaithfulnessSummary(method: name, frames: frames, deletionAUC: m(del), insertionAUC: m(ins), score: m(ins - del),
                                camMultChange: name == "random" ? nil : m(0.1))
        }
        let a = [row("gradcam", 3, del: 0.1, ins: 0.5), row("eigencam", 3, del: 0.1, ins: 0.6), row("random", 3, del: 0.3, ins: 0.3)]
        let b = [row("eigencam", 1, del: 0.0, ins: 1.0), row("gradcam", 1, del: 0.1, ins: 0.5), row("random", 1, del: 0.3, ins: 0.3)]
        let c = try #require(FaithfulnessSummary.combining([a, b], seed: 0))
        #expect(c.map(\.method) == ["eigencam", "gradcam", "random"])
        #expect(c[0].frames == 4 && abs(c[0].deletionAUC.mean - 0.075) < 1e-12 && abs(c[0].insertionAUC.mean - 0.7) < 1e-12)
        #expect(c[2].camMultChange == nil && c[1].camMultChange?.mean == 0.1)
        #expect(FaithfulnessSummary.combining([], seed: 0) == nil)
    }
}
