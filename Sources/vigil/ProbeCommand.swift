import ArgumentParser
import Foundation
import MediaIO

/// `vigil probe CLIP...`: prints what Vigil sees in each clip (metadata, and with `--count-frames` what
/// decoding finds). A clip that cannot be read prints its one-sentence error to stderr; the other clips
/// are still probed and the exit code is then 65 (input error).
struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Print the metadata Vigil reads from video clips.",
        discussion: """
            Exit codes: 0 when every clip was read, 65 when at least one could not be (its error goes to \
            stderr; the other clips are still probed).
            """
    )

    /// Exit code for unreadable input (BSD `EX_DATAERR`).
    static let inputErrorExitCode: Int32 = 65

    @Argument(help: ArgumentHelp("Video files or URLs to probe.", valueName: "clip"))
    var clips: [String]

    @Flag(help: "Print one JSON object per clip, one per line, instead of text.")
    var json = false

    @Flag(help: "Decode every frame and report the frame count, first and last timestamps and damaged packets.")
    var countFrames = false

    @Option(help: ArgumentHelp("Seconds a network source may stall before giving up.", valueName: "seconds"))
    var timeout: Double = 10

    func validate() throws {
        if timeout <= 0 { throw ValidationError("--timeout must be a positive number of seconds, e.g. --timeout 10.") }
    }

    func run() throws {
        var failed = false
        for clip in clips {
            do {
                let record = try Self.probe(clip, countFrames: countFrames, timeout: timeout)
                print(json ? try record.jsonLine() : record.text)
            } catch {
                failed = true
                FileHandle.standardError.write(Data("\(error)\n".utf8))
            }
        }
        if failed { throw ExitCode(Self.inputErrorExitCode) }
    }

    /// Opens `clip`, and decodes it to the end when `countFrames` is set.
    static func probe(_ clip: String, countFrames: Bool, timeout: Double) throws -> ProbeRecord {
        let source = try VideoSource(url: clip, options: .init(timeout: timeout))
        let scan = countFrames ? try source.scanToEnd() : nil
        return ProbeRecord(metadata: source.metadata, scan: scan)
    }
}

/// What `vigil probe` prints for one clip.
struct ProbeRecord: Encodable {
    var metadata: ClipMetadata
    var scan: VideoSource.ScanSummary?

    private enum ScanKeys: String, CodingKey { case framesDecoded, firstPTS, lastPTS, damagedPackets }

    /// The metadata keys, plus `framesDecoded`, `firstPTS`, `lastPTS`, `damagedPackets` with `--count-frames`.
    func encode(to encoder: Encoder) throws {
        try metadata.encode(to: encoder)
        guard let scan else { return }
        var c = encoder.container(keyedBy: ScanKeys.self)
        try c.encode(scan.frames, forKey: .framesDecoded)
        try c.encode(scan.firstPTS, forKey: .firstPTS)
        try c.encode(scan.lastPTS, forKey: .lastPTS)
        try c.encode(scan.damagedPackets, forKey: .damagedPackets)
    }

    func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    var text: String {
        let m = metadata
        func opt<T>(_ v: T?, _ unit: String = "") -> String { v.map { "\($0)\(unit)" } ?? "unknown" }
        var lines = [
            "\(m.url)",
            "  container:    \(m.container)",
            "  codec:        \(m.codec)\(m.profile.map { " (\($0))" } ?? "")",
            "  size:         \(m.width)x\(m.height) (coded \(m.codedWidth)x\(m.codedHeight), sample aspect \(m.sampleAspectRatio))",
            "  frame rate:   \(m.frameRate)\(m.frameRate.value.map { String(format: " (%.3f fps)", $0) } ?? "")",
            "  time base:    \(m.timeBase)",
            "  duration:     \(m.duration.map { String(format: "%.3f s", $0) } ?? "unknown")",
            "  frames:       \(opt(m.frameCount)) (container)",
            "  bit rate:     \(m.bitRate.map { "\($0 / 1000) kb/s" } ?? "unknown")",
            "  rotation:     \(m.rotation)",
            "  pixel format: \(m.pixelFormat)",
            "  audio:        \(m.hasAudio ? "yes (ignored)" : "no")",
        ]
        if let s = scan {
            lines.append("  decoded:      \(s.frames) frames, first \(s.firstPTS.map { String(format: "%.6f s", $0) } ?? "none"), last \(s.lastPTS.map { String(format: "%.6f s", $0) } ?? "none"), \(s.damagedPackets) damaged packets")
        }
        return lines.joined(separator: "\n")
    }
}
