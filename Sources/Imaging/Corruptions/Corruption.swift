/// A camera-condition corruption (issue #15): the ImageNet-C set of Hendrycks and Dietterich as the
/// `imagecorruptions` package computes it, plus corruptions seen on surveillance cameras.
///
/// Every corruption takes a severity 1...5 and a seed; the same picture, severity and seed always give the
/// same bytes. Deterministic corruptions ignore the seed. `h264_compression` runs a video codec that Imaging does
/// not hold: the caller passes one (`MediaIO.H264RoundTrip`), see `needsCodec`.
///
/// ```swift
/// let foggy = try Corruption.fog.apply(to: frame, severity: 3, seed: 42)
/// let c = try Corruption(named: "gaussian_noise")
/// ```
public enum Corruption: String, CaseIterable, Sendable, Codable {
    // ImageNet-C: noise
    case gaussianNoise = "gaussian_noise"
    case shotNoise = "shot_noise"
    case impulseNoise = "impulse_noise"
    // ImageNet-C: blur
    case defocusBlur = "defocus_blur"
    case glassBlur = "glass_blur"
    case motionBlur = "motion_blur"
    case zoomBlur = "zoom_blur"
    // ImageNet-C: weather
    case snow
    case frost
    case fog
    // ImageNet-C: digital
    case brightness
    case contrast
    case elasticTransform = "elastic_transform"
    case pixelate
    case jpegCompression = "jpeg_compression"
    // Surveillance
    case lowLight = "low_light"
    case rain
    case cameraShake = "camera_shake"
    /// H.264 re-encoding at a low bitrate (one intra frame at a fixed quantiser), through the codec passed in.
    case h264Compression = "h264_compression"

    /// The severities every corruption takes.
    public static let severities: ClosedRange<Int> = 1...5

    /// The name used on the command line and in reports (imagecorruptions' name for the ImageNet-C set).
    public var name: String { rawValue }

    /// Whether the output depends on the seed.
    public var isRandom: Bool {
        switch self {
        case .defocusBlur, .zoomBlur, .brightness, .contrast, .pixelate, .jpegCompression, .h264Compression: false
        default: true
        }
    }

    /// Whether `apply` needs a `VideoCodecRoundTrip` (only `h264_compression`).
    public var needsCodec: Bool { self == .h264Compression }

    /// H.264 quantiser (QP) per severity for `h264_compression`: coarser steps, fewer bits. On the fixture pictures
    /// (96x72) it costs about as much PSNR as `jpeg_compression`'s qualities 25...7 (see the MediaIO tests).
    public static let h264Quantizers = [34, 38, 42, 46, 50]

    /// The corruption called `name`.
    /// - Throws: `CorruptionError.unknownName`, whose message lists the names there are.
    public init(named name: String) throws(CorruptionError) {
        guard let c = Corruption(rawValue: name) else { throw .unknownName(name) }
        self = c
    }

    /// The picture corrupted at `severity` with randomness drawn from `seed`.
    ///
    /// - Parameters:
    ///   - image: Any size, including empty and 1x1.
    ///   - severity: 1 (mild) to 5 (strong), imagecorruptions' five parameter sets.
    ///   - seed: Fixes every random draw; ignored by deterministic corruptions.
    ///   - codec: The video codec `h264_compression` runs; the other corruptions ignore it.
    /// - Returns: A picture of the same size.
    /// - Throws: `CorruptionError.codecMissing` when `h264_compression` gets no codec, `.codecFailed` when the codec
    ///   fails; the other corruptions never throw.
    /// - Precondition: `severity` is in 1...5 (use `validate(severity:)` to check user input first).
    /// - Complexity: O(width * height * k) with k the corruption's kernel size; no per-pixel allocation.
    public func apply(to image: RGBImage, severity: Int, seed: UInt64,
                      codec: (any VideoCodecRoundTrip)? = nil) throws(CorruptionError) -> RGBImage {
        precondition(Corruption.severities.contains(severity), "Corruption \(name): severity \(severity) is outside 1...5")
        if image.width == 0 || image.height == 0 { return image }
        // Decorrelate corruptions given the same seed.
        var rng = SplitMix64(seed: seed ^ (UInt64(Corruption.allCases.firstIndex(of: self)! + 1) &* 0xD1B5_4A32_D192_ED03))
        let s = severity - 1
        switch self {
        case .gaussianNoise: return NoiseCorruptions.gaussian(image, level: s, rng: &rng)
        case .shotNoise: return NoiseCorruptions.shot(image, level: s, rng: &rng)
        case .impulseNoise: return NoiseCorruptions.impulse(image, level: s, rng: &rng)
        case .defocusBlur: return BlurCorruptions.defocus(image, level: s)
        case .glassBlur: return BlurCorruptions.glass(image, level: s, rng: &rng)
        case .motionBlur: return BlurCorruptions.motion(image, level: s, angle: rng.uniform(-45, 45))
        case .zoomBlur: return BlurCorruptions.zoom(image, level: s)
        case .snow: return WeatherCorruptions.snow(image, level: s, rng: &rng)
        case .frost: return WeatherCorruptions.frost(image, level: s, rng: &rng)
        case .fog: return WeatherCorruptions.fog(image, level: s, rng: &rng)
        case .brightness: return DigitalCorruptions.brightness(image, level: s)
        case .contrast: return DigitalCorruptions.contrast(image, level: s)
        case .elasticTransform: return DigitalCorruptions.elastic(image, level: s, rng: &rng)
        case .pixelate: return DigitalCorruptions.pixelate(image, level: s)
        case .jpegCompression: return jpegRoundTrip(image, quality: DigitalCorruptions.jpegQuality[s])
        case .lowLight: return SurveillanceCorruptions.lowLight(image, level: s, rng: &rng)
        case .rain: return SurveillanceCorruptions.rain(image, level: s, rng: &rng)
        case .cameraShake: return SurveillanceCorruptions.cameraShake(image, level: s, rng: &rng)
        case .h264Compression:
            guard let codec else { throw .codecMissing(self) }
            do { return try codec.roundTrip(image, quantizer: Corruption.h264Quantizers[s]) } catch { throw .codecFailed(self, "\(error)") }
        }
    }

    /// Checks a severity given by a user.
    /// - Throws: `CorruptionError.severityOutOfRange` saying which values are allowed.
    public static func validate(severity: Int) throws(CorruptionError) {
        guard severities.contains(severity) else { throw .severityOutOfRange(severity) }
    }
}

/// Why a corruption could not be chosen.
public enum CorruptionError: Error, Equatable, CustomStringConvertible {
    /// No corruption has this name.
    case unknownName(String)
    /// The severity is not 1...5.
    case severityOutOfRange(Int)
    /// The corruption runs a video codec and none was passed.
    case codecMissing(Corruption)
    /// The video codec failed (its message).
    case codecFailed(Corruption, String)

    public var description: String {
        switch self {
        case .unknownName(let n):
            "unknown corruption '\(n)'; use one of: \(Corruption.allCases.map(\.name).joined(separator: ", "))"
        case .severityOutOfRange(let s):
            "corruption severity \(s) is out of range; use an integer from 1 (mild) to 5 (strong)"
        case .codecMissing(let c):
            "the \(c.name) corruption needs a video codec and none was given; pass MediaIO's H264RoundTrip as `codec`"
        case .codecFailed(let c, let message):
            "the \(c.name) corruption failed in its codec: \(message)"
        }
    }
}
