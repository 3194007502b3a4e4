import CAVUtil
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from FFmpeg (libavformat, libavcodec, libavutil, libswscale), turned into a Swift error
/// at the one boundary where MediaIO calls C.
///
/// `description` is one sentence that names the file, the cause and what to do, e.g.
/// `"Cannot read clip.mp4: the file is empty (0 bytes); check that it was copied completely."`
/// Every C return code goes through ``check(_:path:while:)``; MediaIO never inspects a raw code elsewhere.
public struct FFmpegError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The FFmpeg error code (a negative `AVERROR` value), or one of the named constants below.
    public let code: Int32
    /// The cause in words, lower-case, without a trailing full stop.
    public let message: String
    /// The file path or URL the error is about.
    public let path: String
    /// What MediaIO was doing, as a verb phrase ("open the input", "decode a packet").
    public let operation: String

    /// What to do, when the code alone does not say it (a network source rather than a file).
    let customAdvice: String?

    /// Makes an error; `message` defaults to FFmpeg's own text for `code` (`av_strerror`), `advice` to the code's.
    public init(code: Int32, message: String? = nil, path: String, while operation: String, advice: String? = nil) {
        self.code = code
        self.message = message ?? FFmpegError.text(for: code)
        self.path = path
        self.operation = operation
        self.customAdvice = advice
    }

    /// One sentence: the file, the cause and what to do.
    public var description: String {
        "Cannot \(operation) \(path): \(message); \(advice)."
    }

    /// What the user should do about this error.
    public var advice: String {
        if let customAdvice { return customAdvice }
        switch code {
        case FFmpegError.noSuchFile: return "check the path"
        case FFmpegError.permissionDenied: return "check the file's permissions"
        case FFmpegError.invalidData, FFmpegError.demuxerNotFound:
            return "check that the file is a complete video file (re-copy or re-export it)"
        case FFmpegError.decoderNotFound:
            return "re-encode the clip to H.264 or use an FFmpeg build that has this decoder"
        case FFmpegError.encoderNotFound: return "install an FFmpeg build with libx264 or mpeg4 encoding"
        case FFmpegError.streamNotFound: return "give a clip that contains a video stream"
        case FFmpegError.exit, FFmpegError.timedOut:
            return "check that the source is reachable and sending data, or raise the timeout"
        case FFmpegError.protocolNotFound: return "use a file path or a URL scheme this FFmpeg supports"
        case FFmpegError.connectionRefused, FFmpegError.httpNotFound:
            return "check the URL and that the server is running"
        case FFmpegError.invalidArgument: return "check the options given"
        default: return "check that the input is a readable video"
        }
    }

    // MARK: Named constants

    /// End of the stream (`AVERROR_EOF`).
    public static let endOfFile: Int32 = vigil_averror_eof()
    /// Output not ready, send more input (`AVERROR(EAGAIN)`).
    public static let tryAgain: Int32 = vigil_averror_eagain()
    /// Bytes are not a valid bitstream or container (`AVERROR_INVALIDDATA`).
    public static let invalidData: Int32 = vigil_averror_invaliddata()
    /// No decoder for the stream's codec (`AVERROR_DECODER_NOT_FOUND`).
    public static let decoderNotFound: Int32 = vigil_averror_decoder_not_found()
    /// No encoder available (`AVERROR_ENCODER_NOT_FOUND`).
    public static let encoderNotFound: Int32 = vigil_averror_encoder_not_found()
    /// No stream of the wanted kind (`AVERROR_STREAM_NOT_FOUND`).
    public static let streamNotFound: Int32 = vigil_averror_stream_not_found()
    /// No demuxer recognises the input (`AVERROR_DEMUXER_NOT_FOUND`).
    public static let demuxerNotFound: Int32 = vigil_averror_demuxer_not_found()
    /// URL scheme unknown (`AVERROR_PROTOCOL_NOT_FOUND`).
    public static let protocolNotFound: Int32 = vigil_averror_protocol_not_found()
    /// HTTP 404 (`AVERROR_HTTP_NOT_FOUND`).
    public static let httpNotFound: Int32 = vigil_averror_http_not_found()
    /// Interrupted by the interrupt callback, i.e. the network timeout fired (`AVERROR_EXIT`).
    public static let exit: Int32 = vigil_averror_exit()
    /// `AVERROR(ENOENT)`.
    public static let noSuchFile: Int32 = vigil_averror(ENOENT)
    /// `AVERROR(EACCES)`.
    public static let permissionDenied: Int32 = vigil_averror(EACCES)
    /// `AVERROR(ETIMEDOUT)`.
    public static let timedOut: Int32 = vigil_averror(ETIMEDOUT)
    /// `AVERROR(ECONNREFUSED)`.
    public static let connectionRefused: Int32 = vigil_averror(ECONNREFUSED)
    /// `AVERROR(EINVAL)`.
    public static let invalidArgument: Int32 = vigil_averror(EINVAL)
    /// `AVERROR(ENOMEM)`.
    public static let outOfMemory: Int32 = vigil_averror(ENOMEM)

    // MARK: The one check

    /// Returns `code` when it is not negative, and throws it as an `FFmpegError` otherwise.
    ///
    /// - Parameters:
    ///   - code: the return value of an FFmpeg function.
    ///   - path: the file or URL the call was about.
    ///   - operation: what was being done, as a verb phrase ("open the input").
    /// - Throws: `FFmpegError` when `code < 0`.
    @discardableResult
    public static func check(_ code: Int32, path: String, while operation: String) throws -> Int32 {
        if code >= 0 { return code }
        throw FFmpegError(code: code, path: path, while: operation)
    }

    /// FFmpeg's text for `code`, lower-cased first letter (`av_strerror`).
    public static func text(for code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 128)
        if av_strerror(code, &buffer, buffer.count) < 0 { return "FFmpeg error \(code)" }
        let s = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let first = s.first else { return s }
        return first.lowercased() + s.dropFirst()
    }
}
