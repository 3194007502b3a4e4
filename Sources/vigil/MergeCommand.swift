import ArgumentParser
import Foundation
import Pipeline
import Reporting

/// `vigil merge OUT/shards/*`: the fleet index over every shard of a manifest.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join the shards of a fleet run (analyze --manifest --shard) into one index.",
        discussion: """
            Writes OUT/index.json and OUT/index.html over the whole manifest: the clips in manifest order with the \
            numbers their shards computed (the same as one unsharded run's), ranked by retention in the HTML, failed \
            clips with their errors, and the clips of missing shards as not-analysed.

            Exit status: 0 success; 1 a clip's mean retention is below its --fail-under; 64 usage error; 65 a clip \
            failed, or the folders are not shards of one manifest; 73 the index cannot be written; 74 not everything \
            was analysed: a shard is missing or was interrupted, or a clip's input was incomplete.
            """)

    @Argument(help: ArgumentHelp("Shard folders written by analyze --manifest --shard (OUT/shards/*).", valueName: "shard-dir"))
    var shards: [String]

    @Option(help: ArgumentHelp("Where to write index.json and index.html (default: the folder above the shards' folder, OUT).", valueName: "dir"))
    var out: String?

    func validate() throws {
        guard !shards.isEmpty else { throw ValidationError("Give the shard folders to merge, like OUT/shards/*.") }
    }

    func run() throws {
        let target = out ?? (((shards[0] as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent)
        let result: FleetMerge.Result
        do { result = try FleetMerge.merge(shardDirectories: shards, into: target.isEmpty ? "." : target) } catch {
            printError(error)
            throw ExitCode(ExitStatus.inputError.rawValue)
        }
        do { try IndexWriter.write(directory: target.isEmpty ? "." : target, entries: result.entries, fleet: result.fleet) } catch {
            printError(error)
            throw ExitCode(ExitStatus.outputError.rawValue)
        }
        let e = result.entries
        let failed = e.filter { $0.status == "failed" }.count, incomplete = e.filter { $0.status == "incomplete" }.count
        var line = "merged \(result.fleet.mergedShards?.count ?? 0) shard(s): \(e.count) of \(result.fleet.manifestClips) clips"
        if failed > 0 { line += ", \(failed) failed" }
        if incomplete > 0 { line += ", \(incomplete) incomplete" }
        if let m = result.fleet.missingShards, !m.isEmpty { line += "; missing shard(s) \(m.map(String.init).joined(separator: ", ")): run them and merge again" }
        FileHandle.standardError.write(Data((line + " -> \((target as NSString).appendingPathComponent("index.html"))\n").utf8))
        if failed > 0 { throw ExitCode(ExitStatus.inputError.rawValue) }
        // Not everything was analysed: a missing shard, an interrupted one (partial or not-analysed clips), or input cut short.
        if e.contains(where: { ["incomplete", "partial", "not-analysed"].contains($0.status) }) || !(result.fleet.missingShards ?? []).isEmpty {
            throw ExitCode(ExitStatus.incompleteInput.rawValue)
        }
        if e.contains(where: { $0.passed == false }) { throw ExitCode(ExitStatus.failed.rawValue) }
    }
}
