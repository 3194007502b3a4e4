import Foundation

/// A file written through a 64 KiB buffer; the only owner of its handle.
final class BufferedFile {
    let path: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var closed = false
    static let capacity = 1 << 16

    /// Creates (or truncates) `path` for writing.
    /// - Throws: `ReportingError` naming the path.
    init(creating path: String) throws {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw ReportingError(.create, path: path, reason: String(cString: strerror(errno)))
        }
        do { handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path)) } catch {
            throw ReportingError(.create, path: path, error: error)
        }
        buffer.reserveCapacity(Self.capacity)
    }

    deinit { if !closed { try? handle.close() } }

    func write(_ s: String) throws {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= Self.capacity { try flush() }
    }

    func write<C: Collection>(bytes: C) throws where C.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.capacity { try flush() }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        do { try handle.write(contentsOf: buffer) } catch {
            throw ReportingError(.write, path: path, error: error)
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        guard !closed else { return }
        try flush()
        closed = true
        do { try handle.close() } catch { throw ReportingError(.write, path: path, error: error) }
    }
}

/// Reads a file line by line (lines end with `\n`) in 1 MiB chunks.
struct LineReader {
    let path: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    init(path: String) throws {
        self.path = path
        do { handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path)) } catch {
            throw ReportingError(.read, path: path, error: error)
        }
    }

    /// The next line without its `\n`, or nil at the end of the file. Empty lines are skipped.
    mutating func next() throws -> [UInt8]? {
        while true {
            if let nl = buffer[start...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<nl])
                start = nl + 1
                if line.isEmpty { continue }
                return line
            }
            if atEnd {
                guard start < buffer.count else { try? handle.close(); return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                return line
            }
            buffer.removeFirst(start)
            start = 0
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 20) } catch {
                throw ReportingError(.read, path: path, error: error)
            }
            if let chunk, !chunk.isEmpty { buffer.append(contentsOf: chunk) } else { atEnd = true }
        }
    }
}

/// Atomic file replacement: write `path + ".tmp"`, then rename over `path`.
enum AtomicFile {
    static func write(_ path: String, _ body: (BufferedFile) throws -> Void) throws {
        let tmp = temporaryPath(for: path)
        let file = try BufferedFile(creating: tmp)
        do {
            try body(file)
            try file.close()
        } catch {
            try? file.close()
            try? FileManager.default.removeItem(atPath: tmp)
            throw error
        }
        try replace(path, with: tmp)
    }

    static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent("." + url.lastPathComponent + ".tmp").path
    }

    static func replace(_ path: String, with tmp: String) throws {
        if rename(tmp, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: tmp)
            throw ReportingError(.rename, path: path, reason: reason)
        }
    }
}
