import CAVCodec
import CAVFormat
import CAVUtil
import CSwScale
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Facts about the FFmpeg libraries MediaIO is linked against, and process-wide FFmpeg settings.
public enum FFmpegLibrary {
    /// The linked library versions, e.g. `"libavformat 59.27.100, libavcodec 59.37.100, ..."`,
    /// for report provenance (`avformat_version()` and friends).
    public static var versionString: String {
        func v(_ name: String, _ n: UInt32) -> String { "\(name) \(n >> 16).\((n >> 8) & 0xff).\(n & 0xff)" }
        return [v("libavformat", avformat_version()), v("libavcodec", avcodec_version()),
                v("libavutil", avutil_version()), v("libswscale", swscale_version())].joined(separator: ", ")
    }

    /// Whether libx264 (H.264 encoding) is available; `VideoSink` falls back to MPEG-4 Part 2 otherwise.
    public static var hasLibx264: Bool { avcodec_find_encoder_by_name("libx264") != nil }

    /// Sets FFmpeg's own log level (`av_log_set_level`, process-wide as FFmpeg keeps it), e.g. `AV_LOG_ERROR` (16)
    /// to see decoder complaints. Without a call, MediaIO makes FFmpeg quiet on first use.
    public static func setLogLevel(_ level: Int32) {
        av_log_set_level(level)
        levelChosen = true
    }
    nonisolated(unsafe) private static var levelChosen = false

    /// One-time process set-up: log level (quiet unless `setLogLevel` chose one) and network initialisation.
    static let initialize: Void = {
        if !levelChosen { av_log_set_level(AV_LOG_QUIET) }
        avformat_network_init()
    }()
}
