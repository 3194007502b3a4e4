import ArgumentParser
import Foundation
import MediaIO

/// `vigil-bench decode`: times Vigil's decode + RGB conversion against
/// `ffmpeg -i CLIP -f rawvideo -pix_fmt rgb24 -y /dev/null` on the same clips in the same run, and prints
/// frames per second for each and the ratio (Vigil / ffmpeg; the target is at least 0.9).
struct DecodeBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Time MediaIO decode + RGB conversion against the ffmpeg CLI and print the ratio.",
        discussion: """
            Without clips, uses Fixtures/video/vtest.avi and a 1080p H.264 clip, which \
            `scripts/make-fixtures --bench` makes in /tmp/vigil-bench (or this command makes with ffmpeg's \
            testsrc2 if it is missing). Each side runs --repeats times; the best time counts.
            """
    )

    @Argument(help: ArgumentHelp("Clips to time (default: vtest.avi and a 1080p H.264 clip).", valueName: "clip"))
    var clips: [String] = []

    @Option(help: "How many times each side decodes each clip; the fastest run counts.")
    var repeats = 3

    @Option(help: ArgumentHelp("Path of the ffmpeg executable to compare with.", valueName: "path"))
    var ffmpeg = "/usr/bin/ffmpeg"

    @Option(help: ArgumentHelp("Folder for the generated 1080p clip.", valueName: "dir"))
    var benchDirectory = "/tmp/vigil-bench"

    func validate() throws {
        if repeats < 1 { throw ValidationError("--repeats must be at least 1, e.g. --repeats 3.") }
        if !FileManager.default.isExecutableFile(atPath: ffmpeg) {
            throw ValidationError("No ffmpeg at \(ffmpeg); install the ffmpeg package or pass --ffmpeg PATH.")
        }
    }

    func run() throws {
        let targets = clips.isEmpty ? [try Self.defaultSample(), try hdClip()] : clips
        print("FFmpeg libraries: \(FFmpegLibrary.versionString)")
        print(Self.pad("clip", 28) + Self.pad("frames", 8, right: true) + Self.pad("vigil fps", 12, right: true)
              + Self.pad("ffmpeg fps", 12, right: true) + Self.pad("ratio", 8, right: true))
        for clip in targets {
            var sink = 0
            var frames = 0
            var best = Double.infinity
            for _ in 0..<repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                let source = try VideoSource(url: clip)
                var n = 0
                while let f = try source.nextFrame() {
                    sink &+= Int(f.image.pixels[f.image.pixels.count / 2])  // keep the picture alive
                    n += 1
                }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                frames = n
            }
            Self.blackHole(sink)
            var peer = Double.infinity
            for _ in 0..<repeats { peer = min(peer, try timeFFmpeg(clip)) }
            let vigilFPS = Double(frames) / best, ffmpegFPS = Double(frames) / peer
            let name = (clip as NSString).lastPathComponent
            print(Self.pad(name, 28) + Self.pad("\(frames)", 8, right: true) + Self.pad(String(format: "%.1f", vigilFPS), 12, right: true)
                  + Self.pad(String(format: "%.1f", ffmpegFPS), 12, right: true)
                  + Self.pad(String(format: "%.2fx", vigilFPS / ffmpegFPS), 8, right: true))
        }
    }

    /// Wall time of one `ffmpeg -i CLIP -f rawvideo -pix_fmt rgb24 -y /dev/null` run, process start included.
    func timeFFmpeg(_ clip: String) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        let status = try runTool(ffmpeg, ["-v", "error", "-nostdin", "-i", clip, "-f", "rawvideo", "-pix_fmt", "rgb24",
                                          "-y", "/dev/null"])
        if status != 0 { throw ValidationError("ffmpeg failed on \(clip) with status \(status).") }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// `Fixtures/video/vtest.avi`, found from the working directory.
    static func defaultSample() throws -> String {
        let path = FileManager.default.currentDirectoryPath + "/Fixtures/video/vtest.avi"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("No Fixtures/video/vtest.avi here; run from the repository root or pass clips.")
        }
        return path
    }

    /// The 1080p H.264 clip, made with ffmpeg's testsrc2 when missing.
    func hdClip() throws -> String {
        let path = benchDirectory + "/bench_1080p.mp4"
        if FileManager.default.fileExists(atPath: path) { return path }
        try FileManager.default.createDirectory(atPath: benchDirectory, withIntermediateDirectories: true)
        print("making \(path) with ffmpeg testsrc2 ...")
        let status = try runTool(ffmpeg, ["-v", "error", "-nostdin", "-f", "lavfi", "-i",
                                          "testsrc2=size=1920x1080:rate=25:duration=20,noise=alls=12:allf=t+u:all_seed=5",
                                          "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
                                          "-movflags", "+faststart", "-y", path])
        if status != 0 { throw ValidationError("ffmpeg could not make \(path) (status \(status)).") }
        return path
    }

    func runTool(_ tool: String, _ arguments: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// `s` padded with spaces to `width` characters, on the left when `right` is set.
    static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return right ? fill + s : s + fill
    }

    /// Keeps a value alive so the optimiser cannot drop the work that made it.
    @inline(never)
    static func blackHole<T>(_ value: T) {
        withExtendedLifetime(value) {}
    }
}
