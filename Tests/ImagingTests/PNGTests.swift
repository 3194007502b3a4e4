import Foundation
import Imaging
import Testing

@Suite("PNG")
struct PNGTests {
    @Test("write then read gives the same pixels", arguments: [(1, 1), (17, 9), (321, 241)])
    func roundTrip(_ size: (Int, Int)) throws {
        let img = randomImage(width: size.0, height: size.1, seed: UInt64(size.0))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/out.png"
        try PNGWriter.write(img, to: path)
        #expect(try PNGReader.read(path) == img)
    }

    @Test("in-memory encoding is a PNG that reads back the same and equals the file bytes")
    func encode() throws {
        let img = smoothImage(width: 64, height: 40)
        let bytes = try PNGWriter.encode(img)
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/mem.png"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(try PNGReader.read(path) == img)
        try PNGWriter.write(img, to: dir + "/file.png")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/file.png")) == Data(bytes))
    }

    @Test("reads the bundled fixture picture")
    func readsFixture() throws {
        let img = try PNGReader.read(fixturesDirectory + "/images/skimage_chelsea.png")
        #expect(img.width == 451 && img.height == 300)
        #expect(Set(img.pixels).count > 100)
    }

    @Test("errors name the file and say what to do")
    func errors() throws {
        let missing = "/nonexistent-dir-vigil/x.png"
        #expect {
            try PNGWriter.write(RGBImage(width: 2, height: 2), to: missing)
        } throws: { error in
            let e = error as? PNGError
            return e?.operation == .write && e?.path == missing && "\(error)".contains(missing) && "\(error)".contains("folder exists")
        }
        #expect {
            try PNGReader.read(missing)
        } throws: { error in
            (error as? PNGError)?.operation == .read && "\(error)".contains(missing)
        }
        let notPNG = fixturesDirectory + "/bad/text.mp4"
        #expect {
            try PNGReader.read(notPNG)
        } throws: { error in
            (error as? PNGError)?.path == notPNG && "\(error)".contains("is a PNG")
        }
    }
}
