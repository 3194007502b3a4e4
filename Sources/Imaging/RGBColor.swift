/// An 8-bit RGB colour.
public struct RGBColor: Sendable, Hashable, Codable {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }

    /// The colour as the tuple `RGBImage`'s subscript uses.
    public var tuple: (UInt8, UInt8, UInt8) { (r, g, b) }

    public static let black = RGBColor(0, 0, 0)
    public static let white = RGBColor(255, 255, 255)
    public static let red = RGBColor(230, 40, 40)
    public static let green = RGBColor(40, 200, 70)
    public static let yellow = RGBColor(250, 210, 30)
    public static let orange = RGBColor(250, 140, 20)
    public static let cyan = RGBColor(40, 210, 230)
    public static let gray = RGBColor(128, 128, 128)
}
