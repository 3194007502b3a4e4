import Foundation
import Imaging
@testable import MediaIO

/// The repository root, found from this file's path (Tests/MediaIOTests/...).
let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Absolute path of a file under `Fixtures/`.
func fixture(_ relative: String) -> String { repoRoot.appendingPathComponent("Fixtures/\(relative)").path }

/// One entry of `Fixtures/video/expected.json` (written by `scripts/make-fixtures` from ffprobe).
struct Expected: Decodable {
    var opens: Bool
    var video: Bool?
    var codec: String?
    var width: Int?
    var height: Int?
    var display_width: Int?
    var display_height: Int?
    var frames_decoded: Int?
    var first_pts_time: Double?
    var last_pts_time: Double?
    var ffprobe_error_lines: Int?
    var decodable: Bool?
}

/// `expected.json` keyed by path relative to the repository root ("Fixtures/video/x.mp4").
let expectations: [String: Expected] = {
    struct File: Decodable { var files: [String: Expected] }
    let data = try! Data(contentsOf: URL(fileURLWithPath: fixture("video/expected.json")))
    return try! JSONDecoder().decode(File.self, from: data).files
}()

/// Peak signal-to-noise ratio in dB between two pictures of the same size (8-bit, all channels).
func psnr(_ a: RGBImage, _ b: RGBImage) -> Double {
    precondition(a.width == b.width && a.height == b.height)
    var sum = 0.0
    a.pixels.withUnsafeBufferPointer { pa in
        b.pixels.withUnsafeBufferPointer { pb in
            for i in 0..<pa.count {
                let d = Int(pa[i]) - Int(pb[i])
                sum += Double(d * d)
            }
        }
    }
    let mse = sum / Double(a.pixels.count)
    return mse == 0 ? 99 : 10 * log10(255 * 255 / mse)
}

/// Runs a tool and returns its standard output (standard error discarded).
func run(_ tool: String, _ arguments: [String]) throws -> Data {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tool)
    p.arguments = arguments
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return data
}

/// A fresh scratch directory under the system temporary directory.
func scratchDirectory() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-mediaio-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// Decodes every frame of `path` (all options default).
func decodeAll(_ path: String, options: VideoSource.Options = .init()) throws -> [VideoFrame] {
    let source = try VideoSource(url: path, options: options)
    var frames: [VideoFrame] = []
    while let f = try source.nextFrame() { frames.append(f) }
    return frames
}
