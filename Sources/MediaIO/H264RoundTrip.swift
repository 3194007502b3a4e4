import CAVCodec
import CAVUtil
import Imaging

/// Sends a picture through H.264 and back: libx264 through libavcodec encodes it as one IDR frame at a fixed
/// quantiser, FFmpeg's h264 decoder decodes it. This is the codec of the `h264_compression` corruption.
///
/// Encoder settings (what `ffmpeg -c:v libx264 -preset veryfast -tune zerolatency -qp Q -g 1 -threads 1
/// -pix_fmt yuv420p` does): yuv420p BT.601 limited range, RGB to YUV and back by libswscale with bicubic
/// chroma filtering (the ffmpeg CLI's default), one thread so the bitstream does not depend on the core count.
/// Odd widths or heights are padded by one edge-replicated pixel and cropped off after decoding. No randomness.
///
/// Encoders stay open between calls (one per quantiser, re-made when the picture size changes): with every frame an
/// IDR frame at a fixed QP, no state carries from one picture to the next, so a picture always comes back the same.
/// Use from one thread at a time (one per frame analyser).
public final class H264RoundTrip: VideoCodecRoundTrip, @unchecked Sendable {
    /// x264 preset: how hard the encoder searches. `veryfast`, as cheap camera encoders do.
    public static let preset = "veryfast"
    /// x264 tune: no look-ahead and no B-frames, as live camera streams are encoded.
    public static let tune = "zerolatency"

    /// What errors name as the file.
    static let errorPath = "the h264_compression corruption"

    private var encoders: [Int: Encoder] = [:]
    private var decoder: _UnsafeCodecContext?
    private var width = 0, height = 0
    private var padded: [UInt8] = []
    private var converter: _UnsafeSwsContext?
    private var scaler: FrameScaler?
    private var packet: _UnsafePacket?
    private var decoded: _UnsafeFrame?

    /// Whether this FFmpeg can run the round trip (it has libx264 and an H.264 decoder).
    public static var isAvailable: Bool {
        avcodec_find_encoder_by_name("libx264") != nil && avcodec_find_decoder(AV_CODEC_ID_H264) != nil
    }

    /// Makes a round trip; the codecs open on first use, where a missing libx264 or h264 decoder is reported.
    public init() {
        _ = FFmpegLibrary.initialize
    }

    /// The picture encoded as one IDR frame at `quantizer` and decoded back (see the type's notes for the settings).
    ///
    /// Wraps `sws_scale`, `avcodec_send_frame`, `avcodec_receive_packet`, `avcodec_send_packet`,
    /// `avcodec_receive_frame`.
    /// - Throws: `FFmpegError` when this FFmpeg has no libx264 (`encoderNotFound`) or no H.264 decoder
    ///   (`decoderNotFound`), saying what to install, or when encoding or decoding fails.
    public func roundTrip(_ image: RGBImage, quantizer: Int) throws -> RGBImage {
        let w = image.width, h = image.height
        if w == 0 || h == 0 { return image }
        if packet == nil { packet = try _UnsafePacket(path: H264RoundTrip.errorPath) }
        if decoded == nil { decoded = try _UnsafeFrame(path: H264RoundTrip.errorPath) }
        let ew = (w + 1) & ~1, eh = (h + 1) & ~1
        if width != ew || height != eh {
            encoders = [:]
            converter = try _UnsafeSwsContext(width: ew, height: eh, path: H264RoundTrip.errorPath)
            scaler = FrameScaler(outputWidth: ew, outputHeight: eh)
            width = ew; height = eh
        }
        let qp = min(max(quantizer, 0), 51)
        let encoder = try encoders[qp] ?? Encoder(width: ew, height: eh, quantizer: qp)
        encoders[qp] = encoder

        // RGB -> yuv420p into the encoder's frame.
        let f = encoder.frame.pointer
        try FFmpegError.check(av_frame_make_writable(f), path: H264RoundTrip.errorPath, while: "prepare a frame for")
        if ew == w && eh == h {
            image.pixels.withUnsafeBufferPointer { converter!.convert($0.baseAddress!, stride: w * 3, into: f) }
        } else {
            padEdges(image, width: ew, height: eh, into: &padded)
            padded.withUnsafeBufferPointer { converter!.convert($0.baseAddress!, stride: ew * 3, into: f) }
        }
        f.pointee.pts = encoder.nextPTS
        encoder.nextPTS += 1

        // Encode: zerolatency gives the packet at once; if an encoder ever holds it back, drain it (it is then spent).
        let pkt = packet!.pointer
        let cc = encoder.context.pointer
        try FFmpegError.check(avcodec_send_frame(cc, f), path: H264RoundTrip.errorPath, while: "encode a frame for")
        var r = avcodec_receive_packet(cc, pkt)
        if r == FFmpegError.tryAgain {
            encoders[qp] = nil
            try FFmpegError.check(avcodec_send_frame(cc, nil), path: H264RoundTrip.errorPath, while: "flush the encoder of")
            r = avcodec_receive_packet(cc, pkt)
        }
        try FFmpegError.check(r, path: H264RoundTrip.errorPath, while: "encode a frame for")
        defer { av_packet_unref(pkt) }

        // Decode.
        let dc = try decoderContext()
        try FFmpegError.check(avcodec_send_packet(dc, pkt), path: H264RoundTrip.errorPath, while: "decode a frame for")
        let d = decoded!.pointer
        var got = avcodec_receive_frame(dc, d)
        if got == FFmpegError.tryAgain {
            try FFmpegError.check(avcodec_send_packet(dc, nil), path: H264RoundTrip.errorPath, while: "flush the decoder of")
            got = avcodec_receive_frame(dc, d)
            avcodec_flush_buffers(dc)
        }
        try FFmpegError.check(got, path: H264RoundTrip.errorPath, while: "decode a frame for")
        defer { av_frame_unref(d) }
        let rgb = try scaler!.convert(d, path: H264RoundTrip.errorPath)
        return ew == w && eh == h ? rgb : rgb.cropped(x: 0, y: 0, width: w, height: h)
    }

    /// The H.264 decoder, opened on first use: one thread, no output delay.
    private func decoderContext() throws -> UnsafeMutablePointer<AVCodecContext> {
        if let decoder { return decoder.pointer }
        guard let codec = avcodec_find_decoder(AV_CODEC_ID_H264) else {
            throw FFmpegError(code: FFmpegError.decoderNotFound, message: "this FFmpeg has no H.264 decoder", path: H264RoundTrip.errorPath,
                              while: "run", advice: "install an FFmpeg built with the h264 decoder or leave h264_compression out of --corruptions")
        }
        let ctx = try _UnsafeCodecContext(codec: codec, path: H264RoundTrip.errorPath)
        ctx.pointer.pointee.thread_count = 1
        ctx.pointer.pointee.flags |= AV_CODEC_FLAG_LOW_DELAY
        try FFmpegError.check(avcodec_open2(ctx.pointer, codec, nil), path: H264RoundTrip.errorPath, while: "open the H.264 decoder for")
        decoder = ctx
        return ctx.pointer
    }

    /// One open libx264 encoder at one size and quantiser, and the frame it reads.
    final class Encoder {
        let context: _UnsafeCodecContext
        let frame: _UnsafeFrame
        var nextPTS: Int64 = 0

        /// Opens libx264 (`avcodec_open2`) with the round trip's settings.
        init(width: Int, height: Int, quantizer: Int) throws {
            let path = H264RoundTrip.errorPath
            guard let codec = avcodec_find_encoder_by_name("libx264") else {
                throw FFmpegError(code: FFmpegError.encoderNotFound, message: "this FFmpeg has no libx264 encoder", path: path, while: "run",
                                  advice: "install an FFmpeg built with libx264 (Debian's libavcodec has it) or leave h264_compression out of --corruptions")
            }
            context = try _UnsafeCodecContext(codec: codec, path: path)
            let cc = context.pointer
            cc.pointee.width = Int32(width)
            cc.pointee.height = Int32(height)
            cc.pointee.pix_fmt = AV_PIX_FMT_YUV420P
            cc.pointee.time_base = AVRational(num: 1, den: 25)
            cc.pointee.framerate = AVRational(num: 25, den: 1)
            cc.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
            cc.pointee.color_range = AVCOL_RANGE_MPEG
            cc.pointee.colorspace = AVCOL_SPC_SMPTE170M  // swscale's default RGB->YUV matrix is BT.601
            cc.pointee.gop_size = 1  // every frame an IDR frame
            cc.pointee.thread_count = 1
            var options: OpaquePointer? = nil
            defer { av_dict_free(&options) }
            av_dict_set(&options, "preset", H264RoundTrip.preset, 0)
            av_dict_set(&options, "tune", H264RoundTrip.tune, 0)
            av_dict_set(&options, "qp", String(quantizer), 0)
            let code = avcodec_open2(cc, codec, &options)
            if code < 0 {
                throw FFmpegError(code: code, message: "libx264 would not open at \(width)x\(height), QP \(quantizer) (\(FFmpegError.text(for: code)))",
                                  path: path, while: "run")
            }
            frame = try _UnsafeFrame(path: path)
            frame.pointer.pointee.format = AV_PIX_FMT_YUV420P.rawValue
            frame.pointer.pointee.width = Int32(width)
            frame.pointer.pointee.height = Int32(height)
            try FFmpegError.check(av_frame_get_buffer(frame.pointer, 0), path: path, while: "allocate a picture for")
        }
    }
}
