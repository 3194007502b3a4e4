import Foundation
import TensorCore

/// Incremental occlusion (see `IncrementalOcclusion`) on the channel-blocked form of the graph, for AVX-512.
///
/// The same projective-field recomputation, with every changed tile in the blocked layout: the tiles of a
/// blocked value are `[K, ceil(C/16), h, w, 16]` (K small blocked images), so the windows a layer reads are
/// gathered as rows of whole pixel vectors, and every convolution over the tiles is one `blockedConv2d` call
/// with the batch of K windows (a residual Add fused as in the forward pass). Planar values (the image input)
/// have tiles `[K, C, h, w]`. The clean pass is a plain blocked forward that keeps its values, and the rest of
/// the graph after the switch to full recomputation runs on the blocked kernels from blocked inputs, with no
/// conversion in between.
///
/// Why: the NCHW engine spent most of its incremental part gathering windows a float row at a time and running
/// depthwise filters plane by plane (16 copies x 96 channels of 35x35 for a 3x3/2), and its clean pass had to
/// keep every activation of an NCHW forward pass, itself 1.6x slower than the blocked one.
final class BlockedIncrementalOcclusion: TiledOcclusionLayout {
    let graph: Graph
    let inputName: String, outputName: String
    var configuration: EngineConfiguration { executor.configuration }
    /// Runs the clean pass; its schedule (ids, readers and writers, last uses) serves the incremental part too.
    let executor: Executor
    var ids: [String: Int] { executor.ids }
    var nodeInputs: [[Int]] { executor.nodeInputs }
    var nodeOutputs: [[Int]] { executor.nodeOutputs }
    var lastUse: [Int] { executor.lastUse }
    /// Value names by id.
    let names: [String]
    var fullThreshold: Double
    var lastMACs: (incremental: Int, full: Int, reference: Int) = (0, 0, 0)
    var tails: [Int: IncrementalOcclusion.Tail] = [:]
    /// The clean pass of the current run: tensors (constants, the input, values outside the arena) and arena
    /// values (valid until `executor` runs again), by id.
    var cleanTensors: [Tensor?] = []
    var cleanArena: [(data: UnsafePointer<Float>, shape: [Int])?] = []
    /// The input of the clean pass those values are of (nil: none).
    var cleanInput: [Float]? = nil
    /// Every arena value of the clean pass, kept for the incremental part.
    lazy var keptValues: Set<Int> = executor.allArenaValues

    /// nil when the graph has no blocked form or its input is not an image `[N, C, H, W]`.
    init?(graph original: Graph, input: String, output: String, fullThreshold: Double, configuration: EngineConfiguration, packing: PackedWeights) {
        guard let g = original.channelBlocked(packing: packing), g.inputs.count == 1, g.inputs[0].name == input, g.inputs[0].shape.count == 4 else { return nil }
        graph = g; inputName = input; outputName = output; self.fullThreshold = fullThreshold
        executor = Executor(graph: g, configuration: configuration, packing: packing)
        var names = [String](repeating: "", count: executor.ids.count)
        for (n, i) in executor.ids { names[i] = n }
        self.names = names
    }

    /// The clean pass: a plain blocked forward pass whose values stay for `run` on the same input (until the
    /// next clean pass). Returns the graph's outputs and NCHW copies of the original graph's values `capture`
    /// (`channels` gives their channel counts), or nil when one of those has no form in the blocked graph (a
    /// convolution output that a fused residual Add took over); the pass is made either way.
    func cleanPass(_ input: Tensor, capture: [String] = [], channels: [String: Int] = [:]) throws -> [String: Tensor]? {
        cleanInput = nil
        let captured = try executor.run([inputName: input], capture: graph.nodes.flatMap(\.outputs), retainForGradientOf: nil,
                                        wholeBatch: false, keepInArena: keptValues).captured
        cleanTensors = [Tensor?](repeating: nil, count: ids.count)
        cleanArena = .init(repeating: nil, count: ids.count)
        for (n, t) in graph.constants { cleanTensors[ids[n]!] = t }
        cleanTensors[ids[inputName]!] = input
        for (n, t) in captured { cleanTensors[ids[n]!] = t }
        for (n, i) in ids where cleanTensors[i] == nil { cleanArena[i] = executor.arenaValue(n) }
        cleanInput = input.data
        var out: [String: Tensor] = [:]
        for o in graph.outputs { out[o] = captured[o] }
        for n in capture {
            if let t = captured[n] ?? (n == inputName ? input : nil) { out[n] = t }
            else if let c = channels[n], let t = executor.keptArenaValueInNCHW(n, channels: c) { out[n] = t }
            else { return nil }
        }
        return out
    }

    func run(cleanInput input: Tensor, patches: [OcclusionPatchInput]) throws -> Tensor {
        let k = patches.count
        guard let inId = ids[inputName], let outId = ids[outputName] else { throw GraphError.unknownTensor(name: inputName) }
        // The clean pass in the blocked layout (unless the last one was of this input), every value kept: blocked
        // ones in the executor's arena.
        if cleanInput != input.data { _ = try cleanPass(input) }
        var nodeMACs: [Int] = []
        for j in graph.nodes.indices {
            nodeMACs.append(graph.nodes[j].op.macs(inputs: nodeInputs[j].map { shape($0) }, outputs: nodeOutputs[j].map { shape($0) }))
        }
        // The input's tiles: the clean windows with the patches written in.
        let cIn = input.shape[1], hIn = input.shape[2], wIn = input.shape[3]
        let th = patches.map(\.height).max()!, tw = patches.map(\.width).max()!
        var inTiles = ChangedTiles(regions: patches.map { Rect(y0: $0.y, x0: $0.x, y1: $0.y + $0.height, x1: $0.x + $0.width) },
                                   originY: patches.map { min(max($0.y, 0), hIn - th) }, originX: patches.map { min(max($0.x, 0), wIn - tw) },
                                   th: th, tw: tw, planes: cIn, vec: 1, data: [])
        inTiles.data = gather(inId, nil, k: k, originY: inTiles.originY, originX: inTiles.originX, h: th, w: tw)
        IncrementalOcclusion.writePatches(patches, channels: cIn, originY: inTiles.originY, originX: inTiles.originX, tw: tw,
                                          into: &inTiles.data) { t, c in (t * cIn + c) * th * tw }
        let pass = try incrementalPass(inputTiles: inTiles, inputId: inId, outputId: outId, k: k, nodeMACs: nodeMACs)
        lastMACs = pass.macs
        return pass.output
    }

    func profileKey(_ node: Node, _ j: Int, _ out: ChangedTiles) -> String { "incremental (blocked): " + node.op.name }

    /// The graph from node `start` on, fed the values live there as batches of K (blocked values stay blocked).
    func tailGraph(from start: Int) throws -> IncrementalOcclusion.Tail {
        if let t = tails[start] { return t }
        let t = try IncrementalOcclusion.tail(of: graph, from: start, output: outputName, ids: ids, configuration: executor.configuration,
                                              packing: executor.packing) { shape($0) }
        tails[start] = t
        return t
    }

    /// The clean value's shape.
    func shape(_ v: Int) -> [Int] { cleanArena[v]?.shape ?? cleanTensors[v]!.shape }

    /// Calls `body` with the clean value's storage and shape.
    func withClean<R>(_ v: Int, _ body: (UnsafePointer<Float>, [Int]) -> R) -> R {
        if let a = cleanArena[v] { return body(a.data, a.shape) }
        let t = cleanTensors[v]!
        return t.data.withUnsafeBufferPointer { body($0.baseAddress!, t.shape) }
    }

    /// A value `[1, planes, H, W, vec]` (or `[1, C, H, W]`) over a window per copy, `[K, planes, h, w, vec]`, with the
    /// changed tiles written in and `fill` (zero, or minus infinity for a max pool) outside the plane. Copies and
    /// channel blocks are split over the threads.
    func gather(_ v: Int, _ p: ChangedTiles?, k: Int, originY: [Int], originX: [Int], h: Int, w: Int, fill: Float = 0) -> [Float] {
        let cs = shape(v)
        let planes = cs[1], H = cs[2], W = cs[3], vec = cs.count == 5 ? cs[4] : 1
        let count = k * planes * h * w * vec
        var out = [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
        let empty: [Float] = []
        out.withUnsafeMutableBufferPointer { ob in
            withClean(v) { cb, _ in
                (p?.data ?? empty).withUnsafeBufferPointer { pd in
                    nonisolated(unsafe) let ob = ob.baseAddress!, cb = cb, pd = pd.baseAddress
                    @inline(__always) func zero(_ d: UnsafeMutablePointer<Float>, _ n: Int) { for i in 0..<n { d[i] = fill } }
                    @inline(__always) func copy(_ d: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, _ n: Int) { for i in 0..<n { d[i] = s[i] } }
                    parallelChunks(k * planes, minItemsPerChunk: max(1, 16_384 / max(1, h * w * vec))) { r in
                        for u in r {
                            let t = u / planes, q = u % planes
                            let base = ob + u * h * w * vec
                            let x0 = originX[t], y0 = originY[t]
                            let xa = max(0, x0), xb = min(W, x0 + w)
                            // The changed tile's columns within [xa, xb), and its rows.
                            var pa = xa, pb = xa, py0 = 0, py1 = 0, tileRows = pd, tileW = 0
                            if let p, let pd {
                                pa = max(xa, p.originX[t]); pb = max(pa, min(xb, p.originX[t] + p.tw))
                                py0 = p.originY[t]; py1 = py0 + p.th; tileW = p.tw
                                tileRows = pd + ((t * planes + q) * p.th * p.tw + (pa - p.originX[t]) - py0 * p.tw) * vec
                            }
                            for yy in 0..<h {
                                let ay = y0 + yy
                                let row = base + yy * w * vec
                                if ay < 0 || ay >= H || xb <= xa { zero(row, w * vec); continue }
                                zero(row, (xa - x0) * vec)
                                zero(row + (xb - x0) * vec, (x0 + w - xb) * vec)
                                let src = cb + (q * H + ay) * W * vec
                                if pb > pa && ay >= py0 && ay < py1, let tileRows {
                                    copy(row + (xa - x0) * vec, src + xa * vec, (pa - xa) * vec)
                                    copy(row + (pa - x0) * vec, tileRows + ay * tileW * vec, (pb - pa) * vec)
                                    copy(row + (pb - x0) * vec, src + pb * vec, (xb - pb) * vec)
                                } else {
                                    copy(row + (xa - x0) * vec, src + xa * vec, (xb - xa) * vec)
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The K copies of a value as a batch: the clean value repeated, the changed tiles written over it.
    func materialise(_ v: Int, _ p: ChangedTiles?, k: Int) -> Tensor {
        let cs = shape(v), one = shapeCount(cs)
        let count = one * k
        var data = [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
        data.withUnsafeMutableBufferPointer { d in
            withClean(v) { s, _ in
                for t in 0..<k { (d.baseAddress! + t * one).update(from: s, count: one) }
            }
            guard let p else { return }
            let planes = cs[1], H = cs[2], W = cs[3], vec = p.vec
            p.data.withUnsafeBufferPointer { s in
                let d = d.baseAddress!, s = s.baseAddress!
                for t in 0..<k {
                    for q in 0..<planes {
                        for yy in 0..<p.th {
                            let dst = d + (((t * planes + q) * H + p.originY[t] + yy) * W + p.originX[t]) * vec
                            let src = s + ((t * planes + q) * p.th + yy) * p.tw * vec
                            for i in 0..<(p.tw * vec) { dst[i] = src[i] }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [k] + cs.dropFirst(), data: data)
    }

    /// Recomputes one node over its changed tiles; nil means "switch to full recomputation here".
    func incremental(_ node: Node, _ j: Int, tiles: [Int: ChangedTiles], k: Int) throws -> (value: ChangedTiles, macs: Int)? {
        let ins = nodeInputs[j]
        guard nodeOutputs[j].count == 1 else { return nil }
        let outShape = shape(nodeOutputs[j][0])
        guard outShape.count == 5 else { return nil }
        let outBlocks = outShape[1], oh = outShape[2], ow = outShape[3]
        func windows(_ regions: [Rect]) -> TileWindows? { tileWindows(regions, outH: oh, outW: ow, fullThreshold: fullThreshold) }
        func union(_ vs: [Int]) -> [Rect]? {
            var regions: [Rect]? = nil
            for v in vs { if let p = tiles[v] { regions = regions.map { zip($0, p.regions).map { $0.union($1) } } ?? p.regions } }
            return regions
        }
        func result(_ regions: [Rect], _ win: TileWindows, _ data: [Float]) -> ChangedTiles {
            ChangedTiles(regions: regions, originY: win.oy, originX: win.ox, th: win.th, tw: win.tw, planes: outBlocks, vec: 16, data: data)
        }
        switch node.op {
        case let .blocked(.conv(kind, wd, m, g, act)):
            guard let px = tiles[ins[0]], ins.count >= 3, tiles[ins[1]] == nil, tiles[ins[2]] == nil else { return nil }
            let inShape = shape(ins[0])
            // Output regions: the projective field of the input's changes, and a changed residual's own.
            var regions = projectiveRegions(px.regions, wd, outH: oh, outW: ow)
            if ins.count > 3, let pr = tiles[ins[3]] { regions = zip(regions, pr.regions).map { $0.union($1) } }
            guard let win = windows(regions) else { return nil }
            let (ih, iw, iy, ix) = inputWindows(win, wd)
            // A pointwise convolution reads the changed tiles themselves when its windows are theirs.
            let xin = kind == .pointwise && ih == px.th && iw == px.tw && iy == px.originY && ix == px.originX
                ? px.data : gather(ins[0], px, k: k, originY: iy, originX: ix, h: ih, w: iw)
            let res = ins.count > 3 ? gather(ins[3], tiles[ins[3]], k: k, originY: win.oy, originX: win.ox, h: win.th, w: win.tw) : nil
            let inC = kind == .planarInput ? inShape[1] : inShape[1] * 16
            let cs = ConvShape(batch: k, inC: inC, inH: ih, inW: iw, outC: kind == .depthwise ? inC : m,
                               groups: kind == .depthwise ? inC : (kind == .direct || kind == .quadGroups ? g : 1),
                               window: Window2D(kernelH: wd.kernelH, kernelW: wd.kernelW, strideH: wd.strideH, strideW: wd.strideW,
                                                dilationH: wd.dilationH, dilationW: wd.dilationW))
            let yCount = k * outBlocks * win.th * win.tw * 16
            var y = [Float](unsafeUninitializedCapacity: yCount) { _, n in n = yCount }
            xin.withUnsafeBufferPointer { xp in
                withClean(ins[1]) { wp, _ in
                    withClean(ins[2]) { bp, _ in
                        y.withUnsafeMutableBufferPointer { yp in
                            func conv(_ residual: UnsafePointer<Float>?) {
                                blockedConv2d(kind, xp.baseAddress!, packedWeights: wp, bias: bp, shape: cs,
                                              activation: act, residual: residual, y: yp.baseAddress!,
                                              windowOrigins: zip(win.oy, win.ox).map { (y: $0, x: $1) })
                            }
                            if let res { res.withUnsafeBufferPointer { conv($0.baseAddress!) } } else { conv(nil) }
                        }
                    }
                }
            }
            let macs = k * win.th * win.tw * (kind == .depthwise ? inC * wd.kernelH * wd.kernelW : m * inC / cs.groups * wd.kernelH * wd.kernelW)
            return (result(regions, win, y), macs)
        case .binary(.add):
            guard ins.count == 2, ins.allSatisfy({ shape($0) == outShape }), let regions = union(ins), let win = windows(regions) else { return nil }
            let a = gather(ins[0], tiles[ins[0]], k: k, originY: win.oy, originX: win.ox, h: win.th, w: win.tw)
            var y = gather(ins[1], tiles[ins[1]], k: k, originY: win.oy, originX: win.ox, h: win.th, w: win.tw)
            y.withUnsafeMutableBufferPointer { yp in
                a.withUnsafeBufferPointer { addVectors(yp.baseAddress!, $0.baseAddress!, y: yp.baseAddress!, count: yp.count) }
            }
            return (result(regions, win, y), 0)
        case let .blocked(.maxPool(wd, _)):
            guard let px = tiles[ins[0]], px.vec == 16 else { return nil }
            let regions = projectiveRegions(px.regions, wd, outH: oh, outW: ow)
            guard let win = windows(regions) else { return nil }
            let (ih, iw, iy, ix) = inputWindows(win, wd)
            // Outside the input the windows hold minus infinity, so the pool over them needs no padding.
            let xin = gather(ins[0], px, k: k, originY: iy, originX: ix, h: ih, w: iw, fill: -.infinity)
            let yCount = k * outBlocks * win.th * win.tw * 16
            var y = [Float](unsafeUninitializedCapacity: yCount) { _, n in n = yCount }
            xin.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer {
                    blockedMaxPool(xp.baseAddress!, batch: k, blocks: outBlocks, inH: ih, inW: iw,
                                   window: Window2D(kernelH: wd.kernelH, kernelW: wd.kernelW, strideH: wd.strideH, strideW: wd.strideW,
                                                    dilationH: wd.dilationH, dilationW: wd.dilationW),
                                   outH: win.th, outW: win.tw, y: $0.baseAddress!)
                }
            }
            return (result(regions, win, y), 0)
        case let .blocked(.clamp(a)):
            guard let px = tiles[ins[0]], px.vec == 16, let (lo, hi) = a.clampBounds else { return nil }
            var y = px.data
            y.withUnsafeMutableBufferPointer { blockedClamp($0.baseAddress!, count: $0.count, lo: lo, hi: hi, y: $0.baseAddress!) }
            return (result(px.regions, (px.th, px.tw, px.originY, px.originX), y), 0)
        case .blocked(.toBlocked):
            guard let px = tiles[ins[0]], px.vec == 1 else { return nil }
            let yCount = k * outBlocks * px.th * px.tw * 16
            var y = [Float](unsafeUninitializedCapacity: yCount) { _, n in n = yCount }
            px.data.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { toChannelBlocked(xp.baseAddress!, batch: k, channels: px.planes, pixels: px.th * px.tw, y: $0.baseAddress!) }
            }
            return (result(px.regions, (px.th, px.tw, px.originY, px.originX), y), 0)
        default:
            return nil
        }
    }
}
