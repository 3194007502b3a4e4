import Testing
import TensorCore
import TestSupport

/// y[i_0, ..., i_r-1] = x at the index whose axis perm[k] is i_k, element by element: the naive twin of `transpose`.
func transposeNaive(_ x: Tensor, perm: [Int]) -> [Float] {
    let outShape = perm.map { x.shape[$0] }
    var inStrides = [Int](repeating: 1, count: x.rank)
    for a in stride(from: x.rank - 2, through: 0, by: -1) { inStrides[a] = inStrides[a + 1] * x.shape[a + 1] }
    var y = [Float](repeating: .nan, count: x.count)
    for o in 0..<x.count {
        var rem = o, src = 0
        for k in stride(from: outShape.count - 1, through: 0, by: -1) {
            src += (rem % outShape[k]) * inStrides[perm[k]]
            rem /= outShape[k]
        }
        y[o] = x.data[src]
    }
    return y
}

@Suite("Transpose")
struct TransposeTests {
    @Test("transpose equals the element-by-element twin, with merged axes, extents of 1 and runs copied whole",
          arguments: [([2, 3, 4], [2, 0, 1]), ([1, 197, 12, 64], [0, 2, 1, 3]), ([1, 12, 197, 64], [0, 1, 3, 2]),
                      ([1, 8, 7, 8, 7, 6], [0, 1, 3, 2, 4, 5]), ([1, 4, 1, 5], [0, 2, 1, 3]), ([3, 1, 1], [2, 1, 0]),
                      ([5], [0]), ([2, 3, 4, 5], [3, 2, 1, 0]), ([197, 1, 48], [1, 0, 2]), ([1, 1, 1], [1, 2, 0])])
    func matchesNaive(_ shape: [Int], _ perm: [Int]) {
        var rng = SeededRandom(seed: UInt64(shape.reduce(1, *)))
        let x = rng.tensor(shape)
        let y = transpose(x, perm: perm)
        #expect(y.shape == perm.map { shape[$0] })
        #expect(y.data == transposeNaive(x, perm: perm))
    }

    @Test("large transposes split over threads and whole 16 x 16 tiles equal the twin on both kernel tables",
          arguments: [([1, 96, 56, 56], [0, 2, 3, 1]), ([1, 56, 56, 96], [0, 3, 1, 2]), ([12, 197, 64], [0, 2, 1]),
                      ([1, 197, 12, 64], [0, 2, 1, 3]), ([2, 33, 47], [0, 2, 1])])
    func largeOnBothTablesAndThreadCounts(_ shape: [Int], _ perm: [Int]) {
        var rng = SeededRandom(seed: UInt64(shape.reduce(1, *)))
        let x = rng.tensor(shape)
        let want = transposeNaive(x, perm: perm)
        for isa in [KernelISA.avx512, .avx2] {
            for threads in [1, 2] {
                let y = withKernelISA(isa) { withComputeThreads(threads) { transpose(x, perm: perm) } }
                #expect(y.data == want, "\(isa), \(threads) threads")
                let recycled = withKernelISA(isa) { withComputeThreads(threads) { transpose(x, perm: perm, storage: { [Float](repeating: .nan, count: $0) }) } }
                #expect(recycled.data == want, "\(isa), \(threads) threads, into a given array")
            }
        }
    }
}
