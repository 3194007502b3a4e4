import CAVUtil

/// A rational number such as a frame rate (30000/1001) or a time base (1/90000), as FFmpeg's `AVRational`.
///
/// Encodes to JSON as `{"num": 30000, "den": 1001}`.
public struct Rational: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Numerator.
    public var num: Int
    /// Denominator; 0 means unknown.
    public var den: Int

    /// Makes `num/den`.
    public init(_ num: Int, _ den: Int) {
        self.num = num
        self.den = den
    }

    init(_ r: AVRational) {
        self.init(Int(r.num), Int(r.den))
    }

    var av: AVRational { AVRational(num: Int32(truncatingIfNeeded: num), den: Int32(truncatingIfNeeded: den)) }

    /// The value as a `Double`, or `nil` when the denominator or numerator is 0 (unknown).
    public var value: Double? {
        guard den != 0, num != 0 else { return nil }
        return Double(num) / Double(den)
    }

    /// `"num/den"`.
    public var description: String { "\(num)/\(den)" }
}
