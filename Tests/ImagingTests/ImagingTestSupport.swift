import Foundation
import Imaging
import TestSupport

/// A picture of seeded random bytes.
func randomImage(width: Int, height: Int, seed: UInt64) -> RGBImage {
    var rng = SeededRandom(seed: seed)
    return RGBImage(width: width, height: height, pixels: (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next() >> 56) })
}

/// A smooth picture (gradients plus a sine) where interpolation error is small and meaningful.
func smoothImage(width: Int, height: Int) -> RGBImage {
    var img = RGBImage(width: width, height: height)
    for y in 0..<height {
        for x in 0..<width {
            let r = UInt8(255 * x / max(width - 1, 1))
            let g = UInt8(255 * y / max(height - 1, 1))
            let b = UInt8(127.5 + 127.5 * sin(Double(x + 2 * y) * 0.2))
            img[x, y] = (r, g, b)
        }
    }
    return img
}

/// The worst byte difference between two pictures of the same size, with its position, and how many bytes
/// differ at all.
func byteDiff(_ a: RGBImage, _ b: RGBImage) -> (worst: Int, index: Int, differing: Int) {
    precondition(a.width == b.width && a.height == b.height)
    var worst = 0, index = -1, differing = 0
    for i in 0..<a.pixels.count {
        let d = abs(Int(a.pixels[i]) - Int(b.pixels[i]))
        if d > 0 { differing += 1 }
        if d > worst { worst = d; index = i }
    }
    return (worst, index, differing)
}

/// The directory holding the repository's `Fixtures`.
let fixturesDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }   // ImagingTestSupport.swift, ImagingTests, Tests
    return url.appendingPathComponent("Fixtures").path
}()

/// A fresh temporary directory for one test.
func temporaryDirectory() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-imaging-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.path
}
