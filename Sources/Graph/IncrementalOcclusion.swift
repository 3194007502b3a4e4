import Foundation
import TensorCore

/// One occluded copy of the input: the values inside a rectangle of the input's spatial plane.
public struct OcclusionPatchInput: Sendable {
    public var y: Int, x: Int, height: Int, width: Int
    /// `[channels, height, width]`: the input's values inside the rectangle once occluded.
    public var values: [Float]
    public init(y: Int, x: Int, height: Int, width: Int, values: [Float]) {
        self.y = y; self.x = x; self.height = height; self.width = width; self.values = values
    }
}

/// A half-open rectangle of a tensor's spatial plane.
struct Rect: Equatable {
    var y0: Int, x0: Int, y1: Int, x1: Int
    var height: Int { y1 - y0 }
    var width: Int { x1 - x0 }
    func union(_ o: Rect) -> Rect { Rect(y0: min(y0, o.y0), x0: min(x0, o.x0), y1: max(y1, o.y1), x1: max(x1, o.x1)) }
}

/// Exact incremental inference for occlusion (after Krypton, Nakandala et al., SIGMOD 2019).
///
/// A patch changes only a window of the input, so each spatially local layer (convolution, pooling, pointwise
/// ops) is recomputed only over the region that window reaches, its projective field, reading the clean frame's
/// activations everywhere else. All occluded copies are processed together as equally sized tiles in
/// `[C, K, h, w]` layout, so a 1x1 convolution over every tile is one GEMM. Once a changed region covers most of
/// a tensor, or a layer mixes all positions (global pooling, flatten, dense), the copies are materialised as a
/// batch and the rest of the graph runs normally. Results equal a full recomputation up to float rounding.
///
/// One instance per thread.
public final class IncrementalOcclusion: TiledOcclusionLayout {
    public let graph: Graph
    let inputName: String
    let outputName: String
    let ws = Workspace()
    /// Switch to full recomputation when a tile would cover more than this share of its plane. 0.5 since the
    /// full part runs on the channel-blocked kernels (`vigil analyze` on 10 s of vtest: 4.45 vs 4.6 s at 0.8).
    public var fullThreshold: Double = 0.5
    /// Multiply-accumulates of the last run: incremental part, full part, and what a full batched run would cost.
    public private(set) var lastMACs: (incremental: Int, full: Int, reference: Int) = (0, 0, 0)

    let ids: [String: Int]
    let nodeInputs: [[Int]]
    let nodeOutputs: [[Int]]
    let lastUse: [Int]
    /// Tensor names by id.
    let names: [String]
    /// Shapes of the clean pass, by id.
    var valueShapes: [[Int]]
    /// The clean pass's values by id, during a run.
    var clean: [Tensor?] = []
    /// Up to this many copies, the tail runs op by op over the whole batch; beyond it, one copy per thread
    /// (K = 16: 66 vs 78 ms; K = 64: 326 vs 281 ms on EfficientNet-Lite0, 2 cores).
    static let wholeBatchTail = 16
    /// Executors of the graph's tails, by the node where full recomputation starts.
    var tails: [Int: Tail] = [:]

    /// The engine on the graph's channel-blocked form (`BlockedIncrementalOcclusion`), made on first use; nil
    /// when the graph has none.
    lazy var blockedEngine: BlockedIncrementalOcclusion? = BlockedIncrementalOcclusion(graph: graph, input: inputName, output: outputName,
                                                                                        fullThreshold: fullThreshold, configuration: configuration,
                                                                                        packing: packing)
    /// How this engine and the executors it makes run.
    public let configuration: EngineConfiguration
    /// Weights packed for the blocked graphs it makes (shared with the owner's other engines).
    public let packing: PackedWeights
    /// True when runs on this thread take the blocked engine: AVX-512 kernels, the blocked layout, and a graph with
    /// a blocked form.
    public var usesBlockedLayout: Bool { configuration.usesBlockedLayout && blockedEngine != nil }

    /// Channel counts of the graph's values (for NCHW copies out of the blocked engine's clean pass).
    lazy var channelCounts: [String: Int] = (graph.inferShapes(batch: 1) ?? [:]).compactMapValues { $0.count == 4 ? $0[1] : nil }

    /// When runs take the blocked engine: its clean pass of `input`, ahead of `run(cleanInput:)` on the same input
    /// (which then reuses it), returning the graph's outputs and NCHW copies of the values `capture`; nil when the
    /// NCHW engine runs, or when a value asked for has no blocked form (make it with an executor then).
    public func cleanPass(_ input: Tensor, capture: [String]) throws -> [String: Tensor]? {
        guard usesBlockedLayout, let engine = blockedEngine, input.rank == 4, input.shape[0] == 1 else { return nil }
        return try engine.cleanPass(input, capture: capture, channels: channelCounts)
    }

    /// Names of every node output, to capture in a clean pass whose values `run(cleanValues:)` reuses; none when
    /// the blocked engine runs (it makes its own, faster, clean pass in its layout).
    public var nodeOutputNames: [String] { usesBlockedLayout ? [] : graph.nodes.flatMap(\.outputs) }

    /// - Parameters: the graph (fused is fine), its image input and the output to return.
    public init(graph: Graph, input: String, output: String, configuration: EngineConfiguration = .standard,
                packing: PackedWeights = PackedWeights()) {
        self.graph = graph; inputName = input; outputName = output
        self.configuration = configuration; self.packing = packing
        let schedule = Graph.Schedule(graph)
        var last = schedule.lastUse
        for o in graph.outputs { if let i = schedule.ids[o] { last[i] = Int.max } }
        ids = schedule.ids; nodeInputs = schedule.nodeInputs; nodeOutputs = schedule.nodeOutputs; lastUse = last
        names = schedule.names
        valueShapes = [[Int]](repeating: [], count: ids.count)
        for (n, t) in graph.constants { valueShapes[ids[n]!] = t.shape }
    }

    /// Runs the clean input and every occluded copy; returns `output` for the copies, `[K, ...]`.
    ///
    /// - Parameters:
    ///   - cleanValues: every node output of a clean forward pass of the same graph on `cleanInput` (as captured by
    ///     `Executor.run(capture: nodeOutputNames)`), to skip repeating it; nil runs the clean pass here.
    /// - Throws: `GraphError` when the graph rejects the input.
    public func run(cleanInput: Tensor, patches: [OcclusionPatchInput], cleanValues: [String: Tensor]? = nil) throws -> Tensor {
        try configuration.apply { try runConfigured(cleanInput: cleanInput, patches: patches, cleanValues: cleanValues) }
    }

    private func runConfigured(cleanInput: Tensor, patches: [OcclusionPatchInput], cleanValues: [String: Tensor]?) throws -> Tensor {
        let k = patches.count
        precondition(k > 0, "IncrementalOcclusion.run needs at least one patch")
        if usesBlockedLayout, let engine = blockedEngine, cleanInput.rank == 4, cleanInput.shape[0] == 1 {
            engine.fullThreshold = fullThreshold
            let y = try engine.run(cleanInput: cleanInput, patches: patches)
            lastMACs = engine.lastMACs
            return y
        }
        clean = [Tensor?](repeating: nil, count: ids.count)
        for (n, t) in graph.constants { clean[ids[n]!] = t }
        guard let inId = ids[inputName], let outId = ids[outputName] else { throw GraphError.unknownTensor(name: inputName) }
        guard cleanInput.rank == 4, cleanInput.shape[0] == 1 else {
            throw GraphError.badInput(name: inputName, detail: "incremental occlusion needs one clean image [1,C,H,W], got \(cleanInput.shape)")
        }
        clean[inId] = cleanInput
        valueShapes[inId] = cleanInput.shape
        // Clean pass, keeping every activation.
        var nodeMACs: [Int] = []
        for (j, node) in graph.nodes.enumerated() {
            let x = nodeInputs[j].map { clean[$0]! }
            let given = cleanValues.map { cv in nodeOutputs[j].compactMap { cv[names[$0]] } }
            let y: [Tensor]
            if let given, given.count == nodeOutputs[j].count {
                y = given
            } else {
                let shapes = try node.op.outputShapes(x.map(\.shape), batch: 1, node: node.name)
                y = node.op.evaluate(x, outShapes: shapes, ws: ws)
            }
            nodeMACs.append(node.op.macs(inputs: x.map(\.shape), outputs: y.map(\.shape)))
            for (i, v) in nodeOutputs[j].enumerated() { clean[v] = y[i]; valueShapes[v] = y[i].shape }
        }
        defer { clean = [] }
        // The input's tiles.
        let cIn = cleanInput.shape[1], hIn = cleanInput.shape[2], wIn = cleanInput.shape[3]
        let th = patches.map(\.height).max()!, tw = patches.map(\.width).max()!
        var inTiles = ChangedTiles(regions: patches.map { Rect(y0: $0.y, x0: $0.x, y1: $0.y + $0.height, x1: $0.x + $0.width) },
                                   originY: patches.map { min(max($0.y, 0), hIn - th) }, originX: patches.map { min(max($0.x, 0), wIn - tw) },
                                   th: th, tw: tw, planes: cIn, vec: 1, data: [])
        inTiles.data = gather(inId, clean: clean, patched: [:], k: k, originY: inTiles.originY, originX: inTiles.originX, h: th, w: tw, pad: 0)
        Self.writePatches(patches, channels: cIn, originY: inTiles.originY, originX: inTiles.originX, tw: tw, into: &inTiles.data) { t, c in
            (c * k + t) * th * tw
        }
        let pass = try incrementalPass(inputTiles: inTiles, inputId: inId, outputId: outId, k: k, nodeMACs: nodeMACs)
        lastMACs = pass.macs
        return pass.output
    }

    func profileKey(_ node: Node, _ j: Int, _ out: ChangedTiles) -> String {
        var key = "incremental: " + node.op.name
        if case let .conv(wd, groups, _) = node.op { key += (groups > 1 ? " depthwise " : " ") + "\(wd.kernelH)x\(wd.kernelW)/\(wd.strideH)" }
        if configuration.profile?.byShape == true { key += " \(valueShapes[nodeInputs[j][0]]) -> tiles \(out.planes)x\(out.th)x\(out.tw)" }
        return key
    }

    /// The part of the graph from node `start` on, as its own graph whose inputs are the values live there.
    struct Tail { var inputs: [Int]; var executor: Executor? }

    func tailGraph(from start: Int) throws -> Tail {
        if let t = tails[start] { return t }
        let t = try Self.tail(of: graph, from: start, output: outputName, ids: ids, configuration: configuration, packing: packing) { valueShapes[$0] }
        tails[start] = t
        return t
    }

    /// The nodes of `graph` from `start` on as a graph making `output` (`Graph.subgraph`), fed the values live
    /// at `start` (batch axis free, other extents from `shape`), with an executor; no executor when `start` is
    /// past the last node.
    static func tail(of graph: Graph, from start: Int, output: String, ids: [String: Int], configuration: EngineConfiguration,
                     packing: PackedWeights, shape: (Int) -> [Int]) throws -> Tail {
        guard start < graph.nodes.count else { return Tail(inputs: [ids[output]!], executor: nil) }
        guard let (sub, feeds) = try graph.subgraph(Array(graph.nodes[start...]), output: output, shape: { ids[$0].map(shape) }) else {
            throw GraphError.unknownTensor(name: output)
        }
        return Tail(inputs: feeds.map { ids[$0]! }, executor: Executor(graph: sub, configuration: configuration, packing: packing))
    }

    /// Writes each patch's values into its copy's input window: `plane(t, c)` is where channel c of copy t's
    /// window (`th` x `tw`, at `originY[t]`, `originX[t]`) starts in `data`.
    static func writePatches(_ patches: [OcclusionPatchInput], channels: Int, originY: [Int], originX: [Int], tw: Int,
                             into data: inout [Float], plane: (Int, Int) -> Int) {
        for (t, p) in patches.enumerated() {
            precondition(p.values.count == channels * p.height * p.width, "patch \(t): \(p.values.count) values for a \(channels)x\(p.height)x\(p.width) patch")
            for c in 0..<channels { for yy in 0..<p.height { for xx in 0..<p.width {
                data[plane(t, c) + (p.y + yy - originY[t]) * tw + p.x + xx - originX[t]] = p.values[(c * p.height + yy) * p.width + xx]
            } } }
        }
    }

    /// The K copies of value `v` as a batch `[K, ...]`.
    func materialise(_ v: Int, _ p: ChangedTiles?, k: Int) -> Tensor {
        let c = clean[v]!
        var data = [Float](repeating: 0, count: c.count * k)
        data.withUnsafeMutableBufferPointer { d in
            c.data.withUnsafeBufferPointer { s in for t in 0..<k { (d.baseAddress! + t * c.count).update(from: s.baseAddress!, count: c.count) } }
        }
        if let p {
            let h = c.shape[2], w = c.shape[3], ch = c.shape[1]
            data.withUnsafeMutableBufferPointer { d in
                p.data.withUnsafeBufferPointer { s in
                    let d = d.baseAddress!, s = s.baseAddress!
                    for t in 0..<k {
                        for cc in 0..<ch {
                            for yy in 0..<p.th {
                                let dst = d + ((t * ch + cc) * h + p.originY[t] + yy) * w + p.originX[t]
                                let src = s + ((cc * k + t) * p.th + yy) * p.tw
                                for xx in 0..<p.tw { dst[xx] = src[xx] }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [k] + c.shape.dropFirst(), data: data)
    }

    /// Values of `v` over a window per copy (`[C, K, h, w]`), reading changed tiles where they exist and the clean
    /// activation elsewhere; outside the plane, `pad`.
    ///
    /// Rows are short (9 to 59 floats), so they are copied by inlined loops rather than memmove calls, and the
    /// channels are split over the compute threads: EfficientNet-Lite0's windows at K = 16 move up to 7.5 MB
    /// (96 channels x 16 copies x 35x35), and the gathers were 4 of the incremental part's 10 ms.
    func gather(_ v: Int, clean: [Tensor?], patched: [Int: ChangedTiles], k: Int, originY: [Int], originX: [Int], h: Int, w: Int, pad: Float) -> [Float] {
        let c = clean[v]!
        let ch = c.shape[1], H = c.shape[2], W = c.shape[3]
        // Every element is written below (pad outside the plane), so the storage need not be cleared first.
        let count = ch * k * h * w
        var out = [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
        let p = patched[v]
        let empty: [Float] = []
        out.withUnsafeMutableBufferPointer { ob in
            c.data.withUnsafeBufferPointer { cb in
                (p?.data ?? empty).withUnsafeBufferPointer { pd in
                    nonisolated(unsafe) let ob = ob.baseAddress!, cb = cb.baseAddress!, pd = pd.baseAddress
                    @inline(__always) func fill(_ d: UnsafeMutablePointer<Float>, _ n: Int) { for i in 0..<n { d[i] = pad } }
                    @inline(__always) func copy(_ d: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, _ n: Int) { for i in 0..<n { d[i] = s[i] } }
                    parallelChunks(ch, minItemsPerChunk: max(1, 32_768 / max(1, k * h * w))) { channels in
                        for cc in channels {
                            for t in 0..<k {
                                let base = ob + (cc * k + t) * h * w
                                let x0 = originX[t], y0 = originY[t]
                                let xa = max(0, x0), xb = min(W, x0 + w)
                                // The changed tile's columns within [xa, xb), and its rows.
                                var pa = xa, pb = xa, py0 = 0, py1 = 0, tileRow = pd
                                if let p, let pd {
                                    pa = max(xa, p.originX[t]); pb = max(pa, min(xb, p.originX[t] + p.tw))
                                    py0 = p.originY[t]; py1 = py0 + p.th
                                    tileRow = pd + (cc * k + t) * p.th * p.tw + (pa - p.originX[t]) - py0 * p.tw
                                }
                                for yy in 0..<h {
                                    let ay = y0 + yy
                                    let row = base + yy * w
                                    if ay < 0 || ay >= H || xb <= xa { fill(row, w); continue }
                                    fill(row, xa - x0)
                                    fill(row + (xb - x0), x0 + w - xb)
                                    let src = cb + (cc * H + ay) * W
                                    if pb > pa && ay >= py0 && ay < py1, let p, let tileRow {
                                        copy(row + (xa - x0), src + xa, pa - xa)
                                        copy(row + (pa - x0), tileRow + ay * p.tw, pb - pa)
                                        copy(row + (pb - x0), src + pb, xb - pb)
                                    } else {
                                        copy(row + (xa - x0), src + xa, xb - xa)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Output rows (or columns) a window op changes when input range [a, b) changed.
    static func projective(_ a: Int, _ b: Int, k: Int, s: Int, d: Int, pad: Int, outLen: Int) -> (Int, Int) {
        let lo = max(0, Int((Double(a + pad - (k - 1) * d) / Double(s)).rounded(.up)))
        let hi = min(outLen, (b - 1 + pad) / s + 1)
        return (lo, max(lo, hi))
    }

    /// Recomputes one node over its changed tiles; nil means "switch to full recomputation here".
    func incremental(_ node: Node, _ j: Int, tiles patched: [Int: ChangedTiles], k: Int) throws -> (value: ChangedTiles, macs: Int)? {
        let clean = self.clean
        let ins = nodeInputs[j]
        guard nodeOutputs[j].count == 1, let outShape = clean[nodeOutputs[j][0]]?.shape, outShape.count == 4 else { return nil }
        let outC = outShape[1], oh = outShape[2], ow = outShape[3]
        /// Windows for the given changed regions, or nil when they grow too large.
        func windows(_ regions: [Rect]) -> TileWindows? { tileWindows(regions, outH: oh, outW: ow, fullThreshold: fullThreshold) }
        /// For a sliding-window op: the output regions, their windows, and the input tiles those windows read
        /// (`[C, K, ih, iw]` starting at `iy`, `ix` per copy, zero outside the plane).
        func windowedInput(_ px: ChangedTiles, _ wd: Window2D)
            -> (regions: [Rect], win: TileWindows, ih: Int, iw: Int, iy: [Int], ix: [Int], xin: [Float])? {
            let regions = projectiveRegions(px.regions, wd, outH: oh, outW: ow)
            guard let win = windows(regions) else { return nil }
            let (ih, iw, iy, ix) = inputWindows(win, wd)
            // A 1x1 convolution reads exactly the changed tiles when its windows are theirs: no gather.
            if wd.isPointwise && ih == px.th && iw == px.tw && iy == px.originY && ix == px.originX {
                return (regions, win, ih, iw, iy, ix, px.data)
            }
            let xin = gather(ins[0], clean: clean, patched: patched, k: k, originY: iy, originX: ix, h: ih, w: iw, pad: 0)
            return (regions, win, ih, iw, iy, ix, xin)
        }
        switch node.op {
        case let .conv(wd, groups, act):
            guard let px = patched[ins[0]], ins.count >= 2, !ins.dropFirst().contains(where: { patched[$0] != nil }) else { return nil }
            let inShape = clean[ins[0]]!.shape
            guard groups == 1 || (groups == inShape[1] && outC % groups == 0) else { return nil }
            guard let (regions, win, ih, iw, _, _, xin) = windowedInput(px, wd) else { return nil }
            let shape = TileConvShape(tiles: k, inC: inShape[1], inH: ih, inW: iw, outC: outC, groups: groups,
                                      window: Window2D(kernelH: wd.kernelH, kernelW: wd.kernelW, strideH: wd.strideH, strideW: wd.strideW,
                                                       dilationH: wd.dilationH, dilationW: wd.dilationW))
            // tileConv2d writes every output, so the storage need not be cleared.
            let yCount = outC * k * win.th * win.tw
            var y = [Float](unsafeUninitializedCapacity: yCount) { _, n in n = yCount }
            let w = clean[ins[1]]!.data
            let b = ins.count > 2 ? clean[ins[2]]!.data : nil
            ws.withScratch(shape.scratchCount) { sc in
                xin.withUnsafeBufferPointer { xp in
                    w.withUnsafeBufferPointer { wp in
                        y.withUnsafeMutableBufferPointer { yp in
                            if let b { b.withUnsafeBufferPointer { bp in tileConv2d(xp.baseAddress!, weight: wp.baseAddress!, bias: bp.baseAddress!, shape: shape, activation: act, y: yp.baseAddress!, scratch: sc) } }
                            else { tileConv2d(xp.baseAddress!, weight: wp.baseAddress!, bias: nil, shape: shape, activation: act, y: yp.baseAddress!, scratch: sc) }
                        }
                    }
                }
            }
            let macs = outC * k * win.th * win.tw * (inShape[1] / groups) * wd.kernelH * wd.kernelW
            return (ChangedTiles(regions: regions, originY: win.oy, originX: win.ox, th: win.th, tw: win.tw, planes: outC, vec: 1, data: y), macs)
        case .activation, .identity, .channelAffine:
            guard let px = patched[ins[0]], !ins.dropFirst().contains(where: { patched[$0] != nil }) else { return nil }
            var out = px
            switch node.op {
            case let .activation(a): out.data.withUnsafeMutableBufferPointer { a.apply($0.baseAddress!, count: $0.count) }
            case .channelAffine:
                let sc = clean[ins[1]]!.data, sh = clean[ins[2]]!.data
                let plane = k * px.th * px.tw
                for c in 0..<px.planes { for i in 0..<plane { out.data[c * plane + i] = out.data[c * plane + i] * sc[c] + sh[c] } }
            default: break
            }
            return (out, 0)
        case let .binary(op):
            guard ins.count == 2 else { return nil }
            var regions: [Rect]? = nil
            for v in ins { if let p = patched[v] { regions = regions.map { zip($0, p.regions).map { $0.union($1) } } ?? p.regions } }
            guard let regions else { return nil }
            // Each operand is either a full plane (gathered over the window) or constant over space (per channel or scalar).
            var operands: [(data: [Float], channels: Int, spatial: Bool)] = []
            guard let win = windows(regions) else { return nil }
            for v in ins {
                let s = clean[v]!.shape
                let r4 = [Int](repeating: 1, count: max(0, 4 - s.count)) + s
                guard r4.count == 4, r4[0] == 1 else { return nil }
                if r4[2] == oh && r4[3] == ow {
                    guard r4[1] == outC || r4[1] == 1 else { return nil }
                    let t = clean[v]!.reshaped(r4)
                    var c2 = clean; c2[v] = t
                    operands.append((gather(v, clean: c2, patched: patched, k: k, originY: win.oy, originX: win.ox, h: win.th, w: win.tw, pad: 0), r4[1], true))
                } else if r4[2] == 1 && r4[3] == 1 && patched[v] == nil && (r4[1] == outC || r4[1] == 1) {
                    operands.append((clean[v]!.data, r4[1], false))
                } else { return nil }
            }
            let plane = k * win.th * win.tw
            var y = [Float](repeating: 0, count: outC * plane)
            let a = operands[0], b = operands[1]
            if op == .add && a.spatial && b.spatial && a.channels == outC && b.channels == outC {
                // A residual Add: one pass the compiler vectorises.
                y.withUnsafeMutableBufferPointer { yp in
                    a.data.withUnsafeBufferPointer { ap in b.data.withUnsafeBufferPointer { bp in
                        addVectors(ap.baseAddress!, bp.baseAddress!, y: yp.baseAddress!, count: yp.count)
                    } }
                }
            } else {
                for c in 0..<outC {
                    let ca = a.channels == 1 ? 0 : c, cb = b.channels == 1 ? 0 : c
                    for i in 0..<plane {
                        let av = a.spatial ? a.data[ca * plane + i] : a.data[ca]
                        let bv = b.spatial ? b.data[cb * plane + i] : b.data[cb]
                        y[c * plane + i] = op.apply(av, bv)
                    }
                }
            }
            return (ChangedTiles(regions: regions, originY: win.oy, originX: win.ox, th: win.th, tw: win.tw, planes: outC, vec: 1, data: y), 0)
        case let .pool(kind, wd, _):
            guard let px = patched[ins[0]] else { return nil }
            let inShape = clean[ins[0]]!.shape
            let H = inShape[2], W = inShape[3]
            guard let (regions, win, ih, iw, iy, ix, xin) = windowedInput(px, wd) else { return nil }
            var y = [Float](repeating: 0, count: outC * k * win.th * win.tw)
            for c in 0..<outC {
                for t in 0..<k {
                    let xp = (c * k + t) * ih * iw, yp = (c * k + t) * win.th * win.tw
                    for oy in 0..<win.th {
                        for ox in 0..<win.tw {
                            var best = -Float.infinity, sum: Float = 0, n = 0, seen = false
                            for ky in 0..<wd.kernelH {
                                let ly = oy * wd.strideH + ky * wd.dilationH, ay = iy[t] + ly
                                if ay < 0 || ay >= H { continue }
                                for kx in 0..<wd.kernelW {
                                    let lx = ox * wd.strideW + kx * wd.dilationW, ax = ix[t] + lx
                                    if ax < 0 || ax >= W { continue }
                                    let v = xin[xp + ly * iw + lx]
                                    if !seen || v > best { best = v }
                                    seen = true; sum += v; n += 1
                                }
                            }
                            switch kind {
                            case .max: y[yp + oy * win.tw + ox] = best
                            case let .average(includePad):
                                var div = n
                                if includePad {
                                    let ay0 = (win.oy[t] + oy) * wd.strideH - wd.padTop, ax0 = (win.ox[t] + ox) * wd.strideW - wd.padLeft
                                    let ay1 = min(ay0 + (wd.kernelH - 1) * wd.dilationH + 1, H + wd.padBottom)
                                    let ax1 = min(ax0 + (wd.kernelW - 1) * wd.dilationW + 1, W + wd.padRight)
                                    div = ((ay1 - ay0 + wd.dilationH - 1) / wd.dilationH) * ((ax1 - ax0 + wd.dilationW - 1) / wd.dilationW)
                                }
                                y[yp + oy * win.tw + ox] = div > 0 ? sum / Float(div) : 0
                            }
                        }
                    }
                }
            }
            return (ChangedTiles(regions: regions, originY: win.oy, originX: win.ox, th: win.th, tw: win.tw, planes: outC, vec: 1, data: y), 0)
        case let .concat(axis):
            guard axis == 1 || axis == -3 else { return nil }
            var regions: [Rect]? = nil
            for v in ins { if let p = patched[v] { regions = regions.map { zip($0, p.regions).map { $0.union($1) } } ?? p.regions } }
            guard let regions, let win = windows(regions) else { return nil }
            var y: [Float] = []
            for v in ins {
                guard clean[v]!.shape.count == 4, clean[v]!.shape[2] == oh, clean[v]!.shape[3] == ow else { return nil }
                y += gather(v, clean: clean, patched: patched, k: k, originY: win.oy, originX: win.ox, h: win.th, w: win.tw, pad: 0)
            }
            return (ChangedTiles(regions: regions, originY: win.oy, originX: win.ox, th: win.th, tw: win.tw, planes: outC, vec: 1, data: y), 0)
        default:
            return nil
        }
    }
}
