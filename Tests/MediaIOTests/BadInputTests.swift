import Foundation
import Testing
@testable import MediaIO
#if canImport(Glibc)
import Glibc
#endif

/// Every case of the bad-input corpus ends in its own one-sentence error, or in every frame that can
/// still be decoded plus a count of damaged packets; never a crash or a hang.
@Suite struct BadInputTests {
    /// Opening `path` must fail with `code`, and the sentence must name the file and contain `cause`.
    func expectError(_ path: String, code: Int32, cause: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try VideoSource(url: path, options: .init(timeout: 1))
            Issue.record("\(path) opened but should not", sourceLocation: sourceLocation)
        } catch let error as FFmpegError {
            #expect(error.code == code, "code \(error.code) for \(error)", sourceLocation: sourceLocation)
            let sentence = error.description
            #expect(sentence.contains(path), "\(sentence)", sourceLocation: sourceLocation)
            #expect(sentence.contains(cause), "\(sentence)", sourceLocation: sourceLocation)
            #expect(sentence.hasSuffix(".") && !sentence.dropLast().contains(". "), "one sentence: \(sentence)",
                    sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error type \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func missingPath() {
        expectError("/nonexistent/dir/clip.mp4", code: FFmpegError.noSuchFile, cause: "no such file")
    }

    @Test func zeroByteFile() {
        expectError(fixture("bad/empty.mp4"), code: FFmpegError.invalidData, cause: "empty (0 bytes)")
    }

    @Test func textFileNamedMP4() {
        expectError(fixture("bad/text.mp4"), code: FFmpegError.invalidData, cause: "not a video file")
    }

    @Test func audioOnly() {
        expectError(fixture("bad/audio_only.m4a"), code: FFmpegError.streamNotFound, cause: "no video stream, only audio")
    }

    @Test func truncatedMP4WithoutIndex() {
        expectError(fixture("bad/truncated_moov_at_end.mp4"), code: FFmpegError.invalidData, cause: "index ('moov' box) is missing")
    }

    @Test func unknownCodec() {
        expectError(fixture("bad/unknown_codec.avi"), code: FFmpegError.decoderNotFound, cause: "no decoder for its video codec")
    }

    @Test func directory() {
        expectError(fixture("bad"), code: FFmpegError.invalidArgument, cause: "directory")
    }

    @Test("damaged or truncated files yield every decodable frame", arguments: [
        "bad/truncated_faststart.mp4", "bad/truncated.avi", "bad/truncated.mkv", "bad/garbage_middle.mp4",
    ])
    func partialFiles(clip: String) throws {
        let e = try #require(expectations["Fixtures/\(clip)"])
        let source = try VideoSource(url: fixture(clip))
        var frames = 0
        while try source.nextFrame() != nil { frames += 1 }
        #expect(frames == e.frames_decoded, "\(clip): \(frames) frames, ffprobe decoded \(e.frames_decoded ?? -1)")
        if clip.contains("garbage") { #expect(source.damagedPackets > 0) }
    }

    @Test func unreachableURL() throws {
        // A port nobody listens on: connection refused at once.
        let port = try withListeningSocket { port, _ in port }
        expectError("http://127.0.0.1:\(port)/clip.mp4", code: FFmpegError.connectionRefused, cause: "refused")
    }

    @Test func stalledURLTimesOut() throws {
        // A server that accepts the connection (kernel backlog) but never answers.
        try withListeningSocket { port, _ in
            let start = Date()
            do {
                _ = try VideoSource(url: "http://127.0.0.1:\(port)/clip.mp4", options: .init(timeout: 1))
                Issue.record("a stalled URL opened")
            } catch let error as FFmpegError {
                #expect(error.code == FFmpegError.exit || error.code == FFmpegError.timedOut, "\(error)")
                #expect(error.description.contains("stalled"), "\(error)")
            }
            #expect(Date().timeIntervalSince(start) < 5)
        }
    }

    /// Opens a TCP socket listening on 127.0.0.1 (never accepting), passes its port, closes it afterwards.
    func withListeningSocket<T>(_ body: (Int, Int32) throws -> T) throws -> T {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Int32 in
                guard bind(fd, p, len) == 0 else { return -1 }
                return getsockname(fd, p, &len)
            }
        }
        try #require(bound == 0 && listen(fd, 4) == 0)
        let port = Int(UInt16(bigEndian: addr.sin_port))
        return try body(port, fd)
    }
}
