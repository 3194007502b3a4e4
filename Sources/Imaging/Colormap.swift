/// Maps a value in 0...1 to a colour through a 256-entry table.
///
/// Layout: `table[i * 3 + c]` for entry `i` in 0...255 (value `i / 255`), channel `c`.
public struct Colormap: Sendable, Equatable {
    /// Name as accepted by `Colormap(named:)`.
    public let name: String
    /// 256 entries x 3 channels.
    public let table: [UInt8]

    /// A colormap from a function of 0...1 returning RGB in 0...1 (clamped).
    public init(name: String, _ f: (Double) -> (Double, Double, Double)) {
        var t = [UInt8](repeating: 0, count: 256 * 3)
        for i in 0..<256 {
            let (r, g, b) = f(Double(i) / 255)
            t[i * 3] = Colormap.byte(r); t[i * 3 + 1] = Colormap.byte(g); t[i * 3 + 2] = Colormap.byte(b)
        }
        self.name = name
        self.table = t
    }

    /// `.turbo`, `.jet` or `.gray` by name; nil for anything else.
    public init?(named name: String) {
        switch name.lowercased() {
        case "turbo": self = .turbo
        case "jet": self = .jet
        case "gray", "grey": self = .gray
        default: return nil
        }
    }

    /// Names `init(named:)` accepts.
    public static let names = ["turbo", "jet", "gray"]

    /// The table index of `value`: clamped to 0...1 (NaN counts as 0), then rounded to 1/255.
    @inlinable
    public static func entry(_ value: Float) -> Int {
        let v = value * 255 + 0.5
        return v >= 1 ? (v >= 255 ? 255 : Int(v)) : 0   // NaN fails both comparisons -> 0
    }

    /// The colour of `value` (clamped to 0...1; NaN maps like 0).
    public func color(_ value: Float) -> RGBColor {
        let i = Colormap.entry(value) * 3
        return RGBColor(table[i], table[i + 1], table[i + 2])
    }

    static func byte(_ x: Double) -> UInt8 { UInt8(min(max(x, 0), 1) * 255 + 0.5) }

    /// Google's Turbo (Mikhailov 2019), from its published degree-5 polynomial approximation (Ruofei Du's
    /// fit): dark blue at 0 through cyan, green and yellow to dark red at 1.
    public static let turbo = Colormap(name: "turbo") { Colormap.turboPolynomial($0) }

    /// The Turbo polynomial at `x` in 0...1, RGB in 0...1 before clamping.
    public static func turboPolynomial(_ x: Double) -> (Double, Double, Double) {
        let r = 0.13572138 + x * (4.61539260 + x * (-42.66032258 + x * (132.13108234 + x * (-152.94239396 + x * 59.28637943))))
        let g = 0.09140261 + x * (2.19418839 + x * (4.84296658 + x * (-14.18503333 + x * (4.27729857 + x * 2.82956604))))
        let b = 0.10667330 + x * (12.64194608 + x * (-60.58204836 + x * (110.36276771 + x * (-89.90310912 + x * 27.34824973))))
        return (r, g, b)
    }

    /// MATLAB's classic jet: dark blue, blue, cyan, yellow, red, dark red; piecewise linear.
    public static let jet = Colormap(name: "jet") { x in
        (1.5 - abs(4 * x - 3), 1.5 - abs(4 * x - 2), 1.5 - abs(4 * x - 1))
    }

    /// Black at 0 to white at 1.
    public static let gray = Colormap(name: "gray") { x in (x, x, x) }
}
