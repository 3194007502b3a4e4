/// A lossy video codec that encodes a picture and decodes it back: what the `h264_compression` corruption runs.
///
/// Imaging holds no codec (it does not link FFmpeg); `MediaIO.H264RoundTrip` (libx264 through libavcodec) is the
/// implementation the pipeline passes to `Corruption.apply(to:severity:seed:codec:)`. An implementation may keep
/// encoder state between calls but must return the same picture for the same input whatever came before.
public protocol VideoCodecRoundTrip: AnyObject {
    /// The picture encoded as one intra (IDR) frame at the fixed quantiser `quantizer` and decoded back.
    ///
    /// - Parameters:
    ///   - image: Any size from 1x1, odd sizes included.
    ///   - quantizer: H.264 QP, 0 (lossless) ... 51 (coarsest).
    /// - Returns: A picture of the same size.
    /// - Throws: The codec's error when it cannot encode or decode.
    func roundTrip(_ image: RGBImage, quantizer: Int) throws -> RGBImage
}
