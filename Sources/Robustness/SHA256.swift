import Crypto
import Foundation

/// SHA-256 of files, through swift-crypto (BoringSSL's implementation on Linux).
public enum FileHash {
    /// The lowercase hex SHA-256 of the file at `path`, read in 1 MiB pieces (memory stays flat for any size).
    /// - Throws: the system's error when the file cannot be opened or read.
    public static func sha256Hex(ofFile path: String) throws -> String {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var hasher = Crypto.SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The lowercase hex SHA-256 of `data`.
    public static func sha256Hex(_ data: Data) -> String {
        Crypto.SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
