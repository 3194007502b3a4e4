import CAVCodec
import CAVFormat
import CAVUtil
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// One owner per C pointer: each class below holds exactly one FFmpeg object and frees it in `deinit`.
// They are internal; their pointers never leave MediaIO.

/// Owns one `AVPacket` (`av_packet_alloc` / `av_packet_free`).
final class _UnsafePacket {
    let pointer: UnsafeMutablePointer<AVPacket>

    init(path: String) throws {
        guard let p = av_packet_alloc() else {
            throw FFmpegError(code: FFmpegError.outOfMemory, path: path, while: "allocate a packet for")
        }
        pointer = p
    }

    deinit {
        var p: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&p)
    }
}

/// Owns one `AVFrame` (`av_frame_alloc` / `av_frame_free`).
final class _UnsafeFrame {
    let pointer: UnsafeMutablePointer<AVFrame>

    init(path: String) throws {
        guard let p = av_frame_alloc() else {
            throw FFmpegError(code: FFmpegError.outOfMemory, path: path, while: "allocate a frame for")
        }
        pointer = p
    }

    deinit {
        var p: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&p)
    }
}

/// Owns one `AVCodecContext` (`avcodec_alloc_context3` / `avcodec_free_context`).
final class _UnsafeCodecContext {
    let pointer: UnsafeMutablePointer<AVCodecContext>

    init(codec: UnsafePointer<AVCodec>, path: String) throws {
        guard let p = avcodec_alloc_context3(codec) else {
            throw FFmpegError(code: FFmpegError.outOfMemory, path: path, while: "allocate a codec context for")
        }
        pointer = p
    }

    deinit {
        var p: UnsafeMutablePointer<AVCodecContext>? = pointer
        avcodec_free_context(&p)
    }
}

/// Owns one demuxing `AVFormatContext` (`avformat_open_input` / `avformat_close_input`) and the
/// interrupt state its callback reads.
final class _UnsafeInputFormat {
    let pointer: UnsafeMutablePointer<AVFormatContext>
    let interrupt: _InterruptState

    /// Opens `url` (`avformat_open_input`) with an interrupt callback that fires when `interrupt`'s deadline passes.
    init(url: String, options: [String: String], interrupt: _InterruptState) throws {
        self.interrupt = interrupt
        guard let allocated = avformat_alloc_context() else {
            throw FFmpegError(code: FFmpegError.outOfMemory, path: url, while: "allocate a demuxer for")
        }
        var ctx: UnsafeMutablePointer<AVFormatContext>? = allocated
        allocated.pointee.interrupt_callback = AVIOInterruptCB(
            callback: { opaque in
                guard let opaque else { return 0 }
                return Unmanaged<_InterruptState>.fromOpaque(opaque).takeUnretainedValue().expired ? 1 : 0
            },
            opaque: Unmanaged.passUnretained(interrupt).toOpaque())
        var dict: OpaquePointer? = nil
        for (k, v) in options { av_dict_set(&dict, k, v, 0) }
        defer { av_dict_free(&dict) }
        interrupt.arm()
        let code = avformat_open_input(&ctx, url, nil, &dict)  // frees ctx on failure
        interrupt.disarm()
        guard code >= 0, let opened = ctx else {
            if interrupt.stop?() == true { throw FFmpegError(code: code, message: "stopped on request while connecting", path: url, while: "open") }
            throw FFmpegError.forOpen(code: code, url: url, timeout: interrupt.timeout)
        }
        pointer = opened
    }

    deinit {
        var p: UnsafeMutablePointer<AVFormatContext>? = pointer
        avformat_close_input(&p)
    }
}

/// A deadline that the `AVIOInterruptCB` checks, so a stalled network read ends instead of hanging.
final class _InterruptState: @unchecked Sendable {
    /// Seconds a single blocking read may take; `nil` disables the deadline.
    let timeout: Double?
    private var deadline: UInt64 = .max
    /// Asked on every check: true ends any blocking operation at once (Ctrl-C while a network source stalls).
    let stop: (@Sendable () -> Bool)?

    init(timeout: Double?, stop: (@Sendable () -> Bool)? = nil) { self.timeout = timeout; self.stop = stop }

    /// Starts the clock for one blocking operation.
    func arm() {
        guard let timeout else { return }
        deadline = _InterruptState.now() &+ UInt64(max(0, timeout) * 1e9)
    }

    /// Stops the clock.
    func disarm() { deadline = .max }

    /// Whether the current blocking operation has overrun its deadline.
    var expired: Bool { (deadline != .max && _InterruptState.now() > deadline) || (stop?() ?? false) }

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

extension FFmpegError {
    /// The error for a failed `avformat_open_input`, with a cause a user understands.
    static func forOpen(code: Int32, url: String, timeout: Double?) -> FFmpegError {
        let lower = url.lowercased()
        let message: String
        // A network source: say what went wrong with the connection, not with a file.
        if let host = networkHost(url) {
            switch code {
            case FFmpegError.invalidData, FFmpegError.demuxerNotFound:
                return FFmpegError(code: code, message: "nothing that reads as a video stream arrived within \(formatSeconds(timeout ?? 0)) (the server stalled, or it is not serving video)",
                                   path: url, while: "open", advice: "check the URL and that the server is publishing a stream")
            case vigil_averror(EIO), vigil_averror(EHOSTUNREACH), vigil_averror(ENETUNREACH):
                if !resolves(host) {
                    return FFmpegError(code: code, message: "the host name '\(host)' cannot be resolved", path: url, while: "open",
                                       advice: "check the host name in the URL and the network's name service")
                }
                return FFmpegError(code: code, message: "the connection to \(host) failed (\(FFmpegError.text(for: code)))", path: url, while: "open",
                                   advice: "check the URL and that the server is running and reachable")
            default: break
            }
        }
        switch code {
        case FFmpegError.invalidData:
            if lower.hasSuffix(".mp4") || lower.hasSuffix(".mov") || lower.hasSuffix(".m4v") {
                message = startsWithMP4Box(url)
                    ? "the MP4 index ('moov' box) is missing, so the file is truncated or was not finished"
                    : "it is not a video file (its bytes are not an MP4 container)"
            } else {
                message = "FFmpeg recognises no video container in it (it is damaged, truncated or not a video)"
            }
        case FFmpegError.exit, FFmpegError.timedOut:
            message = "no answer within \(formatSeconds(timeout ?? 0)) (the source is unreachable or stalled)"
        case FFmpegError.noSuchFile: message = "no such file or directory"
        default: message = FFmpegError.text(for: code)
        }
        return FFmpegError(code: code, message: message, path: url, while: "open")
    }
}

/// The host of a network URL (`rtsp://cam:8554/x` -> `cam`), nil for files.
func networkHost(_ url: String) -> String? {
    let parts = url.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
    guard parts.count == 2, !url.lowercased().hasPrefix("file:") else { return nil }
    var rest = parts[1]
    if let at = rest.firstIndex(of: "@"), rest[..<at].contains(":") || !rest[..<at].contains("/") { rest = rest[rest.index(after: at)...] }
    if rest.hasPrefix("[") { return rest.dropFirst().prefix { $0 != "]" }.description }
    let host = rest.prefix { $0 != "/" && $0 != ":" && $0 != "?" }
    return host.isEmpty ? nil : String(host)
}

/// Whether the system's resolver knows `host`.
func resolves(_ host: String) -> Bool {
    var result: UnsafeMutablePointer<addrinfo>? = nil
    defer { if let result { freeaddrinfo(result) } }
    return getaddrinfo(host, nil, nil, &result) == 0
}

/// Whether the local file at `path` begins with an ISO-BMFF box header (`ftyp`, `mdat`, `moov`, ...).
func startsWithMP4Box(_ path: String) -> Bool {
    guard let f = fopen(path, "rb") else { return false }
    defer { fclose(f) }
    var header = [UInt8](repeating: 0, count: 8)
    guard fread(&header, 1, 8, f) == 8 else { return false }
    let type = String(decoding: header[4..<8], as: UTF8.self)
    return ["ftyp", "mdat", "moov", "free", "wide", "skip", "styp"].contains(type)
}

func formatSeconds(_ s: Double) -> String {
    s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
}
