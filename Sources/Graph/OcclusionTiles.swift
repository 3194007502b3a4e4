import Dispatch
import TensorCore

/// The changed tiles of one value under K occluded copies: per copy the region that truly changed and the
/// window stored (`th` x `tw` at `originY`, `originX`), all windows the same size so one kernel call covers the K
/// copies. The data's order is the layout's: `[planes, K, th, tw]` for NCHW values (planes = channels, vec = 1),
/// `[K, planes, th, tw, vec]` for channel-blocked ones (planes = blocks, vec = 16) and for planar values of the
/// blocked engine (vec = 1).
struct ChangedTiles {
    var regions: [Rect]
    var originY: [Int], originX: [Int]
    var th: Int, tw: Int
    var planes: Int, vec: Int
    var data: [Float]
}

/// One layout's half of incremental occlusion: how a node is recomputed over its changed tiles, and how values
/// become full batches of K copies for the rest of the graph. `incrementalPass` is the loop both layouts share.
protocol TiledOcclusionLayout: AnyObject {
    var graph: Graph { get }
    var outputName: String { get }
    var configuration: EngineConfiguration { get }
    var nodeInputs: [[Int]] { get }
    var nodeOutputs: [[Int]] { get }
    /// The last node reading each value (graph outputs: never).
    var lastUse: [Int] { get }
    /// Value names by id.
    var names: [String] { get }
    /// Recomputes node `j` over its inputs' changed tiles; nil means "switch to full recomputation here".
    func incremental(_ node: Node, _ j: Int, tiles: [Int: ChangedTiles], k: Int) throws -> (value: ChangedTiles, macs: Int)?
    /// The K copies of value `v` as a batch: the clean value with the changed tiles written over it.
    func materialise(_ v: Int, _ tiles: ChangedTiles?, k: Int) -> Tensor
    /// The graph from node `start` on, fed the values live there.
    func tailGraph(from start: Int) throws -> IncrementalOcclusion.Tail
    /// The profile's name for node `j`'s incremental step.
    func profileKey(_ node: Node, _ j: Int, _ out: ChangedTiles) -> String
}

extension TiledOcclusionLayout {
    /// From the input's changed tiles: each node reached by a change is recomputed over its tiles until one cannot
    /// be (a global op, or tiles grown past the threshold); from there the live values are materialised as K
    /// copies and the rest of the graph runs as a batch. Returns the output for the K copies and the
    /// multiply-adds done incrementally, done in full, and of a full recomputation (`nodeMACs` per node at batch 1).
    func incrementalPass(inputTiles: ChangedTiles, inputId: Int, outputId: Int, k: Int, nodeMACs: [Int]) throws
        -> (output: Tensor, macs: (incremental: Int, full: Int, reference: Int)) {
        var tiles: [Int: ChangedTiles] = [inputId: inputTiles]
        var incMACs = 0
        var switchAt = graph.nodes.count
        let profile = configuration.profile
        for (j, node) in graph.nodes.enumerated() {
            let ins = nodeInputs[j]
            if !ins.contains(where: { tiles[$0] != nil }) { continue }
            let t0 = profile != nil ? DispatchTime.now().uptimeNanoseconds : 0
            guard let out = try incremental(node, j, tiles: tiles, k: k) else { switchAt = j; break }
            profile?.record(profileKey(node, j, out.value), ms: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            incMACs += out.macs
            tiles[nodeOutputs[j][0]] = out.value
            for v in ins where lastUse[v] <= j && v != outputId { tiles[v] = nil }
        }
        // Materialise what is live and run the rest of the graph on the K copies as a batch: small batches op by op
        // over the whole batch with threaded kernels (measured faster at K = 16), larger ones one copy per thread.
        let tail = try tailGraph(from: switchAt)
        var feeds: [String: Tensor] = [:]
        let t0 = profile != nil ? DispatchTime.now().uptimeNanoseconds : 0
        for v in tail.inputs { feeds[names[v]] = materialise(v, tiles[v], k: k) }
        profile?.record("incremental: materialise", ms: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        let result: Tensor
        if let e = tail.executor {
            result = try e.run(feeds, wholeBatch: k <= IncrementalOcclusion.wholeBatchTail).outputs[outputName]!
        } else {
            result = feeds[outputName]!
        }
        return (result, (incMACs, nodeMACs[switchAt...].reduce(0, +) * k, nodeMACs.reduce(0, +) * k))
    }
}

/// A tile window per copy over an output map: one size for all copies (the largest changed region), each placed
/// over its region and inside the map.
typealias TileWindows = (th: Int, tw: Int, oy: [Int], ox: [Int])

/// The windows covering `regions` of an `outH` x `outW` map, or nil when they would cover more than
/// `fullThreshold` of it (then full recomputation is cheaper).
func tileWindows(_ regions: [Rect], outH oh: Int, outW ow: Int, fullThreshold: Double) -> TileWindows? {
    let th = regions.map(\.height).max()!, tw = regions.map(\.width).max()!
    if Double(th * tw) > fullThreshold * Double(oh * ow) { return nil }
    return (th, tw, regions.map { min(max($0.y0, 0), oh - th) }, regions.map { min(max($0.x0, 0), ow - tw) })
}

/// The output regions of a sliding-window op (convolution, pooling) that changes in its input's `regions` reach.
func projectiveRegions(_ regions: [Rect], _ wd: Window2D, outH oh: Int, outW ow: Int) -> [Rect] {
    regions.map { r in
        let (y0, y1) = IncrementalOcclusion.projective(r.y0, r.y1, k: wd.kernelH, s: wd.strideH, d: wd.dilationH, pad: wd.padTop, outLen: oh)
        let (x0, x1) = IncrementalOcclusion.projective(r.x0, r.x1, k: wd.kernelW, s: wd.strideW, d: wd.dilationW, pad: wd.padLeft, outLen: ow)
        return Rect(y0: y0, x0: x0, y1: y1, x1: x1)
    }
}

/// The input window a sliding-window op reads for output windows `win`: its size, and its origin per copy (negative
/// or past the map where the window reaches into padding).
func inputWindows(_ win: TileWindows, _ wd: Window2D) -> (ih: Int, iw: Int, iy: [Int], ix: [Int]) {
    ((win.th - 1) * wd.strideH + (wd.kernelH - 1) * wd.dilationH + 1,
     (win.tw - 1) * wd.strideW + (wd.kernelW - 1) * wd.dilationW + 1,
     win.oy.map { $0 * wd.strideH - wd.padTop }, win.ox.map { $0 * wd.strideW - wd.padLeft })
}
