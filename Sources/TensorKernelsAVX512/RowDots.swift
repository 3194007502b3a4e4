/// y[j] = alpha · (w[j, 0..<k] · x) + beta · y[j] for the rows j in `rows` of a row-major matrix: the
/// matrix-vector product of a classifier head at batch 1 (a Gemm with transB and one row of A), which
/// streams `w` once and is bound by reading it.
///
/// Eight rows at a time (eight independent accumulators, eight streams for the prefetchers, x's vector
/// loaded once for the eight), then row by row; sums are reduced by halving. Measured on EfficientNet-Lite0's
/// head (1000 x 1280, one thread, in a forward pass): 131-134 us with eight rows, 139 us with four, 157 us
/// with OpenBLAS's sgemv. `beta == 0` ignores y's contents.
/// - Complexity: |rows|·k multiply-adds.
public func rowDotsAVX512(w: UnsafePointer<Float>, ldw: Int, k: Int, x: UnsafePointer<Float>, alpha: Float, beta: Float,
                          y: UnsafeMutablePointer<Float>, rows: Range<Int>) {
    let k16 = k / 16 * 16, tail = k - k16
    @inline(__always) func finish(_ j: Int, _ v: F16) {
        let h8 = v.lowHalf + v.highHalf, h4 = h8.lowHalf + h8.highHalf, h2 = h4.lowHalf + h4.highHalf
        let dot = h2[0] + h2[1]
        y[j] = beta == 0 ? alpha * dot : alpha * dot + beta * y[j]
    }
    var j = rows.lowerBound
    while j + 8 <= rows.upperBound {
        let r = w + j * ldw
        var a0 = F16(), a1 = F16(), a2 = F16(), a3 = F16(), a4 = F16(), a5 = F16(), a6 = F16(), a7 = F16()
        @inline(__always) func step(_ p: Int, _ n: Int) {
            let xv = loadPartial16(x + p, n)
            a0.addProduct(loadPartial16(r + p, n), xv); a1.addProduct(loadPartial16(r + ldw + p, n), xv)
            a2.addProduct(loadPartial16(r + 2 * ldw + p, n), xv); a3.addProduct(loadPartial16(r + 3 * ldw + p, n), xv)
            a4.addProduct(loadPartial16(r + 4 * ldw + p, n), xv); a5.addProduct(loadPartial16(r + 5 * ldw + p, n), xv)
            a6.addProduct(loadPartial16(r + 6 * ldw + p, n), xv); a7.addProduct(loadPartial16(r + 7 * ldw + p, n), xv)
        }
        var p = 0
        while p < k16 { step(p, 16); p += 16 }
        if tail > 0 { step(k16, tail) }
        finish(j, a0); finish(j + 1, a1); finish(j + 2, a2); finish(j + 3, a3)
        finish(j + 4, a4); finish(j + 5, a5); finish(j + 6, a6); finish(j + 7, a7)
        j += 8
    }
    while j < rows.upperBound {
        let r = w + j * ldw
        var a = F16()
        var p = 0
        while p < k16 { a.addProduct(load16(r + p), load16(x + p)); p += 16 }
        if tail > 0 { a.addProduct(loadPartial16(r + k16, tail), loadPartial16(x + k16, tail)) }
        finish(j, a)
        j += 1
    }
}
