import Foundation
import Reporting

/// Joins the shards of a fleet run (`vigil merge OUT/shards/*`) into one index over the whole manifest: the clips
/// in manifest order with the numbers their shards computed (identical to one unsharded run's), failed clips with
/// their errors, and the clips of missing shards listed as not analysed.
public enum FleetMerge {
    public struct Result: Sendable {
        public var entries: [IndexEntry]
        public var fleet: FleetInfo
    }

    /// Reads each shard folder's index.json.
    /// - Throws: `FleetMergeError` when a folder is not a finished shard, or the shards come from different manifests
    ///   or shard counts.
    public static func merge(shardDirectories: [String], into out: String) throws -> Result {
        guard !shardDirectories.isEmpty else { throw FleetMergeError("no shard folder was given; pass OUT/shards/*") }
        var shards: [Int: (dir: String, index: IndexFile)] = [:]
        var reference: FleetInfo? = nil
        for dir in shardDirectories {
            let path = (dir as NSString).appendingPathComponent("index.json")
            guard let data = try? Data(contentsOf: URL(fileURLWithPath: path)) else {
                throw FleetMergeError("\(dir) has no index.json: that shard has not finished; run it again (it keeps the clips it already did)")
            }
            let index: IndexFile
            do { index = try JSONDecoder().decode(IndexFile.self, from: data) } catch {
                throw FleetMergeError("\(path) is not a Vigil index (\(error)); pass only OUT/shards/* folders")
            }
            guard let f = index.fleet, let s = f.shard, let n = f.shards else {
                throw FleetMergeError("\(path) is not a shard's index (it has no shard number); pass only folders written with --shard")
            }
            if let r = reference {
                guard r.manifestSHA256 == f.manifestSHA256 else {
                    throw FleetMergeError("\(dir) was made from a different manifest (\(f.manifest)) than the other shards (\(r.manifest)); merge shards of one manifest")
                }
                guard r.shards == n else { throw FleetMergeError("\(dir) is shard \(s) of \(n), the others are of \(r.shards!); merge shards of one layout") }
            } else { reference = f }
            if let other = shards[s] { throw FleetMergeError("\(dir) and \(other.dir) are both shard \(s); pass each shard once") }
            shards[s] = (dir, index)
        }
        let ref = reference!
        let count = ref.shards!
        let missing = (0..<count).filter { shards[$0] == nil }
        var entries: [IndexEntry] = []
        for (s, shard) in shards {
            for var e in shard.index.clips {
                if let folder = e.folder { e.folder = relative((shard.dir as NSString).appendingPathComponent(folder), to: out) }
                e.position = e.position ?? s
                entries.append(e)
            }
        }
        // The clips of missing shards, from the manifest when it can still be read.
        if !missing.isEmpty, let m = try? Manifest(path: ref.manifest, sha256: { _ in ref.manifestSHA256 }) {
            for e in m.entries where missing.contains(e.position % count) {
                entries.append(IndexEntry(clip: e.clip, folder: nil, status: "not-analysed",
                                          error: "shard \(e.position % count) of \(count) is missing: run it, then merge again", position: e.position))
            }
        }
        entries.sort { ($0.position ?? 0) < ($1.position ?? 0) }
        let fleet = FleetInfo(manifest: ref.manifest, manifestSHA256: ref.manifestSHA256, manifestClips: ref.manifestClips,
                              mergedShards: shards.keys.sorted(), missingShards: missing)
        return Result(entries: entries, fleet: fleet)
    }

    /// `path` relative to `base` when it lies inside it (both made absolute), else absolute.
    static func relative(_ path: String, to base: String) -> String {
        func absolute(_ p: String) -> [String] {
            let full = p.hasPrefix("/") ? p : FileManager.default.currentDirectoryPath + "/" + p
            var parts: [String] = []
            for c in full.split(separator: "/") where c != "." && !c.isEmpty {
                if c == ".." { if !parts.isEmpty { parts.removeLast() } } else { parts.append(String(c)) }
            }
            return parts
        }
        let p = absolute(path), b = absolute(base)
        if p.count > b.count, Array(p.prefix(b.count)) == b { return p.dropFirst(b.count).joined(separator: "/") }
        return "/" + p.joined(separator: "/")
    }
}

/// Shards that cannot be merged, and what to do.
public struct FleetMergeError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ d: String) { description = d }
}
