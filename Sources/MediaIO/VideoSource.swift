import CAVCodec
import CAVFormat
import CAVUtil
import Imaging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One decoded picture from a `VideoSource`.
public struct VideoFrame: Sendable {
    /// 0-based index among the frames decoded inside the requested window (skipped ones included).
    public var index: Int
    /// Presentation time in seconds, from the stream's own time base (right for variable frame rate).
    public var pts: Double
    /// How long the frame is shown, in seconds, when the container says.
    public var duration: Double?
    /// Whether the frame is a key frame.
    public var isKeyFrame: Bool
    /// Whether the frame was picked by `every` / `targetFPS`; false only when `yieldSkipped` is on.
    public var isSelected: Bool
    /// The picture in RGB at the clip's display size (aspect and rotation applied).
    public var image: RGBImage

    /// Makes a frame (tests, synthetic sources).
    public init(index: Int, pts: Double, duration: Double?, isKeyFrame: Bool, isSelected: Bool, image: RGBImage) {
        self.index = index; self.pts = pts; self.duration = duration
        self.isKeyFrame = isKeyFrame; self.isSelected = isSelected; self.image = image
    }
}

/// Reads a video file or URL one frame at a time: demuxes the best video stream with libavformat,
/// decodes it with libavcodec's frame threading and converts each picked frame to RGB with libswscale.
///
/// Memory stays flat: one packet and one frame are reused and unreferenced every iteration.
/// Damaged data does not stop decoding: errors are counted in `damagedPackets` and every frame the
/// decoder can still produce is returned. Use from one thread at a time (it may move between threads).
///
/// ```swift
/// let source = try VideoSource(url: "clip.mp4", options: .init(every: 5))
/// for try frame in source { ... }   // or: while let frame = try source.nextFrame()
/// ```
public final class VideoSource: @unchecked Sendable {
    /// What to read and which frames to return.
    public struct Options: Sendable {
        /// Seconds from the start of the stream at which to begin (seek, then drop earlier frames).
        public var start: Double?
        /// Seconds to read from `start` (frames with `pts >= start + duration` end the stream).
        public var duration: Double?
        /// Stop after this many selected frames.
        public var maxFrames: Int?
        /// Select every Nth decoded frame (1 = all).
        public var every: Int
        /// Select frames at about this rate, on a grid from the first frame's time.
        public var targetFPS: Double?
        /// Seconds a network read may stall before the source gives up; only for URLs, `nil` = wait forever.
        public var timeout: Double?
        /// When false, skipped frames are neither converted nor returned; when true every frame is
        /// returned converted, with `isSelected == false` on the skipped ones (for the overlay video).
        public var yieldSkipped: Bool
        /// Output picture size (after rotation), instead of the display size.
        public var outputSize: (width: Int, height: Int)?
        /// Asked while FFmpeg blocks on input: true ends the wait at once (an interrupted run stops within a second
        /// even while a network source stalls). Reading then ends as if the input had.
        public var shouldStop: (@Sendable () -> Bool)? = nil
        /// Which video stream to read, counting video streams from 0 (nil: FFmpeg's best one).
        public var stream: Int? = nil
        /// RTSP transport: `tcp` or `udp` (nil: FFmpeg's default, UDP then TCP).
        public var rtspTransport: String? = nil

        /// Makes options; all defaults read the whole clip and return every frame.
        public init(start: Double? = nil, duration: Double? = nil, maxFrames: Int? = nil, every: Int = 1,
                    targetFPS: Double? = nil, timeout: Double? = 10, yieldSkipped: Bool = false,
                    outputSize: (width: Int, height: Int)? = nil) {
            self.start = start; self.duration = duration; self.maxFrames = maxFrames; self.every = every
            self.targetFPS = targetFPS; self.timeout = timeout; self.yieldSkipped = yieldSkipped
            self.outputSize = outputSize
        }
    }

    /// A count of what decoding to the end found (see `scanToEnd()`).
    public struct ScanSummary: Sendable, Equatable {
        /// Frames decoded in the window (skipping rules ignored).
        public var frames: Int
        /// Time of the first frame, seconds.
        public var firstPTS: Double?
        /// Time of the last frame, seconds.
        public var lastPTS: Double?
        /// Damaged packets met while decoding.
        public var damagedPackets: Int
    }

    /// What the clip is.
    public let metadata: ClipMetadata
    /// The options this source was opened with.
    public let options: Options

    /// Packets or frames the demuxer or decoder reported as damaged (read errors, corrupt flags,
    /// decode errors, concealed frames). Decoding goes on past them.
    public private(set) var damagedPackets = 0
    /// Frames decoded inside the window so far, skipped ones included.
    public private(set) var framesDecoded = 0

    private let url: String
    private let input: _UnsafeInputFormat
    private let codec: _UnsafeCodecContext
    private let packet: _UnsafePacket
    private let frame: _UnsafeFrame
    private let scaler: FrameScaler
    private let streamIndex: Int32
    private let timeBase: Double
    /// The stream time base as a fraction, so timestamps are computed as ticks * num / den (0.3, not 0.30000000000000004).
    private let timeBaseNum: Double, timeBaseDen: Double
    private let windowStart: Double?
    private let windowEnd: Double?

    private var draining = false
    private var ended = false
    /// True while `frame` holds the frame `init` decoded to learn the picture size, not yet handed out.
    private var firstFramePending = false
    private var selectedCount = 0
    private var nextSelectTime: Double?
    /// Time of the last frame decoded so far, seconds.
    public private(set) var lastPTS: Double?
    private var consecutiveReadErrors = 0

    /// Opens `url` (a path, or any URL this FFmpeg reads: http(s), rtsp, udp, ...) and reads its
    /// stream information; no frame is decoded yet.
    ///
    /// Wraps `avformat_open_input`, `avformat_find_stream_info`, `av_find_best_stream`, `avcodec_open2`.
    /// - Throws: `FFmpegError` with a one-sentence description for a missing or empty file, data that is
    ///   not a video, a file without a video stream, a codec this FFmpeg lacks, or an unreachable URL.
    public init(url: String, options: Options = .init()) throws {
        _ = FFmpegLibrary.initialize
        self.url = url
        self.options = options
        let isNetwork = url.contains("://") && !url.lowercased().hasPrefix("file:")
        if !isNetwork { try VideoSource.checkLocalFile(url) }
        var formatOptions: [String: String] = [:]
        if isNetwork, let t = options.timeout, t > 0 {
            let micros = String(Int(t * 1_000_000))
            formatOptions["rw_timeout"] = micros
            formatOptions["timeout"] = micros
        }
        if let t = options.rtspTransport, url.lowercased().hasPrefix("rtsp") { formatOptions["rtsp_transport"] = t }
        let interrupt = _InterruptState(timeout: isNetwork ? options.timeout : nil, stop: options.shouldStop)
        input = try _UnsafeInputFormat(url: url, options: formatOptions, interrupt: interrupt)
        let fmt = input.pointer

        interrupt.arm()
        let infoCode = avformat_find_stream_info(fmt, nil)
        interrupt.disarm()
        if infoCode < 0 {
            throw FFmpegError.forOpen(code: infoCode, url: url, timeout: options.timeout)
        }

        let streams = UnsafeBufferPointer(start: fmt.pointee.streams, count: Int(fmt.pointee.nb_streams))
        let hasAudio = streams.contains { $0?.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO }
        var decoder: UnsafePointer<AVCodec>? = nil
        let videoStreams = streams.indices.filter {
            streams[$0]?.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO && streams[$0]!.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC == 0
        }
        var wanted: Int32 = -1
        if let n = options.stream {
            guard n >= 0 && n < videoStreams.count else {
                throw FFmpegError(code: FFmpegError.streamNotFound,
                                  message: "it has \(videoStreams.count) video stream\(videoStreams.count == 1 ? "" : "s"), so --stream \(n) does not exist" + (videoStreams.isEmpty ? "" : " (use 0 to \(videoStreams.count - 1))"),
                                  path: url, while: "decode")
            }
            wanted = Int32(videoStreams[n])
        }
        let best = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, wanted, -1, &decoder, 0)
        if best == FFmpegError.streamNotFound
            || (best >= 0 && streams[Int(best)]!.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0) {
            throw FFmpegError(code: FFmpegError.streamNotFound,
                              message: hasAudio ? "it has no video stream, only audio" : "it has no video stream",
                              path: url, while: "decode")
        }
        if best == FFmpegError.decoderNotFound || (best >= 0 && decoder == nil) {
            let stream = streams.first { $0?.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO }
            let par = stream??.pointee.codecpar.pointee
            var name = par.map { String(cString: avcodec_get_name($0.codec_id)) } ?? "unknown"
            if let tag = par?.codec_tag, tag != 0 {
                let chars = (0..<4).map { Character(Unicode.Scalar(UInt8((tag >> (8 * $0)) & 0xff))) }
                let fourcc = String(chars).trimmingCharacters()
                name = name == "none" ? "fourcc '\(fourcc)'" : "\(name) (fourcc '\(fourcc)')"
            }
            throw FFmpegError(code: FFmpegError.decoderNotFound,
                              message: "this FFmpeg has no decoder for its video codec \(name)",
                              path: url, while: "decode")
        }
        try FFmpegError.check(best, path: url, while: "find a video stream in")
        streamIndex = best
        let stream = streams[Int(best)]!
        for (i, s) in streams.enumerated() where i != Int(best) { s?.pointee.discard = AVDISCARD_ALL }
        let par = stream.pointee.codecpar!

        codec = try _UnsafeCodecContext(codec: decoder!, path: url)
        let cc = codec.pointer
        try FFmpegError.check(avcodec_parameters_to_context(cc, par), path: url, while: "configure the decoder for")
        cc.pointee.pkt_timebase = stream.pointee.time_base
        cc.pointee.thread_count = 0  // one per core
        cc.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
        let openCode = avcodec_open2(cc, decoder, nil)
        if openCode < 0 {
            throw FFmpegError(code: openCode, message: "the decoder would not open (\(FFmpegError.text(for: openCode)))",
                              path: url, while: "decode")
        }
        packet = try _UnsafePacket(path: url)
        frame = try _UnsafeFrame(path: url)

        // Metadata.
        let tb = stream.pointee.time_base
        timeBase = tb.den != 0 ? Double(tb.num) / Double(tb.den) : 0
        timeBaseNum = Double(tb.num); timeBaseDen = tb.den != 0 ? Double(tb.den) : 1
        var codedW = Int(par.pointee.width), codedH = Int(par.pointee.height)
        var firstFrameDamage: Int? = nil
        if codedW <= 0 || codedH <= 0 {
            // A live stream joined mid-way (MPEG-TS over UDP, say) has no picture size until its first key frame:
            // decode up to the first frame, take the size from it, and hand that frame out first.
            firstFrameDamage = try VideoSource.decodeFirstFrame(input: input, codec: codec, packet: packet, frame: frame, stream: best,
                                                                url: url, timeout: options.timeout)
            codedW = Int(frame.pointer.pointee.width); codedH = Int(frame.pointer.pointee.height)
        }
        let sarAV = av_guess_sample_aspect_ratio(fmt, stream, nil)
        let sar = sarAV.num > 0 && sarAV.den > 0 ? Rational(sarAV) : Rational(1, 1)
        var displayW = codedW, displayH = codedH
        if sar.num != sar.den, let s = sar.value { displayW = Swift.max(1, Int((Double(codedW) * s).rounded())) }
        let rotation = VideoSource.rotation(of: stream)
        if rotation == 90 || rotation == 270 { swap(&displayW, &displayH) }
        let rate = av_guess_frame_rate(fmt, stream, nil)
        var duration: Double? = nil
        if stream.pointee.duration > 0 && stream.pointee.duration != vigil_av_nopts_value() {
            duration = Double(stream.pointee.duration) * timeBase
        } else if fmt.pointee.duration > 0 && fmt.pointee.duration != vigil_av_nopts_value() {
            duration = Double(fmt.pointee.duration) / Double(AV_TIME_BASE)
        }
        let bitRate = par.pointee.bit_rate > 0 ? Int(par.pointee.bit_rate)
            : (fmt.pointee.bit_rate > 0 ? Int(fmt.pointee.bit_rate) : nil)
        let pixFmt = av_get_pix_fmt_name(AVPixelFormat(rawValue: par.pointee.format)).map { String(cString: $0) } ?? "unknown"
        var meta = ClipMetadata(
            url: url,
            container: String(cString: fmt.pointee.iformat.pointee.name),
            codec: String(cString: avcodec_get_name(par.pointee.codec_id)),
            profile: avcodec_profile_name(par.pointee.codec_id, par.pointee.profile).map { String(cString: $0) },
            width: displayW, height: displayH, codedWidth: codedW, codedHeight: codedH,
            sampleAspectRatio: sar, frameRate: Rational(rate), timeBase: Rational(tb),
            duration: duration,
            frameCount: stream.pointee.nb_frames > 0 ? Int(stream.pointee.nb_frames) : nil,
            bitRate: bitRate, rotation: rotation, pixelFormat: pixFmt, hasAudio: hasAudio)
        meta.videoStreamCount = videoStreams.count
        meta.videoStream = videoStreams.firstIndex(of: Int(best))
        if par.pointee.color_space != AVCOL_SPC_UNSPECIFIED, let name = av_color_space_name(par.pointee.color_space) {
            meta.colorMatrix = String(cString: name)
        }
        metadata = meta

        let out = options.outputSize ?? (Swift.max(1, displayW), Swift.max(1, displayH))
        scaler = FrameScaler(outputWidth: out.width, outputHeight: out.height, rotation: rotation)

        // Window.
        let streamStart = stream.pointee.start_time != vigil_av_nopts_value()
            ? Double(stream.pointee.start_time) * timeBase : 0
        if let start = options.start, start > 0 {
            windowStart = streamStart + start
            // Clamped into Int64's range: a start past the end simply finds no frame.
            let target = Int64(Swift.min(Swift.max((streamStart + start) / timeBase, -9.0e18), 9.0e18))
            // A failed seek is harmless: decoding then starts at the beginning and drops early frames.
            if av_seek_frame(fmt, best, target, AVSEEK_FLAG_BACKWARD) < 0 {
                _ = av_seek_frame(fmt, best, Int64(streamStart / timeBase), AVSEEK_FLAG_BACKWARD)
            }
        } else {
            windowStart = nil
        }
        if let d = options.duration { windowEnd = (windowStart ?? streamStart) + d } else { windowEnd = nil }
        if let damage = firstFrameDamage {
            damagedPackets = damage
            firstFramePending = true
        }
    }

    /// Returns the next selected frame (or, with `yieldSkipped`, the next frame), or `nil` at the end of
    /// the window.
    ///
    /// Wraps `av_read_frame`, `avcodec_send_packet`, `avcodec_receive_frame`, `sws_scale`.
    /// - Throws: `FFmpegError` when a network source stalls past the timeout or a frame cannot be
    ///   converted; damaged data is counted, not thrown.
    public func nextFrame() throws -> VideoFrame? {
        while let decision = try nextPicked() {
            defer { av_frame_unref(frame.pointer) }
            guard decision.convert else { continue }
            let image = try scaler.convert(frame.pointer, path: url)
            let f = frame.pointer.pointee
            let dur = f.pkt_duration > 0 ? Double(f.pkt_duration) * timeBase : nil
            return VideoFrame(index: decision.index, pts: decision.pts, duration: dur,
                              isKeyFrame: f.key_frame != 0, isSelected: decision.selected, image: image)
        }
        return nil
    }

    /// Decodes the rest of the window without converting any picture, and counts what it found.
    /// Selection options (`every`, `targetFPS`, `maxFrames`) are ignored; `start`/`duration` apply.
    /// - Throws: `FFmpegError` when a network source stalls past the timeout.
    public func scanToEnd() throws -> ScanSummary {
        var first: Double? = nil
        var last: Double? = nil
        while let pts = try nextWindowFrame() {
            av_frame_unref(frame.pointer)
            if first == nil { first = pts }
            last = pts
        }
        return ScanSummary(frames: framesDecoded, firstPTS: first, lastPTS: last, damagedPackets: damagedPackets)
    }

    // MARK: Selection

    private struct Decision { var index: Int; var pts: Double; var selected: Bool; var convert: Bool }

    /// The next decoded frame in the window with its selection; leaves it in `frame` (caller unrefs).
    private func nextPicked() throws -> Decision? {
        if let m = options.maxFrames, selectedCount >= m { return nil }
        guard let pts = try nextWindowFrame() else { return nil }
        let index = framesDecoded - 1
        var selected = index % Swift.max(1, options.every) == 0
        if let fps = options.targetFPS, fps > 0 {
            let step = 1 / fps, eps = 1e-3
            if nextSelectTime == nil { nextSelectTime = pts }
            if pts + eps >= nextSelectTime! {
                // The first step boundary past this frame, in one jump (a long gap between timestamps, or a tiny
                // step, must not loop).
                let steps = ((pts + eps - nextSelectTime!) / step).rounded(.down) + 1
                nextSelectTime! += steps.isFinite ? steps * step : step
                if nextSelectTime! <= pts + eps { nextSelectTime = pts + eps + step }
            } else {
                selected = false
            }
        }
        if selected { selectedCount += 1 }
        return Decision(index: index, pts: pts, selected: selected, convert: selected || options.yieldSkipped)
    }

    /// Decodes until a frame inside the window is in `frame`; returns its pts, or `nil` at the end.
    private func nextWindowFrame() throws -> Double? {
        while try takePendingFrame() || decodeOne() {
            let f = frame.pointer.pointee
            let ts = f.best_effort_timestamp != vigil_av_nopts_value() ? f.best_effort_timestamp : f.pts
            let pts: Double
            if ts != vigil_av_nopts_value() {
                pts = Double(ts) * timeBaseNum / timeBaseDen
            } else {
                pts = (lastPTS ?? 0) + (metadata.frameRate.value.map { 1 / $0 } ?? 0)
            }
            lastPTS = pts
            if f.flags & AV_FRAME_FLAG_CORRUPT != 0 || f.decode_error_flags != 0 { damagedPackets += 1 }
            if let ws = windowStart, pts < ws - 1e-6 { av_frame_unref(frame.pointer); continue }
            if let we = windowEnd, pts >= we - 1e-6 {
                av_frame_unref(frame.pointer)
                ended = true
                return nil
            }
            framesDecoded += 1
            return pts
        }
        return nil
    }

    // MARK: Decoding

    /// Decodes until the first frame of `stream` is in `frame` (kept for `nextWindowFrame`); returns the damaged
    /// packets met on the way (a stream joined mid-way starts with undecodable ones).
    /// - Throws: `FFmpegError` when the source ends, stalls past the timeout or sends only garbage before any frame.
    private static func decodeFirstFrame(input: _UnsafeInputFormat, codec: _UnsafeCodecContext, packet: _UnsafePacket, frame: _UnsafeFrame,
                                         stream: Int32, url: String, timeout: Double?) throws -> Int {
        let cc = codec.pointer, pkt = packet.pointer, fmt = input.pointer
        var damaged = 0
        for _ in 0..<100_000 {
            let r = avcodec_receive_frame(cc, frame.pointer)
            if r >= 0 { return damaged }
            if r != FFmpegError.tryAgain && r != FFmpegError.endOfFile { damaged += 1 }
            if r == FFmpegError.endOfFile { break }
            input.interrupt.arm()
            let rr = av_read_frame(fmt, pkt)
            input.interrupt.disarm()
            if rr == FFmpegError.exit || rr == FFmpegError.timedOut {
                throw FFmpegError(code: rr, message: "no picture arrived within \(formatSeconds(timeout ?? 0)), so its size is unknown (the source stalled)",
                                  path: url, while: "read")
            }
            if rr < 0 { break }
            defer { av_packet_unref(pkt) }
            if pkt.pointee.stream_index != stream { continue }
            if avcodec_send_packet(cc, pkt) < 0 { damaged += 1 }
        }
        throw FFmpegError(code: FFmpegError.invalidData, message: "no picture could be decoded, so its size is unknown (the stream ended or sent no key frame)",
                          path: url, while: "decode")
    }

    /// True once, for the frame `init` decoded to learn the picture size.
    private func takePendingFrame() -> Bool {
        guard firstFramePending else { return false }
        firstFramePending = false
        return true
    }

    /// Runs the send/receive loop until the decoder yields a frame (true) or is drained (false).
    private func decodeOne() throws -> Bool {
        let cc = codec.pointer, pkt = packet.pointer, fmt = input.pointer
        var receiveErrors = 0
        while !ended {
            let r = avcodec_receive_frame(cc, frame.pointer)
            if r >= 0 { return true }
            if r == FFmpegError.endOfFile { ended = true; break }
            if r != FFmpegError.tryAgain {
                damagedPackets += 1  // a decode error surfaced by the (threaded) decoder
                receiveErrors += 1
                if receiveErrors > 1000 { ended = true; break }  // a broken decoder must not spin forever
                continue
            }
            if draining { ended = true; break }  // EAGAIN while draining: nothing more will come
            // The decoder wants input.
            input.interrupt.arm()
            let rr = av_read_frame(fmt, pkt)
            input.interrupt.disarm()
            if rr < 0 {
                if options.shouldStop?() == true { ended = true; break }  // stopped on request: end quietly
                if rr == FFmpegError.exit || rr == FFmpegError.timedOut {
                    throw FFmpegError(code: rr, message: "no data arrived within \(formatSeconds(options.timeout ?? 0)) (the source stalled)",
                                      path: url, while: "read")
                }
                let atEOF = rr == FFmpegError.endOfFile || (fmt.pointee.pb != nil && avio_feof(fmt.pointee.pb) != 0)
                if !atEOF {
                    damagedPackets += 1
                    consecutiveReadErrors += 1
                }
                if atEOF || consecutiveReadErrors > 1000 {
                    _ = avcodec_send_packet(cc, nil)  // enter draining mode
                    draining = true
                }
                continue
            }
            consecutiveReadErrors = 0
            defer { av_packet_unref(pkt) }
            if pkt.pointee.stream_index != streamIndex { continue }
            if pkt.pointee.flags & AV_PKT_FLAG_CORRUPT != 0 { damagedPackets += 1 }
            let s = avcodec_send_packet(cc, pkt)
            if s < 0 && s != FFmpegError.tryAgain && s != FFmpegError.endOfFile {
                if pkt.pointee.flags & AV_PKT_FLAG_CORRUPT == 0 { damagedPackets += 1 }
            }
        }
        return false
    }

    // MARK: Helpers

    /// Clockwise degrees (0/90/180/270) that make the picture upright, from the display matrix.
    private static func rotation(of stream: UnsafeMutablePointer<AVStream>) -> Int {
        var size: Int = 0
        guard let data = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 36 else { return 0 }
        let ccw = data.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
        guard ccw.isFinite else { return 0 }
        let cw = -ccw.rounded()
        let quarter = Int((cw / 90).rounded())
        return ((quarter % 4) + 4) % 4 * 90
    }

    /// Throws a clear error for a missing, unreadable, directory or empty local file.
    private static func checkLocalFile(_ url: String) throws {
        let path = url.lowercased().hasPrefix("file:") ? String(url.dropFirst(5)) : url
        // An image sequence in FFmpeg's syntax (img%03d.png): FFmpeg's image2 demuxer finds the files itself.
        if isImageSequencePattern(path) { return }
        var st = stat()
        if stat(path, &st) != 0 {
            let e = errno
            throw FFmpegError(code: vigil_averror(e),
                              message: e == ENOENT ? "no such file or directory" : String(cString: strerror(e)).lowercased(),
                              path: url, while: "open")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw FFmpegError(code: FFmpegError.invalidArgument, message: "it is a directory, not a video file",
                              path: url, while: "open")
        }
        if (st.st_mode & S_IFMT) == S_IFREG && st.st_size == 0 {
            throw FFmpegError(code: FFmpegError.invalidData, message: "the file is empty (0 bytes)",
                              path: url, while: "open")
        }
    }
}

/// True for FFmpeg's image-sequence syntax: a `%d` or `%0Nd` in the name.
func isImageSequencePattern(_ path: String) -> Bool {
    var rest = Substring(path)
    while let i = rest.firstIndex(of: "%") {
        rest = rest[rest.index(after: i)...]
        let digits = rest.prefix { $0.isNumber }
        if rest.dropFirst(digits.count).first == "d" { return true }
    }
    return false
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        String(self.filter { $0.isLetter || $0.isNumber || $0 == "_" })
    }
}
