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
}
