import ArgumentParser
import Foundation
import Graph
import ONNXImport
import TensorCore

/// `vigil-bench fuzz-loader`: a seeded mutation loop over the fixture models that loads each mutated file and,
/// when it loads, runs it on a small input. Thrown errors are the expected outcome; a crash is the bug.
///
/// Before each attempt the mutated bytes go to `<workdir>/current.onnx` and the iteration number to
/// `<workdir>/current.iteration`, so a crash leaves its input on disk. `scripts/fuzz-loader` restarts the command
/// from the next iteration after a crash and keeps the crasher in `Fixtures/models/fuzz-regressions/`.
/// Iteration `i` depends only on `--seed` and `i`, so a run resumed with `--start` makes the same files.
struct FuzzLoader: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz-loader",
        abstract: "Mutate the fixture models (seeded), load and run each one, and count accepted loads, errors by kind and crashes.")

    @Option(help: "Total iterations (the run stops after iteration N-1).")
    var iterations = 100_000

    @Option(help: "Seed of the mutation stream.")
    var seed: UInt64 = 1

    @Option(help: "First iteration to run (scripts/fuzz-loader passes the one after a crash).")
    var start = 0

    @Option(help: "Working folder for current.onnx, current.iteration, state.json and crashes.log.")
    var workdir = ".fuzz-work"

    @Option(help: "Folders whose */model.onnx are mutated.")
    var casesDir = "Fixtures/models/cases/ops"

    @Option(help: "Larger models mutated in about 1% of iterations (comma-separated; empty for none).")
    var large = "Fixtures/models/random/squeezenet1_1_random.onnx"

    @Option(help: "Abort (and so record as a crash) when one iteration takes longer than this many seconds.")
    var hangSeconds = 60.0

    @Flag(help: "Print each iteration's mutation and outcome.")
    var verbose = false

    @Option(help: "Skip running models whose static tensors exceed this many elements (a resource limit, like libFuzzer's -rss_limit_mb).")
    var runLimit = 1 << 24

    func validate() throws {
        guard iterations > 0, start >= 0, start <= iterations else {
            throw ValidationError("--iterations must be positive and --start between 0 and --iterations; pass e.g. --iterations 100000 --start 0")
        }
    }

    func run() throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: workdir, withIntermediateDirectories: true)
        let small = ((try? fm.contentsOfDirectory(atPath: casesDir)) ?? []).sorted()
            .map { casesDir + "/" + $0 + "/model.onnx" }.filter { fm.fileExists(atPath: $0) }
        let bigs = large.split(separator: ",").map(String.init).filter { fm.fileExists(atPath: $0) }
        guard !small.isEmpty else {
            throw ValidationError("no */model.onnx under \(casesDir); run from the repository root or pass --cases-dir")
        }
        let corpus = (small + bigs).map { p in Seed(path: p, bytes: [UInt8](fm.contents(atPath: p)!)) }
        let nSmall = small.count

        var stats = FuzzStats()
        let statePath = workdir + "/state.json"
        if start > 0, let d = fm.contents(atPath: statePath), let s = try? JSONDecoder().decode(FuzzStats.self, from: d) {
            stats = s
            // Resuming after a crash: the iteration that died counts as done.
            if s.next == start - 1 { stats.iterations += 1 }
        }
        else if start > 0 { print("fuzz-loader: no \(statePath) to resume from; counting from iteration \(start)") }
        let watchdog = Watchdog(limit: hangSeconds, workdir: workdir)
        let began = Date()

        for it in start..<iterations {
            var rng = SplitMix64(seed: seed &+ UInt64(it) &* 0x9E37_79B9_7F4A_7C15)
            let pick = !corpus[nSmall...].isEmpty && rng.next(100) == 0 ? nSmall + rng.next(corpus.count - nSmall) : rng.next(nSmall)
            let (bytes, what) = corpus[pick].mutate(&rng)
            let data = Data(bytes)
            // The input and the counts so far go to disk first: if the process dies, both survive.
            try data.write(to: URL(fileURLWithPath: workdir + "/current.onnx"))
            try "\(it) \(corpus[pick].path) \(what)\n".write(toFile: workdir + "/current.iteration", atomically: false, encoding: .utf8)
            stats.next = it
            try JSONEncoder().encode(stats).write(to: URL(fileURLWithPath: statePath))
            watchdog.arm(it)
            let outcome = attempt(data, path: workdir + "/current.onnx", &stats)
            if verbose { print("\(it) \((corpus[pick].path as NSString).pathComponents.suffix(2).joined(separator: "/")) [\(what)]: \(outcome)") }
            watchdog.disarm()
            stats.iterations += 1
            if (it + 1) % 5000 == 0 {
                print("fuzz-loader: iteration \(it + 1), \(stats.accepted) loads accepted, \(String(format: "%.0f", Date().timeIntervalSince(began))) s")
                fflush(nil)
            }
        }
        stats.next = iterations
        try JSONEncoder().encode(stats).write(to: URL(fileURLWithPath: statePath))
        let crashes = ((try? String(contentsOfFile: workdir + "/crashes.log", encoding: .utf8)) ?? "").split(separator: "\n")
        print("fuzz-loader: seed \(seed), \(stats.iterations) iterations over \(corpus.count) models")
        print("  loads accepted: \(stats.accepted) (ran \(stats.ranOK) clean, \(stats.runErrors) run errors, \(stats.runSkipped) skipped as over --run-limit)")
        print("  load errors:    \(stats.loadErrors.values.reduce(0, +))")
        for (k, v) in stats.loadErrors.sorted(by: { $0.value > $1.value }) { print("    \(k): \(v)") }
        print("  run errors by kind:")
        for (k, v) in stats.runErrorKinds.sorted(by: { $0.value > $1.value }) { print("    \(k): \(v)") }
        print("  crashes found:  \(crashes.count)")
        for c in crashes { print("    \(c)") }
    }

    /// Loads and, when it loads, runs one mutated model; records the outcome.
    @discardableResult
    func attempt(_ data: Data, path: String, _ stats: inout FuzzStats) -> String {
        let model: ONNXModel
        do { model = try ONNXModel.load(data: data, path: path) } catch {
            stats.loadErrors[kind(error), default: 0] += 1
            return "\(error)"
        }
        stats.accepted += 1
        if !model.warnings.isEmpty { stats.warned += 1 }
        // Resource limit: skip models whose tensors are too large to run in a fuzz loop.
        var feeds: [String: Tensor] = [:]
        let staticCounts = model.shapes.values.map(boundedCount) + model.graph.constants.values.map { boundedCount($0.shape) }
        guard staticCounts.allSatisfy({ $0 <= runLimit }) else { stats.runSkipped += 1; return "skipped" }
        for gi in model.graph.inputs {
            let shape = gi.shape.map { $0 ?? 1 }
            guard boundedCount(shape) <= runLimit else { stats.runSkipped += 1; return "skipped" }
            let n = shapeCount(shape)
            feeds[gi.name] = Tensor(shape: shape, data: (0..<n).map { Float(sin(Double($0) * 0.37)) })
        }
        do {
            let graph = stats.iterations % 2 == 0 ? model.graph : model.graph.fused()
            _ = try Executor(graph: graph).run(feeds)
            stats.ranOK += 1
            return "ran"
        } catch {
            stats.runErrors += 1
            stats.runErrorKinds[kind(error), default: 0] += 1
            return "run error: \(error)"
        }
    }
}

/// Product of the extents, saturating at `Int.max` (negative extents count as `Int.max`).
func boundedCount(_ shape: [Int]) -> Int {
    var n = 1
    for d in shape {
        guard d >= 0 else { return .max }
        let (p, o) = n.multipliedReportingOverflow(by: d)
        if o { return .max }
        n = p
    }
    return n
}

/// The error's type and case, e.g. `ModelError.notONNX`.
func kind(_ e: Error) -> String {
    let label = Mirror(reflecting: e).children.first?.label ?? "\(e)"
    return "\(type(of: e)).\(label)"
}

/// Counts, saved in `<workdir>/state.json` before every attempt so a restarted run continues them.
struct FuzzStats: Codable {
    var next = 0
    var iterations = 0
    var accepted = 0
    var warned = 0
    var ranOK = 0
    var runErrors = 0
    var runSkipped = 0
    var loadErrors: [String: Int] = [:]
    var runErrorKinds: [String: Int] = [:]
}

/// Aborts the process when one iteration runs longer than `limit` seconds, so a hang is kept like a crash.
final class Watchdog: @unchecked Sendable {
    let limit: Double
    let workdir: String
    let lock = NSLock()
    var started: Double? = nil
    var iteration = 0

    init(limit: Double, workdir: String) {
        self.limit = limit
        self.workdir = workdir
        let t = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 1)
                lock.lock(); let s = started, it = iteration; lock.unlock()
                if let s, Date().timeIntervalSinceReferenceDate - s > limit {
                    FileHandle.standardError.write("fuzz-loader: iteration \(it) hung for more than \(limit) s; aborting so the input is kept\n".data(using: .utf8)!)
                    abort()
                }
            }
        }
        t.start()
    }
    func arm(_ it: Int) { lock.lock(); started = Date().timeIntervalSinceReferenceDate; iteration = it; lock.unlock() }
    func disarm() { lock.lock(); started = nil; lock.unlock() }
}

/// SplitMix64: a small, seedable generator (the same stream on every platform).
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in 0..<n (n > 0).
    mutating func next(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}

/// A fixture model and the protobuf fields found in it, for structure-aware mutations.
struct Seed {
    let path: String
    let bytes: [UInt8]
    /// A varint in the file (a value of wire type 0, or the length prefix of wire type 2) and the length prefixes
    /// of the messages around it, outermost first.
    struct Field { var range: Range<Int>; var ancestors: [Range<Int>] }
    let varints: [Field]
    let lengths: [Field]

    init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
        var v: [Field] = [], l: [Field] = []
        _ = Seed.walk(bytes, 0..<bytes.count, ancestors: [], &v, &l)
        varints = v; lengths = l
    }

    static func readVarint(_ b: [UInt8], _ i: inout Int, _ end: Int) -> UInt64? {
        var v: UInt64 = 0, shift: UInt64 = 0
        while i < end && shift < 64 {
            let c = b[i]; i += 1
            v |= UInt64(c & 0x7F) << shift
            if c & 0x80 == 0 { return v }
            shift += 7
        }
        return nil
    }

    /// Parses `r` as a message, recording fields; false (and nothing recorded) when it is not one.
    static func walk(_ b: [UInt8], _ r: Range<Int>, ancestors: [Range<Int>], _ v: inout [Field], _ l: inout [Field]) -> Bool {
        guard ancestors.count < 12 else { return false }
        var i = r.lowerBound
        var lv: [Field] = [], ll: [Field] = []
        while i < r.upperBound {
            guard let tag = readVarint(b, &i, r.upperBound), tag >> 3 != 0 else { return false }
            switch tag & 7 {
            case 0:
                let s = i
                guard readVarint(b, &i, r.upperBound) != nil else { return false }
                lv.append(Field(range: s..<i, ancestors: ancestors))
            case 1: i += 8
            case 5: i += 4
            case 2:
                let s = i
                guard let n = readVarint(b, &i, r.upperBound), n <= UInt64(r.upperBound - i) else { return false }
                ll.append(Field(range: s..<i, ancestors: ancestors))
                let body = i..<(i + Int(n))
                // Nested messages are walked; packed arrays, strings and raw_data are not messages and are left alone.
                if n > 0 && n < 1 << 16 { _ = walk(b, body, ancestors: ancestors + [s..<i], &lv, &ll) }
                i = body.upperBound
            default: return false
            }
        }
        guard i == r.upperBound else { return false }
        v += lv; l += ll
        return true
    }

    static func encodeVarint(_ x: UInt64) -> [UInt8] {
        var x = x, out: [UInt8] = []
        repeat {
            var c = UInt8(x & 0x7F); x >>= 7
            if x != 0 { c |= 0x80 }
            out.append(c)
        } while x != 0
        return out
    }

    /// Replaces the varint of `f` by `value` and, when `fixLengths`, corrects the length prefixes around it
    /// so the file stays well-formed protobuf (only the field's meaning changes).
    static func replace(_ b: inout [UInt8], _ f: Field, with value: UInt64, fixLengths: Bool) {
        let enc = encodeVarint(value)
        var delta = enc.count - f.range.count
        b.replaceSubrange(f.range, with: enc)
        guard fixLengths else { return }
        // Innermost first: each prefix sits before the ones already fixed, so earlier offsets stay valid.
        for a in f.ancestors.reversed() where delta != 0 {
            var j = a.lowerBound
            let old = readVarint(b, &j, a.upperBound) ?? 0
            let e = encodeVarint(UInt64(Int64(old) + Int64(delta)))
            b.replaceSubrange(a, with: e)
            delta += e.count - a.count
        }
    }

    static let interestingBytes: [UInt8] = [0x00, 0xFF, 0x7F, 0x80]
    static let interestingValues: [UInt64] = [0, 1, 2, 3, 7, 0x7F, 0x80, 0xFF, 1 << 16, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 1 << 32, 1 << 40,
                                               1 << 62, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, UInt64.max, UInt64.max - 1, UInt64.max - 2]

    /// One mutated copy and a short description of what was done.
    func mutate(_ rng: inout SplitMix64) -> ([UInt8], String) {
        var b = bytes
        var what: [String] = []
        // At most one structure-aware mutation, on the pristine bytes whose field offsets are known.
        let mode = rng.next(10) // 0-4: structure only, 5-6: structure then raw, 7-9: raw only
        if mode < 7, !varints.isEmpty || !lengths.isEmpty {
            let useLength = varints.isEmpty || (!lengths.isEmpty && rng.next(4) == 0)
            let f = useLength ? lengths[rng.next(lengths.count)] : varints[rng.next(varints.count)]
            var j = f.range.lowerBound
            let old = Seed.readVarint(b, &j, f.range.upperBound) ?? 0
            let new: UInt64
            switch rng.next(useLength ? 6 : 8) {
            case 0: new = old &+ 1
            case 1: new = old &- 1
            case 2: new = old &* 2
            case 3: new = UInt64(rng.next(1 << 12))
            case 6: new = UInt64(bitPattern: -Int64(1 + rng.next(4)))
            case 7: new = UInt64(rng.next(8))
            default: new = Seed.interestingValues[rng.next(Seed.interestingValues.count)]
            }
            // Values keep the file well-formed; a length prefix is left wrong a third of the time.
            let fix = !useLength || rng.next(3) != 0
            Seed.replace(&b, f, with: new, fixLengths: fix)
            what.append("\(useLength ? "length" : "varint")@\(f.range.lowerBound) \(old)->\(new)\(fix ? "" : " unfixed")")
        }
        for _ in 0..<(what.isEmpty ? 1 + rng.next(3) : (mode < 5 ? 0 : 1 + rng.next(2))) {
            guard !b.isEmpty else { break }
            switch rng.next(6) {
            case 0:
                let k = 1 + rng.next(8)
                for _ in 0..<k { let p = rng.next(b.count); b[p] ^= 1 << UInt8(rng.next(8)) }
                what.append("flip \(k) bits")
            case 1:
                let k = 1 + rng.next(4)
                for _ in 0..<k { b[rng.next(b.count)] = Seed.interestingBytes[rng.next(4)] }
                what.append("overwrite \(k) bytes")
            case 2:
                let n = rng.next(b.count)
                b.removeSubrange(n...)
                what.append("truncate to \(n)")
            case 3:
                let len = 1 + rng.next(min(256, b.count)), s = rng.next(b.count - len + 1)
                let chunk = Array(b[s..<(s + len)])
                b.insert(contentsOf: chunk, at: rng.next(b.count + 1))
                what.append("duplicate \(len) bytes")
            case 4:
                let len = 1 + rng.next(min(256, b.count)), s = rng.next(b.count - len + 1)
                b.removeSubrange(s..<(s + len))
                what.append("delete \(len) bytes")
            default:
                // Overwrite a 4-byte span with an extreme float (NaN, Inf, huge, denormal) inside raw data.
                guard b.count >= 4 else { break }
                let vals: [UInt32] = [0x7FC0_0000, 0x7F80_0000, 0xFF80_0000, 0x7F7F_FFFF, 0x0000_0001, 0x8000_0000]
                let v = vals[rng.next(vals.count)], p = rng.next(b.count - 3)
                for k in 0..<4 { b[p + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
                what.append("float word")
            }
        }
        return (b, what.joined(separator: ", "))
    }
}
