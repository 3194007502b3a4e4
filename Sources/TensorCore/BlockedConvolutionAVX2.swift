import CCPUFeatures
import TensorKernelsAVX512

// The channel-blocked convolutions on CPUs without AVX-512 (`KernelTable.portable`). The kernels are
// `TensorKernelsAVX512`'s own `@_transparent` bodies compiled here, for AVX2, with tiles cut to its sixteen 256-bit
// registers (a 16-channel vector takes two): six output pixels of one output block for pointwise and direct
// convolutions (12 registers of sums, as `tile6x16` in the packed GEMM), six pixels for depthwise ones, four for
// groups of four channels, one block by six pixels from planar inputs. Every output sums its terms in the same order
// wherever it falls in a tile, so a window of a map (incremental occlusion) gives the map's values, and the split over
// threads never changes a result.

func blockedDepthwiseAVX2(x: UnsafePointer<Float>, inH: Int, inW: Int, kernelH: Int, kernelW: Int, strideH: Int, strideW: Int,
                          dilationH: Int, dilationW: Int, padTop: Int, padLeft: Int, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                          lo: Float, hi: Float, y: UnsafeMutablePointer<Float>, outH: Int, outW: Int,
                          blocks: Range<Int>, rows: Range<Int>, scratch: UnsafeMutableRawPointer?) {
    blockedDepthwiseBody(narrow: true, x: x, inH: inH, inW: inW, kernelH: kernelH, kernelW: kernelW, strideH: strideH, strideW: strideW,
                         dilationH: dilationH, dilationW: dilationW, padTop: padTop, padLeft: padLeft, w: w, bias: bias, lo: lo, hi: hi,
                         y: y, outH: outH, outW: outW, blocks: blocks, rows: rows, scratch: scratch)
}

func blockedQuadGroupsAVX2(x: UnsafePointer<Float>, inH: Int, inW: Int, kernelH: Int, kernelW: Int,
                           strideH: Int, strideW: Int, dilationH: Int, dilationW: Int, padTop: Int, padLeft: Int,
                           w: UnsafePointer<Float>, bias: UnsafePointer<Float>, lo: Float, hi: Float,
                           y: UnsafeMutablePointer<Float>, outH: Int, outW: Int, rows: Range<Int>) {
    blockedQuadGroupsBody(narrow: true, x: x, inH: inH, inW: inW, kernelH: kernelH, kernelW: kernelW, strideH: strideH, strideW: strideW,
                          dilationH: dilationH, dilationW: dilationW, padTop: padTop, padLeft: padLeft, w: w, bias: bias, lo: lo, hi: hi,
                          y: y, outH: outH, outW: outW, rows: rows)
}

func blockedFromPlanarAVX2(x: UnsafePointer<Float>, inC: Int, inH: Int, inW: Int, kernelH: Int, kernelW: Int, strideH: Int, strideW: Int,
                           dilationH: Int, dilationW: Int, padTop: Int, padLeft: Int, w: UnsafePointer<Float>, outBlocks: Int,
                           bias: UnsafePointer<Float>?, lo: Float, hi: Float, y: UnsafeMutablePointer<Float>, outH: Int, outW: Int,
                           rows: Range<Int>) {
    blockedFromPlanarBody(narrow: true, x: x, inC: inC, inH: inH, inW: inW, kernelH: kernelH, kernelW: kernelW,
                          strideH: strideH, strideW: strideW, dilationH: dilationH, dilationW: dilationW, padTop: padTop, padLeft: padLeft,
                          w: w, outBlocks: outBlocks, bias: bias, lo: lo, hi: hi, y: y, outH: outH, outW: outW, rows: rows)
}

func winogradInputTransformAVX2(x: UnsafePointer<Float>, inBlocks: Int, tiling g: WinogradTiling, tiles: Range<Int>,
                                v: UnsafeMutablePointer<Float>, ldv: Int, posStride: Int) {
    winogradInputTransform(x: x, inBlocks: inBlocks, tiling: g, tiles: tiles, v: v, ldv: ldv, posStride: posStride)
}

func winogradOutputTransformAVX2(m: UnsafePointer<Float>, ldm: Int, posStride: Int, outBlocks: Int, tiling g: WinogradTiling,
                                 tiles: Range<Int>, bias: UnsafePointer<Float>, lo: Float, hi: Float, y: UnsafeMutablePointer<Float>) {
    winogradOutputTransform(m: m, ldm: ldm, posStride: posStride, outBlocks: outBlocks, tiling: g, tiles: tiles, bias: bias,
                            lo: lo, hi: hi, y: y)
}

/// One chunk of groups (`j0..<j1` of `groups`) of every run of a band for `blocks` (1 or 2) output blocks of a pair:
/// run by run, `directTileNarrow` for each block (its weights the half-rows `w + 16 · block`), the sums starting from
/// the bias on the first chunk (else from `sums`, 96 floats a run, `96 · runs` a block) and going through `store` into
/// `y` (blocks `outPlane` floats apart), pixel by pixel at the run's output offsets (`yOffsets`, six a run), on the
/// last (else back to `sums`).
/// A function of its own, so that the tile's loop has the registers to itself; one call for all the runs, so that a
/// run of a few input channels (EfficientNet's 16 -> 96, a hundred cycles of products) does not pay a call, a division
/// and a round trip of its sums through memory as well. Run by run, it asks for `nextRows` rows of weights from
/// `next` (rows 32 floats apart, both halves of a pair), spread over the runs, for the call after it.
@inline(never)
func directRunsNarrowAVX2(_ buf: UnsafePointer<Float>, _ offsets: UnsafePointer<Int>, runs n: Int, pixels: Int, _ g: DirectGeometry,
                          _ w: UnsafePointer<Float>, _ j0: Int, _ j1: Int, groups: Int, blocks: Int, bias: UnsafePointer<Float>,
                          sums: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, outPlane: Int, yOffsets: UnsafePointer<Int>,
                          store: BlockedStore, next: UnsafePointer<Float>, nextRows: Int) {
    let first = j0 == 0, last = j1 == groups
    for j in 0..<n {
        let o = offsets + 6 * j
        if nextRows > 0 {
            for r in (j * nextRows / n)..<((j + 1) * nextRows / n) {
                vigil_prefetch(next + 32 * r)
                if blocks == 2 { vigil_prefetch(next + 32 * r + 16) }
            }
        }
        for q in 0..<blocks {
            let s = sums + q * n * 96 + 96 * j, bq = bias + 16 * q
            var p0: F16, p1: F16, p2: F16, p3: F16, p4: F16, p5: F16
            if first {
                p0 = load16(bq); p1 = p0; p2 = p0; p3 = p0; p4 = p0; p5 = p0
            } else {
                p0 = load16(s); p1 = load16(s + 16); p2 = load16(s + 32)
                p3 = load16(s + 48); p4 = load16(s + 64); p5 = load16(s + 80)
            }
            directTileNarrow(buf + o[0], o[1], o[2], o[3], o[4], o[5], g, w + 16 * q, j0, j1, &p0, &p1, &p2, &p3, &p4, &p5)
            if last {
                store.putPixels(p0, p1, p2, p3, p4, p5, count: min(6, pixels - 6 * j), y + q * outPlane, offsets: yOffsets + 6 * j)
            } else {
                store16(p0, s); store16(p1, s + 16); store16(p2, s + 32)
                store16(p3, s + 48); store16(p4, s + 64); store16(p5, s + 80)
            }
        }
    }
}

/// Groups of 16 weight rows (a tap's input block) per chunk of `directTileNarrow`: consecutive in the panel, so a
/// chunk's weights are 4 KiB of each block's half-rows, which stay in L1 while every run of a band uses them. Half-rows
/// 128 bytes apart use only every other L1 set, and a window's taps 2 KiB · inBlocks apart fall in the same sets: a
/// chunk of every tap of one input block (9 lines a set against 8 ways) ran ResNet-50's 3x3 layers at half of peak;
/// chunks of 8 groups were no faster than 4 (`VigilBench kernels --only r50 --fastest`), nor with both blocks run by
/// run (alternated in one process: 0.94-1.02 of the time at batch 1, 0.95-1.12 at batch 16).
let narrowChunkGroups = 4

/// Runs `runs` of six output pixels of a band of output rows, the band's pixels taken row after row (a run wraps from
/// the end of a row to the next, so a 7-wide map wastes no tile on a one-pixel tail), for output blocks `blocks`.
/// Chunk of weights by chunk (`narrowChunkGroups`), run by run, each block: the chunk's weights are read from
/// memory once and then from L1, and a run's inputs serve both blocks from L1.
///
/// - Parameters:
///   - buf: the band's input (`directBand`), `bandRow` floats from one output row's inputs to the next.
///   - pixels: the band's output pixels (rows · outW).
///   - w: panels of pairs of output blocks, `panel` floats apart (block b is half b % 2 of panel b / 2).
///   - bias: 16 per block; y: the band's first output row in block 0 of `[blocks, rows, outW, 16]`, blocks `outPlane`
///     floats apart and rows `yRow` (`outW * 16`, or an image's output where the rows are images: a pointwise
///     convolution's runs over a batch of small maps, `bandRow` the images' input apart).
///   - scratch: `narrowRunsScratch(runs:)` floats: the runs' sums and offsets.
@inline(__always)
func blockedRunsAVX2(_ buf: UnsafePointer<Float>, _ g: DirectGeometry, bandRow: Int, outW: Int, pixels: Int,
                     runs: Range<Int>, blocks: Range<Int>, w: UnsafePointer<Float>, panel: Int, bias: UnsafePointer<Float>,
                     y: UnsafeMutablePointer<Float>, outPlane: Int, yRow: Int, store: BlockedStore,
                     scratch: UnsafeMutablePointer<Float>) {
    let n = runs.count
    precondition(blocks.count <= 2, "blockedRunsAVX2: at most two blocks per call")
    let sums = scratch
    let offsets = UnsafeMutableRawPointer(scratch + n * 2 * 96).assumingMemoryBound(to: Int.self)
    let yOffsets = offsets + 6 * n
    // Where each run reads: its first pixel's input in the buffer (in the slot of its own offset, 0), and its six
    // pixels' from there; and where each of its pixels' outputs go, from y.
    // (Rows and columns are stepped, not divided out: with few input channels a tile is a hundred cycles, and twelve
    // divisions a run took longer than the tile; MobileNetV2's 16 -> 96 layer ran at 40 GFLOP/s.)
    var row = 6 * runs.lowerBound / outW, col = 6 * runs.lowerBound - row * outW
    for (j, r) in runs.enumerated() {
        let count = min(6, pixels - 6 * r)
        let origin = row * bandRow + col * g.step
        offsets[6 * j] = origin
        yOffsets[6 * j] = row * yRow + col * 16
        var pr = row, pc = col
        for i in 1..<6 {
            if i < count {
                pc += 1
                if pc == outW { pc = 0; pr += 1 }
            }
            offsets[6 * j + i] = pr * bandRow + pc * g.step - origin
            yOffsets[6 * j + i] = pr * yRow + pc * 16
        }
        col += 6
        while col >= outW { col -= outW; row += 1 }
    }
    let groups = g.kernelH * g.kernelW * g.inBlocks
    // Chunk by chunk, run by run, each block: a chunk's inputs serve the blocks while they are in cache (block by block
    // over the whole reduction, ResNet-50's 3x3 layers on 7x7 maps re-read their band from beyond L2 for every block),
    // and a run's serve the second block from L1 (all the runs for one block, then for the other, re-read them from
    // L2: `VigilBench kernels --isa avx2`, the two orders alternated in one process, took 0.93-1.01 of the time for
    // this one, at one and two threads, batch 1 and 16).
    let pairWeights = w + blocks.lowerBound / 2 * panel
    var j0 = 0
    while j0 < groups {
        let j1 = min(groups, j0 + narrowChunkGroups)
        // Where there are few runs to share a chunk's weights (the nine of a 7x7 map), the next chunk's weights are
        // asked for a few rows a run: their first reads otherwise waited on memory (ResNet-50's 3x3 layers on 7x7
        // maps: 62-71 -> 76-79 GFLOP/s, `VigilBench kernels --threads 1`). With many runs the weights are in cache,
        // and the requests cost 2-4%.
        let nextChunk = j1..<min(groups, j1 + narrowChunkGroups)
        directRunsNarrowAVX2(buf, offsets, runs: n, pixels: pixels - 6 * runs.lowerBound, g, pairWeights, j0, j1, groups: groups,
                             blocks: blocks.count, bias: bias + blocks.lowerBound * 16, sums: sums, y: y + blocks.lowerBound * outPlane,
                             outPlane: outPlane, yOffsets: yOffsets, store: store, next: pairWeights + nextChunk.lowerBound * 16 * 32,
                             nextRows: n <= 16 ? nextChunk.count * 16 : 0)
        j0 = j1
    }
}

/// Floats of scratch `blockedRunsAVX2` needs for `runs` runs of up to two blocks.
func narrowRunsScratch(runs: Int) -> Int { runs * (2 * 96 + 24) }

/// `.pointwise` and `.direct` convolutions on AVX2 (arguments as `blockedConv2d`'s).
///
/// - pointwise: an image's map is one row of pixels (at batch 2 and more, when its pixels are not a multiple of six,
///   the batch's maps are the rows of one band and runs cross from image to image). Units: (image, chunk of runs,
///   two output blocks), chunk-major,
///   so consecutive units of a thread read the same chunk of input (about 192 KiB, kept in L2) while the blocks'
///   weights stream.
/// - direct: units (image, band of output rows, group, two of the group's output blocks), band-major; a thread copies
///   a band once for all the blocks it does on it (`directBand`).
func blockedRunsConvAVX2(_ kind: BlockedConvKind, _ x: UnsafePointer<Float>, packedWeights w: UnsafePointer<Float>,
                         bias: UnsafePointer<Float>, shape s: ConvShape, activation: Activation,
                         residual: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
    let (lo, hi) = activation.clampBounds!
    let w = alignedWeights(w)
    let wd = s.window
    let store = BlockedStore(lo: lo, hi: hi, residual: residual.map { UnsafeRawPointer($0) - UnsafeRawPointer(y) })
    let cb = ChannelBlocks.count(s.inC), mb = ChannelBlocks.count(s.outC)
    let inPlane = s.inH * s.inW * 16, outPlane = s.outH * s.outW * 16
    let xItem = cb * inPlane, yItem = mb * outPlane
    let wanted = computeThreads * chunksPerThread
    nonisolated(unsafe) let x = x, y = y, bias = bias
    if kind == .pointwise {
        let pixels = s.outH * s.outW, blockPairs = (mb + 1) / 2
        // From batch 2 on, where an image's map leaves its last run part-empty (a 7x7 map is 9 runs of six with 5
        // slots unused), the runs go on from one image into the next: the batch is one band whose rows are the images.
        let span = s.batch > 1 && pixels % 6 != 0
        let items = span ? 1 : s.batch, bandPixels = span ? s.batch * pixels : pixels
        let runsPerItem = (bandPixels + 5) / 6
        var chunk = max(1, min(32, 512 / cb))
        while chunk > 1 && items * ((runsPerItem + chunk - 1) / chunk) * blockPairs < wanted { chunk = (chunk + 1) / 2 }
        let chunks = (runsPerItem + chunk - 1) / chunk
        chunk = (runsPerItem + chunks - 1) / chunks   // equal chunks: 9 runs as 5 + 4, not 8 + 1
        let g = DirectGeometry(inBlocks: cb, bandPlane: pixels * 16, step: 16, kernelH: 1, kernelW: 1, tapRow: 0, tapColumn: 0)
        parallelChunks(items * chunks * blockPairs) { r in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: narrowRunsScratch(runs: chunk))
            defer { scratch.deallocate() }
            for u in r {
                let n = u / (chunks * blockPairs), c = u / blockPairs % chunks, pair = u % blockPairs
                blockedRunsAVX2(x + n * xItem, g, bandRow: span ? xItem : 0, outW: pixels, pixels: bandPixels,
                                runs: (c * chunk)..<min(runsPerItem, (c + 1) * chunk), blocks: (2 * pair)..<min(mb, 2 * pair + 2),
                                w: w, panel: cb * 16 * 32, bias: bias, y: y + n * yItem, outPlane: outPlane, yRow: span ? yItem : outPlane,
                                store: store, scratch: scratch)
            }
        }
        return
    }
    precondition(kind == .direct, "blockedRunsConvAVX2: \(kind) is not pointwise or direct")
    let d = DirectGroups(s), groups = s.groups
    let panel = wd.kernelH * wd.kernelW * d.inBlocks * 16 * 32
    var bandRows = max(1, min(s.outH, 96 / s.outW))   // about 16 runs
    while bandRows > 1 && s.batch * ((s.outH + bandRows - 1) / bandRows) * groups * d.pairs < wanted { bandRows = (bandRows + 1) / 2 }
    let bands = (s.outH + bandRows - 1) / bandRows
    bandRows = (s.outH + bands - 1) / bands
    let scratchBytes = blockedDirectScratchBytes(inBlocks: d.inBlocks, rows: bandRows, outW: s.outW, kernelH: wd.kernelH, kernelW: wd.kernelW,
                                                 strideH: wd.strideH, strideW: wd.strideW, dilationH: wd.dilationH, dilationW: wd.dilationW)
    parallelChunks(s.batch * bands * groups * d.pairs) { r in
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
        let runScratch = UnsafeMutablePointer<Float>.allocate(capacity: narrowRunsScratch(runs: (bandRows * s.outW + 5) / 6))
        defer { scratch.deallocate(); runScratch.deallocate() }
        var copied = -1   // the (image, band, group) the scratch holds
        for u in r {
            let n = u / (bands * groups * d.pairs), band = u / (groups * d.pairs) % bands
            let g = u / d.pairs % groups, pair = u % d.pairs
            let rows = (band * bandRows)..<min(s.outH, band * bandRows + bandRows)
            let (buf, padW, bandPlane) = directBand(x: x + n * xItem + g * d.inBlocks * inPlane, inBlocks: d.inBlocks, inH: s.inH, inW: s.inW,
                                                    kernelH: wd.kernelH, kernelW: wd.kernelW, strideH: wd.strideH, strideW: wd.strideW,
                                                    dilationH: wd.dilationH, dilationW: wd.dilationW, padTop: wd.padTop, padLeft: wd.padLeft,
                                                    outW: s.outW, rows: rows, scratch: scratch, copyBand: copied != u / d.pairs)
            copied = u / d.pairs
            let geometry = DirectGeometry(inBlocks: d.inBlocks, bandPlane: bandPlane, step: wd.strideW * 16, kernelH: wd.kernelH,
                                          kernelW: wd.kernelW, tapRow: wd.dilationH * padW * 16, tapColumn: wd.dilationW * 16)
            let pixels = rows.count * s.outW
            blockedRunsAVX2(buf, geometry, bandRow: wd.strideH * padW * 16, outW: s.outW, pixels: pixels,
                            runs: 0..<((pixels + 5) / 6), blocks: (2 * pair)..<min(d.outBlocks, 2 * pair + 2),
                            w: w + g * d.pairs * panel, panel: panel, bias: bias + g * d.outBlocks * 16,
                            y: y + n * yItem + g * d.outBlocks * outPlane + rows.lowerBound * s.outW * 16, outPlane: outPlane,
                            yRow: s.outW * 16, store: store, scratch: runScratch)
        }
    }
}
