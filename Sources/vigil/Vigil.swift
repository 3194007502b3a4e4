import ArgumentParser
import Foundation
import MediaIO

/// The `vigil` command: audits how robust an image classifier is on real video.
@main
struct Vigil: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Audit how robust an image classifier is on real video.",
        version: "0.1.0",
        subcommands: [Analyze.self, Compare.self, Merge.self, Classify.self, Inspect.self, Probe.self, Check.self],
        defaultSubcommand: nil
    )

    static func main() {
        // FFmpeg's own messages: quiet, unless VIGIL_FFMPEG_LOGLEVEL gives av_log's level (16 shows decoder errors).
        if let s = ProcessInfo.processInfo.environment["VIGIL_FFMPEG_LOGLEVEL"], let n = Int32(s) { FFmpegLibrary.setLogLevel(n) }
        Self.main(nil)
    }
}
