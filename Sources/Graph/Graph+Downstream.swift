extension Graph {
    /// The nodes downstream of `root` (those reading it, or reading what such nodes make), as a graph whose
    /// inputs are `root` and every other value those nodes read that none of them makes (constants stay
    /// constants), with `output` as its output. Fed the values the whole graph computes, it makes the same
    /// `output`, and back-propagating from `output` to `root` needs nothing else.
    ///
    /// - Returns: nil when `output` is not downstream of `root`, or shapes cannot be inferred at batch 1.
    public func downstream(of root: String, output: String) -> Graph? {
        guard root != output, let shapes = inferShapes(batch: 1) else { return nil }
        var reach: Set<String> = [root]
        var picked: [Node] = []
        for n in nodes where n.inputs.contains(where: reach.contains) {
            picked.append(n)
            reach.formUnion(n.outputs)
        }
        guard reach.contains(output) else { return nil }
        return try? subgraph(picked, output: output, first: [root]) { shapes[$0] }?.graph
    }

    /// `picked` (nodes of this graph, in order) as a graph making `output`. It is fed `first`, then every other
    /// value the nodes read that none of them makes, in the order they are first read, then `output` itself if
    /// none makes it; the batch axis is free, the other extents come from `shape`. The constants they read stay
    /// constants.
    ///
    /// - Returns: the graph and its feeds, or nil when `shape` does not know a feed.
    func subgraph(_ picked: [Node], output: String, first: [String] = [], shape: (String) -> [Int]?) throws -> (graph: Graph, feeds: [String])? {
        let made = Set(picked.flatMap(\.outputs))
        var feeds = first
        for n in picked {
            for i in n.inputs where !i.isEmpty && !made.contains(i) && constants[i] == nil && !feeds.contains(i) { feeds.append(i) }
        }
        if !made.contains(output) && !feeds.contains(output) { feeds.append(output) }
        var inputs: [GraphInput] = []
        for f in feeds {
            guard let s = shape(f), s.count >= 1 else { return nil }
            inputs.append(GraphInput(name: f, shape: [nil] + s.dropFirst().map { Optional($0) }))
        }
        let used = Set(picked.flatMap(\.inputs))
        return (try Graph(nodes: picked, inputs: inputs, outputs: [output], constants: constants.filter { used.contains($0.key) }), feeds)
    }
}
