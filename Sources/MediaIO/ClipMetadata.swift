/// What a clip is, as FFmpeg sees it once the container is opened (before decoding any frame).
public struct ClipMetadata: Codable, Sendable, Equatable {
    /// The path or URL that was opened.
    public var url: String
    /// The container (demuxer) name, e.g. `"mov,mp4,m4a,3gp,3g2,mj2"` or `"avi"`.
    public var container: String
    /// The video codec name, e.g. `"h264"`.
    public var codec: String
    /// The codec profile, e.g. `"High"`, when the codec has one.
    public var profile: String?
    /// Display width in pixels: coded width times the sample aspect ratio, then rotation applied.
    public var width: Int
    /// Display height in pixels, rotation applied.
    public var height: Int
    /// Width of the decoded picture before aspect and rotation.
    public var codedWidth: Int
    /// Height of the decoded picture before aspect and rotation.
    public var codedHeight: Int
    /// Sample (pixel) aspect ratio; 1/1 for square pixels.
    public var sampleAspectRatio: Rational
    /// Average frame rate (FFmpeg's guess for the stream); 0/1 when unknown.
    public var frameRate: Rational
    /// The stream time base that timestamps count in.
    public var timeBase: Rational
    /// Duration in seconds, when the container knows it.
    public var duration: Double?
    /// Number of frames, when the container records it (`nb_frames`).
    public var frameCount: Int?
    /// Bit rate in bits per second, of the video stream or else of the whole file.
    public var bitRate: Int?
    /// Clockwise rotation in degrees (0, 90, 180, 270) that makes the picture upright; already applied
    /// to frames from `VideoSource`.
    public var rotation: Int
    /// The decoder's pixel format, e.g. `"yuv420p"`.
    public var pixelFormat: String
    /// Whether the file also has an audio stream (which Vigil ignores).
    public var hasAudio: Bool
    /// The stream's YUV matrix as FFmpeg names it (`bt709`, `smpte170m`, ...), when the stream says.
    public var colorMatrix: String? = nil
    /// How many video streams the clip has, and which of them (counting from 0) is read.
    public var videoStreamCount: Int? = nil
    public var videoStream: Int? = nil

    /// Makes metadata by hand (tests, fixtures).
    public init(url: String, container: String, codec: String, profile: String?, width: Int, height: Int,
                codedWidth: Int, codedHeight: Int, sampleAspectRatio: Rational = Rational(1, 1),
                frameRate: Rational, timeBase: Rational, duration: Double?, frameCount: Int?,
                bitRate: Int?, rotation: Int, pixelFormat: String, hasAudio: Bool) {
        self.url = url; self.container = container; self.codec = codec; self.profile = profile
        self.width = width; self.height = height; self.codedWidth = codedWidth; self.codedHeight = codedHeight
        self.sampleAspectRatio = sampleAspectRatio; self.frameRate = frameRate; self.timeBase = timeBase
        self.duration = duration; self.frameCount = frameCount; self.bitRate = bitRate
        self.rotation = rotation; self.pixelFormat = pixelFormat; self.hasAudio = hasAudio
    }
}
