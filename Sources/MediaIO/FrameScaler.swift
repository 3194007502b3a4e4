import CAVCodec
import CAVFormat
import CAVUtil
import CSwScale
import Imaging

/// Converts decoded pictures (any FFmpeg pixel format) to 8-bit RGB at a fixed output size with
/// libswscale, then rotates them upright by a multiple of 90 degrees.
///
/// The scaler is re-created only when the input size or format changes (`sws_getCachedContext`); the
/// source colour matrix and range are taken from each frame (`sws_setColorspaceDetails`), as ffmpeg's
/// `scale` filter does. Use from one thread at a time.
public final class FrameScaler {
    /// Width of the pictures this scaler returns (after rotation).
    public let outputWidth: Int
    /// Height of the pictures this scaler returns (after rotation).
    public let outputHeight: Int
    /// Clockwise rotation in degrees (0, 90, 180 or 270) applied after scaling.
    public let rotation: Int

    private var context: OpaquePointer?
    private var lastColorKey: Int32 = -1
    private var scratch: [UInt8] = []

    /// Makes a scaler.
    /// - Parameters:
    ///   - outputWidth: width of the returned picture, rotation included.
    ///   - outputHeight: height of the returned picture, rotation included.
    ///   - rotation: clockwise degrees, a multiple of 90.
    public init(outputWidth: Int, outputHeight: Int, rotation: Int = 0) {
        precondition(outputWidth > 0 && outputHeight > 0, "FrameScaler: output size must be positive")
        self.outputWidth = outputWidth
        self.outputHeight = outputHeight
        self.rotation = ((rotation % 360) + 360) % 360
    }

    deinit { sws_freeContext(context) }

    /// Size swscale produces, before rotation.
    private var scaledSize: (Int, Int) {
        rotation == 90 || rotation == 270 ? (outputHeight, outputWidth) : (outputWidth, outputHeight)
    }

    /// Converts one decoded frame to RGB (`sws_scale`).
    /// - Throws: `FFmpegError` when swscale cannot handle the frame's format or size.
    func convert(_ frame: UnsafeMutablePointer<AVFrame>, path: String) throws -> RGBImage {
        let (sw, sh) = scaledSize
        var format = AVPixelFormat(rawValue: frame.pointee.format)
        var fullRange = frame.pointee.color_range == AVCOL_RANGE_JPEG
        switch format {  // the deprecated yuvj formats are plain yuv at full range
        case AV_PIX_FMT_YUVJ420P: format = AV_PIX_FMT_YUV420P; fullRange = true
        case AV_PIX_FMT_YUVJ422P: format = AV_PIX_FMT_YUV422P; fullRange = true
        case AV_PIX_FMT_YUVJ444P: format = AV_PIX_FMT_YUV444P; fullRange = true
        case AV_PIX_FMT_YUVJ440P: format = AV_PIX_FMT_YUV440P; fullRange = true
        case AV_PIX_FMT_YUVJ411P: format = AV_PIX_FMT_YUV411P; fullRange = true
        default: break
        }
        let previous = context
        context = sws_getCachedContext(context, frame.pointee.width, frame.pointee.height, format,
                                       Int32(sw), Int32(sh), AV_PIX_FMT_RGB24, SWS_BICUBIC, nil, nil, nil)
        guard let ctx = context else {
            let name = av_get_pix_fmt_name(format).map { String(cString: $0) } ?? "\(format.rawValue)"
            throw FFmpegError(code: FFmpegError.invalidArgument,
                              message: "libswscale cannot convert \(frame.pointee.width)x\(frame.pointee.height) \(name) to RGB",
                              path: path, while: "convert a frame of")
        }
        let colorKey = Int32(frame.pointee.colorspace.rawValue) * 2 + (fullRange ? 1 : 0)
        if ctx != previous || colorKey != lastColorKey {
            lastColorKey = colorKey
            _ = sws_setColorspaceDetails(ctx, sws_getCoefficients(Int32(frame.pointee.colorspace.rawValue)),
                                         fullRange ? 1 : 0, sws_getCoefficients(SWS_CS_DEFAULT), 1,
                                         0, 1 << 16, 1 << 16)
        }
        let count = sw * sh * 3
        // swscale's x86 YUV -> RGB24 converter works in runs of 8 pixels and, when a row of whole runs does not fit
        // the destination stride, leaves the last width % 8 pixels unwritten; tiny pictures can make it write past
        // the rows. So rows are 16-pixel aligned (as FFmpeg's own frame buffers are) unless the width already is.
        let stride = ((sw + 15) & ~15) * 3
        if rotation == 0 && stride == sw * 3 {
            let pixels = try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                try scale(ctx, frame, into: buffer.baseAddress!, stride: sw * 3, height: sh, path: path)
                initialized = count
            }
            return RGBImage(width: sw, height: sh, pixels: pixels)
        }
        if scratch.count != stride * sh { scratch = [UInt8](repeating: 0, count: stride * sh) }
        try scratch.withUnsafeMutableBufferPointer {
            try scale(ctx, frame, into: $0.baseAddress!, stride: stride, height: sh, path: path)
        }
        let packed = stride == sw * 3 ? scratch : [UInt8](unsafeUninitializedCapacity: count) { dst, initialized in
            scratch.withUnsafeBufferPointer { src in
                for y in 0..<sh { (dst.baseAddress! + y * sw * 3).update(from: src.baseAddress! + y * stride, count: sw * 3) }
            }
            initialized = count
        }
        if rotation == 0 { return RGBImage(width: sw, height: sh, pixels: packed) }
        let pixels = packed.withUnsafeBufferPointer { rotate($0, width: sw, height: sh, clockwise: rotation) }
        return RGBImage(width: outputWidth, height: outputHeight, pixels: pixels)
    }

    private func scale(_ ctx: OpaquePointer, _ frame: UnsafeMutablePointer<AVFrame>,
                       into dst: UnsafeMutablePointer<UInt8>, stride: Int, height: Int, path: String) throws {
        var dstData: [UnsafeMutablePointer<UInt8>?] = [dst, nil, nil, nil]
        var dstStride: [Int32] = [Int32(stride), 0, 0, 0]
        let lines = withUnsafePointer(to: &frame.pointee.data) { data in
            withUnsafePointer(to: &frame.pointee.linesize) { linesize in
                data.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { src in
                    linesize.withMemoryRebound(to: Int32.self, capacity: 8) { srcStride in
                        sws_scale(ctx, src, srcStride, 0, frame.pointee.height, &dstData, &dstStride)
                    }
                }
            }
        }
        if lines != Int32(height) {
            throw FFmpegError(code: lines < 0 ? lines : FFmpegError.invalidData,
                              message: "libswscale produced \(lines) of \(height) rows",
                              path: path, while: "convert a frame of")
        }
    }
}

/// Rotates an interleaved RGB picture clockwise by 90, 180 or 270 degrees.
///
/// Layout: `src[(y * width + x) * 3 + c]`; the result is `height x width` for 90/270.
/// - Complexity: O(width * height).
func rotate(_ src: UnsafeBufferPointer<UInt8>, width: Int, height: Int, clockwise degrees: Int) -> [UInt8] {
    let count = width * height * 3
    return [UInt8](unsafeUninitializedCapacity: count) { dst, initialized in
        let s = src.baseAddress!, d = dst.baseAddress!
        switch degrees {
        case 90:  // out is height wide: out(x', y') = in(x = y', y = height - 1 - x')
            let ow = height
            for y in 0..<height {
                let ox = height - 1 - y
                for x in 0..<width {
                    let si = (y * width + x) * 3, di = (x * ow + ox) * 3
                    d[di] = s[si]; d[di + 1] = s[si + 1]; d[di + 2] = s[si + 2]
                }
            }
        case 270:  // out(x', y') = in(x = width - 1 - y', y = x')
            let ow = height
            for y in 0..<height {
                for x in 0..<width {
                    let si = (y * width + x) * 3, di = ((width - 1 - x) * ow + y) * 3
                    d[di] = s[si]; d[di + 1] = s[si + 1]; d[di + 2] = s[si + 2]
                }
            }
        default:  // 180
            for i in 0..<(width * height) {
                let si = i * 3, di = (width * height - 1 - i) * 3
                d[di] = s[si]; d[di + 1] = s[si + 1]; d[di + 2] = s[si + 2]
            }
        }
        initialized = count
    }
}
