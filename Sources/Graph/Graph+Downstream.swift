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
        let made = Set(picked.flatMap(\.outputs))
        var feeds: [String] = [root]
        for n in picked {
            for i in n.inputs where !i.isEmpty && !made.contains(i) && constants[i] == nil && !feeds.contains(i) { feeds.append(i) }
        }
        guard feeds.allSatisfy({ (shapes[$0]?.count ?? 0) >= 1 }) else { return nil }
        let used = Set(picked.flatMap(\.inputs))
        return try? Graph(nodes: picked,
                          inputs: feeds.map { GraphInput(name: $0, shape: [nil] + shapes[$0]!.dropFirst().map { Optional($0) }) },
                          outputs: [output], constants: constants.filter { used.contains($0.key) })
    }
}
