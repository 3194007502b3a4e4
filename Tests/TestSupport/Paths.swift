import Foundation

/// Locations of the repository's fixtures, found from this source file so tests run from any directory.
public enum FixturePaths {
    /// The repository root.
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    public static func path(_ rel: String) -> String { root + "/" + rel }
    /// The default model.
    public static var defaultModel: String { path("Fixtures/models/efficientnet_lite0.onnx") }
    /// Reads a little-endian float32 file.
    public static func floats(_ rel: String) throws -> [Float] {
        let d = try Data(contentsOf: URL(fileURLWithPath: path(rel)))
        return d.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}
