import Foundation
import Imaging
@testable import MediaIO
import Testing

// The h264_compression corruption's codec against the ffmpeg CLI: the same picture through
// `ffmpeg -c:v libx264` with the same settings and back through `ffmpeg -f rawvideo -pix_fmt rgb24`.

let h264Pictures = ["chelsea", "coffee"]

/// The picture through the ffmpeg CLI at `qp` with H264RoundTrip's settings (see its doc comment), decoded to RGB.
func ffmpegRoundTrip(_ png: String, qp: Int, width: Int, height: Int, scratch: URL) throws -> RGBImage {
    let stream = scratch.appendingPathComponent("qp\(qp).264").path
    _ = try run("/usr/bin/ffmpeg", ["-v", "error", "-y", "-i", png, "-c:v", "libx264", "-preset", H264RoundTrip.preset,
                                    "-tune", H264RoundTrip.tune, "-qp", "\(qp)", "-g", "1", "-threads", "1", "-pix_fmt", "yuv420p",
                                    "-frames:v", "1", "-f", "h264", stream])
    let raw = try run("/usr/bin/ffmpeg", ["-v", "error", "-i", stream, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
    try #require(raw.count == width * height * 3, "ffmpeg decoded \(raw.count) bytes of \(png) at QP \(qp), expected \(width * height * 3)")
    return RGBImage(width: width, height: height, pixels: [UInt8](raw))
}

@Suite("H.264 round trip (h264_compression)")
struct H264RoundTripTests {
    /// Same library, same settings: ours should be the CLI's picture. Measured: identical bytes (PSNR reported as 99)
    /// for both pictures at all five QPs. The bound leaves room for one thing we do not control, swscale picking
    /// another SIMD path for the CLI's filter graph than for our direct `sws_scale` (a 1-level rounding difference
    /// in a few chroma samples, which x264 can turn into a different mode choice in a macroblock at these QPs):
    /// 40 dB is the bar for "the same picture" among corruptions, and well above the 4 dB that
    /// one severity step costs, so a wrong QP, preset, colour matrix or chroma filter fails it.
    @Test("ours matches the ffmpeg CLI with the same settings, and damage grows with severity")
    func matchesFFmpegCLI() throws {
        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let codec = H264RoundTrip()
        for name in h264Pictures {
            let png = fixture("corruptions/\(name).png")
            let clean = try PNGReader.read(png)
            var toClean: [Double] = [], cliToClean: [Double] = []
            for s in Corruption.severities {
                let qp = Corruption.h264Quantizers[s - 1]
                let ours = try Corruption.h264Compression.apply(to: clean, severity: s, seed: 0, codec: codec)
                let cli = try ffmpegRoundTrip(png, qp: qp, width: clean.width, height: clean.height, scratch: scratch)
                let p = psnr(ours, cli)
                print("h264_compression severity \(s) (QP \(qp)) on \(name): PSNR \(p) dB against the ffmpeg CLI, \(psnr(ours, clean)) dB against the clean picture (CLI: \(psnr(cli, clean)) dB)")
                #expect(p >= 40, "h264_compression severity \(s) (QP \(qp)) on \(name): PSNR \(p) dB against the ffmpeg CLI")
                toClean.append(psnr(ours, clean)); cliToClean.append(psnr(cli, clean))
            }
            for s in 1..<5 {
                #expect(toClean[s] < toClean[s - 1], "\(name): PSNR to the clean picture \(toClean) does not fall at severity \(s + 1)")
                #expect(cliToClean[s] < cliToClean[s - 1], "\(name): the CLI's PSNR \(cliToClean) does not fall at severity \(s + 1)")
            }
            #expect(toClean[4] < toClean[0] - 4, "\(name): PSNR \(toClean) barely changes from severity 1 to 5")
        }
    }

    @Test("a picture always comes back the same, whatever the codec did before")
    func deterministic() throws {
        let a = try PNGReader.read(fixture("corruptions/chelsea.png")), b = try PNGReader.read(fixture("corruptions/coffee.png"))
        let codec = H264RoundTrip()
        let first = try codec.roundTrip(a, quantizer: 42)
        _ = try codec.roundTrip(b, quantizer: 42)
        _ = try codec.roundTrip(b, quantizer: 34)
        _ = try codec.roundTrip(RGBImage(width: 17, height: 5), quantizer: 42)  // another size re-makes the encoders
        #expect(try codec.roundTrip(a, quantizer: 42) == first)
        #expect(try H264RoundTrip().roundTrip(a, quantizer: 42) == first)
        // The corruption ignores the seed (no randomness).
        #expect(try Corruption.h264Compression.apply(to: a, severity: 3, seed: 7, codec: codec) == first)
        #expect(try Corruption.h264Compression.apply(to: a, severity: 3, seed: 8, codec: codec) == first)
    }

    @Test("odd and tiny sizes keep their size", arguments: [(1, 1), (3, 2), (2, 3), (17, 5), (641, 479)])
    func oddSizes(_ size: (Int, Int)) throws {
        var img = RGBImage(width: size.0, height: size.1)
        var g = SplitMix64(seed: 3)
        for i in img.pixels.indices { img.pixels[i] = UInt8(truncatingIfNeeded: g.next()) }
        let codec = H264RoundTrip()
        for s in size.0 > 100 ? [5] : Array(Corruption.severities) {
            let out = try Corruption.h264Compression.apply(to: img, severity: s, seed: 1, codec: codec)
            #expect(out.width == size.0 && out.height == size.1)
        }
        #expect(try codec.roundTrip(RGBImage(width: 0, height: 0), quantizer: 40).width == 0)
    }

    /// A flat picture comes back flat up to its last column and row: the padding replicates the edge, and every
    /// column is converted back to RGB (swscale's x86 converter skips the last width % 8 pixels of a row that does not
    /// fit its stride; FrameScaler gives it aligned rows).
    @Test("odd sizes come back whole: edge padding, every column converted")
    func paddingReplicatesEdges() throws {
        var img = RGBImage(width: 33, height: 17)
        for i in img.pixels.indices { img.pixels[i] = 200 }
        let out = try H264RoundTrip().roundTrip(img, quantizer: 20)
        let worst = zip(out.pixels, img.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(worst <= 3, "a flat 200 picture came back up to \(worst) levels off")
    }
}
