import CAVCodec
import CAVFormat
import CAVUtil
import CSwScale
import Imaging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Encodes RGB pictures to a browser-playable MP4: H.264 (libx264 through libavcodec, yuv420p, CRF,
/// preset), index at the front (`movflags=+faststart`), timestamps taken from the caller.
///
/// Falls back to MPEG-4 Part 2 (`mpeg4`) when this FFmpeg has no libx264. Odd widths or heights are
/// padded by one pixel (edge replicated) to the even size yuv420p needs; frame count and timing are kept.
/// Output goes to a temporary file `.<name>.partial-XXXXXX.mp4` beside the destination, renamed to the
/// destination by `finish()`; if the sink is dropped without `finish()`, the temporary file is removed.
/// Use from one thread at a time (it may move between threads).
public final class VideoSink: @unchecked Sendable {
    /// Encoder settings.
    public struct Options: Sendable {
        /// x264 constant rate factor: 0 lossless, 18 visually lossless, 23 default, 51 worst.
        public var crf: Int
        /// x264 preset, from `ultrafast` to `veryslow`.
        public var preset: String
        /// Write an HLS playlist (`path`, e.g. `overlay.m3u8`) and MPEG-TS segments beside it instead of an MP4, so
        /// the video can be watched while it is written. The playlist is written in place (no temporary file).
        public var hls: HLS?

        /// Makes options.
        public init(crf: Int = 20, preset: String = "veryfast", hls: HLS? = nil) {
            self.crf = crf
            self.preset = preset
            self.hls = hls
        }
    }

    /// HLS output: segments of about `segmentSeconds` (cut at key frames, one every segment), named
    /// `<segmentPrefix>NNNNNN.ts` beside the playlist.
    public struct HLS: Sendable {
        public var segmentSeconds: Double
        /// Segments listed in the playlist; older ones are deleted from disk. 0 lists and keeps them all.
        public var listSize: Int
        public var segmentPrefix: String
        public init(segmentSeconds: Double = 2, listSize: Int = 0, segmentPrefix: String = "overlay-") {
            self.segmentSeconds = segmentSeconds; self.listSize = listSize; self.segmentPrefix = segmentPrefix
        }
    }

    /// The encoder in use: `"libx264"` or, as a fallback, `"mpeg4"`.
    public let codecName: String
    /// The final path of the MP4.
    public let path: String
    /// The temporary file being written.
    public let temporaryPath: String
    /// Width of the pictures `write` accepts.
    public let width: Int
    /// Height of the pictures `write` accepts.
    public let height: Int
    /// Frames written so far.
    public private(set) var framesWritten = 0

    /// Encoder time base: 1/90000 s ticks, fine enough for any source timestamps.
    private static let ticksPerSecond = 90_000

    private let output: _UnsafeOutputFormat
    private let codec: _UnsafeCodecContext
    private let stream: UnsafeMutablePointer<AVStream>
    private let frame: _UnsafeFrame
    private let packet: _UnsafePacket
    private let converter: _UnsafeSwsContext
    private let encodedWidth: Int
    private let encodedHeight: Int
    private let nominalTicks: Int64
    private var lastTicks: Int64?
    private var lastInterval: Int64
    private var durations: [Int64: Int64] = [:]
    private var padded: [UInt8] = []
    private var finished = false
    private let isHLS: Bool

    /// Creates the temporary file and opens the encoder; nothing is written under `path` until `finish()`.
    ///
    /// Wraps `avformat_alloc_output_context2`, `avcodec_open2`, `avio_open`, `avformat_write_header`.
    /// - Parameters:
    ///   - path: where the finished MP4 goes.
    ///   - width: picture width (odd allowed).
    ///   - height: picture height (odd allowed).
    ///   - frameRate: the nominal rate, used for rate control and for the last frame's duration.
    ///   - options: CRF and preset.
    /// - Throws: `FFmpegError` when the file cannot be created or no encoder opens.
    public init(path: String, width: Int, height: Int, frameRate: Rational, options: Options = .init()) throws {
        _ = FFmpegLibrary.initialize
        guard width > 0, height > 0 else {
            throw FFmpegError(code: FFmpegError.invalidArgument, message: "the picture size \(width)x\(height) is empty",
                              path: path, while: "write")
        }
        self.path = path
        self.width = width
        self.height = height
        encodedWidth = (width + 1) & ~1
        encodedHeight = (height + 1) & ~1
        temporaryPath = options.hls == nil ? VideoSink.temporaryPath(for: path) : path
        isHLS = options.hls != nil
        let rate = frameRate.num > 0 && frameRate.den > 0 ? frameRate : Rational(25, 1)
        nominalTicks = Swift.max(1, Int64((Double(VideoSink.ticksPerSecond) * Double(rate.den) / Double(rate.num)).rounded()))
        lastInterval = nominalTicks

        output = try _UnsafeOutputFormat(path: temporaryPath, displayPath: path, format: options.hls == nil ? "mp4" : "hls")
        let oc = output.pointer

        var encoder = avcodec_find_encoder_by_name("libx264")
        if encoder == nil { encoder = avcodec_find_encoder(AV_CODEC_ID_MPEG4) }
        guard let enc = encoder else {
            throw FFmpegError(code: FFmpegError.encoderNotFound, message: "this FFmpeg has neither libx264 nor an mpeg4 encoder",
                              path: path, while: "write")
        }
        codecName = String(cString: enc.pointee.name)
        guard let st = avformat_new_stream(oc, nil) else {
            throw FFmpegError(code: FFmpegError.outOfMemory, path: path, while: "add a video stream to")
        }
        stream = st
        codec = try _UnsafeCodecContext(codec: enc, path: path)
        let cc = codec.pointer
        cc.pointee.width = Int32(encodedWidth)
        cc.pointee.height = Int32(encodedHeight)
        cc.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        cc.pointee.time_base = AVRational(num: 1, den: Int32(VideoSink.ticksPerSecond))
        cc.pointee.framerate = rate.av
        cc.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
        cc.pointee.color_range = AVCOL_RANGE_MPEG
        cc.pointee.colorspace = AVCOL_SPC_SMPTE170M  // swscale's default RGB->YUV matrix is BT.601
        cc.pointee.color_primaries = AVCOL_PRI_SMPTE170M
        cc.pointee.color_trc = AVCOL_TRC_SMPTE170M
        cc.pointee.thread_count = 0
        if oc.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            cc.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        }
        var codecOptions: OpaquePointer? = nil
        defer { av_dict_free(&codecOptions) }
        if codecName == "libx264" {
            av_dict_set(&codecOptions, "crf", String(options.crf), 0)
            av_dict_set(&codecOptions, "preset", options.preset, 0)
            if let hls = options.hls {
                // A key frame at every segment boundary, and no frame reordering delay for a live playlist.
                cc.pointee.gop_size = Int32(Swift.max(1, Swift.min(600, (hls.segmentSeconds * (rate.value ?? 25)).rounded())))
                av_dict_set(&codecOptions, "x264-params", "scenecut=0", 0)
                av_dict_set(&codecOptions, "tune", "zerolatency", 0)
            }
        } else {
            // MPEG-4 Part 2 has no CRF: map it to a fixed quantiser (crf 20 -> q 3).
            let q = Swift.min(31, Swift.max(2, (options.crf - 2) / 6))
            cc.pointee.flags |= AV_CODEC_FLAG_QSCALE
            cc.pointee.global_quality = FF_QP2LAMBDA * Int32(q)
            cc.pointee.gop_size = 12
        }
        let openCode = avcodec_open2(cc, enc, &codecOptions)
        if openCode < 0 {
            throw FFmpegError(code: openCode, message: "the \(codecName) encoder would not open (\(FFmpegError.text(for: openCode)))",
                              path: path, while: "write")
        }
        try FFmpegError.check(avcodec_parameters_from_context(st.pointee.codecpar, cc), path: path, while: "configure the stream of")
        st.pointee.time_base = cc.pointee.time_base
        st.pointee.avg_frame_rate = rate.av

        frame = try _UnsafeFrame(path: path)
        frame.pointer.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        frame.pointer.pointee.width = Int32(encodedWidth)
        frame.pointer.pointee.height = Int32(encodedHeight)
        try FFmpegError.check(av_frame_get_buffer(frame.pointer, 0), path: path, while: "allocate a picture for")
        packet = try _UnsafePacket(path: path)
        converter = try _UnsafeSwsContext(width: encodedWidth, height: encodedHeight, path: path)

        try output.open()
        var muxOptions: OpaquePointer? = nil
        defer { av_dict_free(&muxOptions) }
        if let hls = options.hls {
            let dir = path.directory
            av_dict_set(&muxOptions, "hls_time", "\(hls.segmentSeconds)", 0)
            av_dict_set(&muxOptions, "hls_list_size", String(hls.listSize), 0)
            av_dict_set(&muxOptions, "hls_flags", hls.listSize > 0 ? "delete_segments+independent_segments+program_date_time+temp_file"
                                                                   : "independent_segments+program_date_time+temp_file", 0)
            av_dict_set(&muxOptions, "hls_segment_filename", dir + hls.segmentPrefix + "%06d.ts", 0)
        } else {
            av_dict_set(&muxOptions, "movflags", "+faststart", 0)
        }
        let headerCode = avformat_write_header(oc, &muxOptions)
        try FFmpegError.check(headerCode, path: path, while: "write the header of")
    }

    deinit {
        if !finished {
            output.closeFile()
            if !isHLS { unlink(temporaryPath) }
        }
    }

    /// Encodes one picture shown at `pts` seconds. Timestamps must increase; a repeated or earlier one
    /// is moved one tick (1/90000 s) after the previous frame.
    ///
    /// Wraps `sws_scale` (RGB24 to yuv420p), `avcodec_send_frame`, `avcodec_receive_packet`,
    /// `av_interleaved_write_frame`.
    /// - Throws: `FFmpegError` when the picture has the wrong size or encoding or writing fails.
    public func write(_ image: RGBImage, pts: Double) throws {
        precondition(!finished, "VideoSink.write after finish()")
        guard image.width == width, image.height == height else {
            throw FFmpegError(code: FFmpegError.invalidArgument,
                              message: "the picture is \(image.width)x\(image.height) but the video is \(width)x\(height)",
                              path: path, while: "write a frame to")
        }
        var ticks = Int64((pts * Double(VideoSink.ticksPerSecond)).rounded())
        if let last = lastTicks {
            if ticks <= last { ticks = last + 1 }
            lastInterval = ticks - last
            durations[last] = lastInterval
        }
        lastTicks = ticks

        let f = frame.pointer
        try FFmpegError.check(av_frame_make_writable(f), path: path, while: "prepare a frame for")
        if encodedWidth == width && encodedHeight == height {
            image.pixels.withUnsafeBufferPointer { converter.convert($0.baseAddress!, stride: width * 3, into: f) }
        } else {
            padEdges(image, width: encodedWidth, height: encodedHeight, into: &padded)
            padded.withUnsafeBufferPointer { converter.convert($0.baseAddress!, stride: encodedWidth * 3, into: f) }
        }
        f.pointee.pts = ticks
        try send(f)
        framesWritten += 1
    }

    /// Flushes the encoder, writes the MP4 index at the front (faststart) and renames the temporary
    /// file to `path`. Calling it again does nothing.
    ///
    /// Wraps `avcodec_send_frame(NULL)`, `av_write_trailer`, `rename`.
    /// - Throws: `FFmpegError` when flushing, writing the trailer or the rename fails.
    public func finish() throws {
        if finished { return }
        try send(nil)
        try FFmpegError.check(av_write_trailer(output.pointer), path: path, while: "finish")
        output.closeFile()
        if isHLS { finished = true; return }
        if rename(temporaryPath, path) != 0 {
            let e = errno
            throw FFmpegError(code: vigil_averror(e), message: "renaming the finished temporary file failed (\(String(cString: strerror(e))))",
                              path: path, while: "write")
        }
        finished = true
    }

    /// Sends a frame (or `nil` to flush) and writes every packet the encoder has ready.
    private func send(_ f: UnsafeMutablePointer<AVFrame>?) throws {
        let cc = codec.pointer, pkt = packet.pointer
        try FFmpegError.check(avcodec_send_frame(cc, f), path: path, while: "encode a frame for")
        while true {
            let r = avcodec_receive_packet(cc, pkt)
            if r == FFmpegError.tryAgain || r == FFmpegError.endOfFile { break }
            try FFmpegError.check(r, path: path, while: "encode a frame for")
            // Each packet lasts until the next frame; the newest one lasts as long as the last interval.
            pkt.pointee.duration = durations.removeValue(forKey: pkt.pointee.pts) ?? lastInterval
            // Frames with pts below this packet's dts were already written (pts >= dts, dts increases):
            // drop their entries so the table stays small when an encoder emits packets at once.
            let dts = pkt.pointee.dts
            if durations.count > 32 { durations = durations.filter { $0.key >= dts } }
            av_packet_rescale_ts(pkt, cc.pointee.time_base, stream.pointee.time_base)
            pkt.pointee.stream_index = stream.pointee.index
            let w = av_interleaved_write_frame(output.pointer, pkt)  // takes the packet's reference
            try FFmpegError.check(w, path: path, while: "write a packet to")
        }
    }

    /// `<dir>/.<name>.partial-XXXXXX.mp4` beside `path`.
    static func temporaryPath(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let base = name.hasSuffix(".mp4") ? String(name.dropLast(4)) : name
        let tag = String(UInt32.random(in: 0...0xFFFFFF), radix: 16)
        return "\(dir).\(base).partial-\(String(repeating: "0", count: 6 - tag.count) + tag).mp4"
    }
}

/// Copies `image` into `padded` (interleaved RGB, `width` x `height`, at least the picture's size), replicating
/// the last column and row into the extra ones: the even size yuv420p needs.
func padEdges(_ image: RGBImage, width ew: Int, height eh: Int, into padded: inout [UInt8]) {
    let w = image.width, h = image.height
    if padded.count != ew * eh * 3 { padded = [UInt8](repeating: 0, count: ew * eh * 3) }
    image.pixels.withUnsafeBufferPointer { src in
        padded.withUnsafeMutableBufferPointer { dst in
            for y in 0..<eh {
                let sy = Swift.min(y, h - 1)
                let s = src.baseAddress! + sy * w * 3, d = dst.baseAddress! + y * ew * 3
                d.update(from: s, count: w * 3)
                for x in w..<ew { d[x * 3] = s[(w - 1) * 3]; d[x * 3 + 1] = s[(w - 1) * 3 + 1]; d[x * 3 + 2] = s[(w - 1) * 3 + 2] }
            }
        }
    }
}

extension String {
    /// The folder part of a path, with its trailing slash ("" for a bare name).
    fileprivate var directory: String {
        guard let slash = lastIndex(of: "/") else { return "" }
        return String(self[...slash])
    }
}

/// Owns one muxing `AVFormatContext` and its `AVIOContext` (`avformat_alloc_output_context2`,
/// `avio_open` / `avio_closep`, `avformat_free_context`).
final class _UnsafeOutputFormat {
    let pointer: UnsafeMutablePointer<AVFormatContext>
    let path: String
    let displayPath: String

    init(path: String, displayPath: String, format: String = "mp4") throws {
        self.path = path
        self.displayPath = displayPath
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        let code = avformat_alloc_output_context2(&ctx, nil, format, path)
        guard code >= 0, let ctx else {
            throw FFmpegError(code: code < 0 ? code : FFmpegError.outOfMemory, path: displayPath, while: "create a muxer for")
        }
        pointer = ctx
    }

    /// Opens the file for writing (`avio_open`); a muxer that opens its own files (HLS) needs none.
    func open() throws {
        if pointer.pointee.oformat.pointee.flags & AVFMT_NOFILE != 0 { return }
        let code = avio_open(&pointer.pointee.pb, path, AVIO_FLAG_WRITE)
        if code < 0 {
            throw FFmpegError(code: code, message: "the temporary file beside it cannot be created (\(FFmpegError.text(for: code)))",
                              path: displayPath, while: "write")
        }
    }

    /// Closes the file (`avio_closep`); safe to call twice.
    func closeFile() {
        if pointer.pointee.pb != nil { avio_closep(&pointer.pointee.pb) }
    }

    deinit {
        closeFile()
        avformat_free_context(pointer)
    }
}

/// Owns one `SwsContext` converting packed RGB24 to yuv420p at one size (`sws_getContext` / `sws_freeContext`).
final class _UnsafeSwsContext {
    let pointer: OpaquePointer

    init(width: Int, height: Int, path: String) throws {
        guard let p = sws_getContext(Int32(width), Int32(height), AV_PIX_FMT_RGB24, Int32(width), Int32(height),
                                     AV_PIX_FMT_YUV420P, SWS_BICUBIC, nil, nil, nil) else {
            throw FFmpegError(code: FFmpegError.invalidArgument, message: "libswscale cannot convert RGB to yuv420p at \(width)x\(height)",
                              path: path, while: "write")
        }
        pointer = p
    }

    /// Converts one RGB picture (`src`, rows `stride` bytes apart) into `frame`'s planes.
    func convert(_ src: UnsafePointer<UInt8>, stride: Int, into frame: UnsafeMutablePointer<AVFrame>) {
        var srcData: [UnsafePointer<UInt8>?] = [src, nil, nil, nil]
        var srcStride: [Int32] = [Int32(stride), 0, 0, 0]
        withUnsafePointer(to: &frame.pointee.data) { data in
            withUnsafePointer(to: &frame.pointee.linesize) { linesize in
                data.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { dst in
                    linesize.withMemoryRebound(to: Int32.self, capacity: 8) { dstStride in
                        _ = sws_scale(pointer, &srcData, &srcStride, 0, frame.pointee.height, dst, dstStride)
                    }
                }
            }
        }
    }

    deinit { sws_freeContext(pointer) }
}
