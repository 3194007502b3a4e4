extension Graph {
    /// Dense ids for every tensor name, the ids each node reads and writes, and each value's last reader:
    /// what an executor needs to run the nodes in order and free values as soon as nothing reads them.
    struct Schedule {
        /// Id of every tensor name: graph inputs first, then constants (sorted), then node outputs in order.
        let ids: [String: Int]
        /// Tensor names by id.
        let names: [String]
        let nodeInputs: [[Int]]
        let nodeOutputs: [[Int]]
        /// Index of the last node reading each value (-1: never read).
        let lastUse: [Int]
        /// Ids of the constants.
        let constIds: Set<Int>

        init(_ graph: Graph) {
            var ids: [String: Int] = [:]
            func id(_ n: String) -> Int { if let i = ids[n] { return i }; let i = ids.count; ids[n] = i; return i }
            for i in graph.inputs { _ = id(i.name) }
            for c in graph.constants.keys.sorted() { _ = id(c) }
            var ins: [[Int]] = [], outs: [[Int]] = []
            for n in graph.nodes {
                ins.append(n.inputs.filter { !$0.isEmpty }.map(id))
                outs.append(n.outputs.map(id))
            }
            var last = [Int](repeating: -1, count: ids.count)
            for (k, i) in ins.enumerated() { for v in i { last[v] = k } }
            var names = [String](repeating: "", count: ids.count)
            for (n, i) in ids { names[i] = n }
            self.ids = ids; self.names = names; nodeInputs = ins; nodeOutputs = outs; lastUse = last
            constIds = Set(graph.constants.keys.compactMap { ids[$0] })
        }
    }
}
