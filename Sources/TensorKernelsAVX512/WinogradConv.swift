// Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions in the channel-blocked layout: the input and output
// transforms around the sixteen GEMMs (one per position of the 4x4 transformed tile) that do the work. A 2x2 block of
// outputs costs 16 products per input channel instead of 36.
//
// Each output of a tile depends only on the 3x3 input window it would read in a direct convolution: output row 0
// (column 0) uses transformed rows 0-2 (columns 0-2), which use input rows 0-2 (columns 0-2) of the tile's 4x4
// window, and output row 1 uses rows 1-3 likewise. So a value computed in a window of the map (incremental
// occlusion) is bit for bit the value the whole map gives, as long as the window's tiles sit where the map's do
// (`WinogradTiling`'s phase), whatever the window holds past its edges.

/// Where one item's 2x2 output tiles sit: tile (i, j) covers output rows `2i - phaseY ..< 2i - phaseY + 2` and columns
/// likewise, and reads input rows from `2i - phaseY - padTop` (zero outside the input).
public struct WinogradTiling: Sendable {
    public let outH: Int, outW: Int, inH: Int, inW: Int
    public let padTop: Int, padLeft: Int
    public let phaseY: Int, phaseX: Int
    public var tilesY: Int { @_transparent get { (outH + phaseY + 1) / 2 } }
    public var tilesX: Int { @_transparent get { (outW + phaseX + 1) / 2 } }
    public var tiles: Int { @_transparent get { tilesY * tilesX } }

    // Transparent like the members above: TensorCore's AVX2 code must not call into this module.
    @_transparent public init(outH: Int, outW: Int, inH: Int, inW: Int, padTop: Int, padLeft: Int, phaseY: Int, phaseX: Int) {
        self.outH = outH; self.outW = outW; self.inH = inH; self.inW = inW
        self.padTop = padTop; self.padLeft = padLeft; self.phaseY = phaseY; self.phaseX = phaseX
    }
}

/// Transforms the 4x4 input windows of tiles `tiles` (row-major over the item's tile grid) of one item:
/// `v[pos * posStride + (t - tiles.lowerBound) * ldv + b * 16 ..< +16] = (Bᵀ d B)[pos]` for each input block b, with
/// `d` the window's 16 pixel vectors (zero outside the input) and Bᵀ = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]].
///
/// - Parameters:
///   - x: `[inBlocks, inH, inW, 16]` (one item).
///   - v: the sixteen positions' rows, `posStride` floats apart; row r of a position `ldv` floats long.
public func winogradInputTransformAVX512(x: UnsafePointer<Float>, inBlocks: Int, tiling g: WinogradTiling, tiles: Range<Int>,
                                         v: UnsafeMutablePointer<Float>, ldv: Int, posStride: Int) {
    winogradInputTransform(x: x, inBlocks: inBlocks, tiling: g, tiles: tiles, v: v, ldv: ldv, posStride: posStride)
}

/// `winogradInputTransformAVX512`'s body, inlined where it is compiled (TensorCore compiles it for AVX2).
@_transparent
public func winogradInputTransform(x: UnsafePointer<Float>, inBlocks: Int, tiling g: WinogradTiling, tiles: Range<Int>,
                                   v: UnsafeMutablePointer<Float>, ldv: Int, posStride: Int) {
    let plane = g.inH * g.inW * 16
    for t in tiles {
        let ty = t / g.tilesX, tx = t % g.tilesX
        let iy0 = 2 * ty - g.phaseY - g.padTop, ix0 = 2 * tx - g.phaseX - g.padLeft
        let inside = iy0 >= 0 && ix0 >= 0 && iy0 + 4 <= g.inH && ix0 + 4 <= g.inW
        let row = v + (t - tiles.lowerBound) * ldv
        for b in 0..<inBlocks {
            let xb = x + b * plane
            @_transparent func d(_ r: Int, _ c: Int) -> F16 {
                let iy = iy0 + r, ix = ix0 + c
                if !inside && (iy < 0 || iy >= g.inH || ix < 0 || ix >= g.inW) { return F16() }
                return load16(xb + (iy * g.inW + ix) * 16)
            }
            // Rows first: column c of Bᵀ d, its four rows.
            @_transparent func column(_ c: Int) -> (F16, F16, F16, F16) {
                let d0 = d(0, c), d1 = d(1, c), d2 = d(2, c), d3 = d(3, c)
                return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
            }
            let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3)
            // Then columns: row r of (Bᵀ d) B from row r of every column.
            let out = row + b * 16
            @_transparent func store(_ r: Int, _ t: (F16, F16, F16, F16)) {
                let p = out + 4 * r * posStride
                store16(t.0 - t.2, p)
                store16(t.1 + t.2, p + posStride)
                store16(t.2 - t.1, p + 2 * posStride)
                store16(t.1 - t.3, p + 3 * posStride)
            }
            store(0, (c0.0, c1.0, c2.0, c3.0)); store(1, (c0.1, c1.1, c2.1, c3.1))
            store(2, (c0.2, c1.2, c2.2, c3.2)); store(3, (c0.3, c1.3, c2.3, c3.3))
        }
    }
}

/// Transforms the products of tiles `tiles` of one item back to outputs and stores those inside the map:
/// `Y = Aᵀ M A` with Aᵀ = [[1,1,1,0],[0,1,-1,-1]], then `clamp(Y + bias, lo, hi)` into `y`.
///
/// - Parameters:
///   - m: the sixteen positions' rows (as `winogradInputTransformAVX512` lays out its `v`), `outBlocks * 16` wide.
///   - y: `[outBlocks, outH, outW, 16]` (one item).
public func winogradOutputTransformAVX512(m: UnsafePointer<Float>, ldm: Int, posStride: Int, outBlocks: Int,
                                          tiling g: WinogradTiling, tiles: Range<Int>, bias: UnsafePointer<Float>,
                                          lo: Float, hi: Float, y: UnsafeMutablePointer<Float>) {
    winogradOutputTransform(m: m, ldm: ldm, posStride: posStride, outBlocks: outBlocks, tiling: g, tiles: tiles, bias: bias,
                            lo: lo, hi: hi, y: y)
}

/// `winogradOutputTransformAVX512`'s body, inlined where it is compiled (TensorCore compiles it for AVX2).
@_transparent
public func winogradOutputTransform(m: UnsafePointer<Float>, ldm: Int, posStride: Int, outBlocks: Int,
                                    tiling g: WinogradTiling, tiles: Range<Int>, bias: UnsafePointer<Float>,
                                    lo: Float, hi: Float, y: UnsafeMutablePointer<Float>) {
    let plane = g.outH * g.outW * 16
    let clamps = lo > -.infinity || hi < .infinity
    for t in tiles {
        let ty = t / g.tilesX, tx = t % g.tilesX
        let oy0 = 2 * ty - g.phaseY, ox0 = 2 * tx - g.phaseX
        let row = m + (t - tiles.lowerBound) * ldm
        for b in 0..<outBlocks {
            let p = row + b * 16
            @_transparent func mv(_ r: Int, _ c: Int) -> F16 { load16(p + (4 * r + c) * posStride) }
            // Rows: s0 = M0 + M1 + M2, s1 = M1 - M2 - M3, per column.
            @_transparent func column(_ c: Int) -> (F16, F16) {
                let m0 = mv(0, c), m1 = mv(1, c), m2 = mv(2, c), m3 = mv(3, c)
                return ((m0 + m1) + m2, (m1 - m2) - m3)
            }
            let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3)
            let bv = load16(bias + b * 16)
            @_transparent func emit(_ dy: Int, _ dx: Int, _ value: F16) {
                let oy = oy0 + dy, ox = ox0 + dx
                guard oy >= 0, oy < g.outH, ox >= 0, ox < g.outW else { return }
                var v = value + bv
                if clamps { v = clamped(v, lo, hi) }
                store16(v, y + b * plane + (oy * g.outW + ox) * 16)
            }
            emit(0, 0, (c0.0 + c1.0) + c2.0)
            emit(0, 1, (c1.0 - c2.0) - c3.0)
            emit(1, 0, (c0.1 + c1.1) + c2.1)
            emit(1, 1, (c1.1 - c2.1) - c3.1)
        }
    }
}
