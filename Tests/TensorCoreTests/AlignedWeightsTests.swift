import Testing
import TensorCore
import TestSupport

/// Packed weights start on a 64-byte boundary of their array's storage, whatever the storage's own alignment.
@Suite("Aligned weights")
struct AlignedWeightsTests {
    private func startsAligned(_ a: [Float]) -> Bool {
        a.withUnsafeBufferPointer { Int(bitPattern: alignedWeights($0.baseAddress!)) % 64 == 0 }
    }

    private func weights(_ a: [Float], _ count: Int) -> [Float] {
        a.withUnsafeBufferPointer { Array(UnsafeBufferPointer(start: alignedWeights($0.baseAddress!), count: count)) }
    }

    @Test("makeAlignedWeights fills an aligned start, with the slack a marker says how to skip",
          arguments: [1, 15, 16, 17, 1000, 300_000])
    func aligned(_ count: Int) {
        let values = (0..<count).map { Float($0) - 3.5 }
        // Arrays made one after another land at different offsets from 64-byte boundaries; every one is aligned.
        for _ in 0..<8 {
            let a = makeAlignedWeights(count: count) { $0.update(from: values, count: count) }
            #expect(a.count == count + alignedWeightsSlack)
            #expect(startsAligned(a))
            #expect((1...alignedWeightsSlack).contains(Int(a[0])))
            #expect(weights(a, count) == values)
        }
    }

    @Test("PackedPanels' panels start 64-byte aligned", arguments: [(1, 1), (64, 197), (768, 3072)])
    func packedPanels(_ shape: (Int, Int)) {
        let (k, n) = shape
        var rng = SeededRandom(seed: 3)
        let b = rng.tensor([k, n]).data
        for _ in 0..<4 {
            let p = b.withUnsafeBufferPointer { PackedPanels($0.baseAddress!, ldb: n, k: k, n: n) }
            #expect(startsAligned(p.data))
            // Row 0 of panel 0 holds B's first row's first columns.
            #expect(weights(p.data, min(n, 32)) == Array(b[0..<min(n, 32)]))
        }
    }
}
