import CPNG

/// Writes `RGBImage`s as 8-bit RGB PNG through libpng's simplified `png_image` API.
public enum PNGWriter {
    /// Writes `image` to `path` (created or replaced).
    /// - Throws: `PNGError` naming the path when the file cannot be created or written.
    /// - Wraps: `png_image_write_to_file`.
    public static func write(_ image: RGBImage, to path: String) throws(PNGError) {
        try validate(image, .write, path: path)
        var png = header(image)
        let result = image.pixels.withUnsafeBytes { buf in
            png_image_write_to_file(&png, path, 0, buf.baseAddress, Int32(image.stride), nil)
        }
        try PNGError.check(result, &png, .write, path: path)
    }

    /// The PNG file bytes of `image`, e.g. for a base64 data URI.
    /// - Throws: `PNGError` when libpng fails.
    /// - Wraps: `png_image_write_to_memory`, called once for the size and once to fill the buffer.
    public static func encode(_ image: RGBImage) throws(PNGError) -> [UInt8] {
        try validate(image, .encode, path: nil)
        var png = header(image)
        var size: png_alloc_size_t = 0
        // First call: no buffer, libpng reports the size needed.
        let sized = image.pixels.withUnsafeBytes { buf in
            png_image_write_to_memory(&png, nil, &size, 0, buf.baseAddress, Int32(image.stride), nil)
        }
        try PNGError.check(sized, &png, .encode, path: nil)
        var out = [UInt8](repeating: 0, count: Int(size))
        png = header(image)
        let written = image.pixels.withUnsafeBytes { buf in
            out.withUnsafeMutableBytes { dst in
                png_image_write_to_memory(&png, dst.baseAddress, &size, 0, buf.baseAddress, Int32(image.stride), nil)
            }
        }
        try PNGError.check(written, &png, .encode, path: nil)
        out.removeLast(out.count - Int(size))
        return out
    }

    static func header(_ image: RGBImage) -> png_image {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        png.format = UInt32(PNG_FORMAT_RGB)
        return png
    }

    static func validate(_ image: RGBImage, _ op: PNGError.Operation, path: String?) throws(PNGError) {
        if image.width <= 0 || image.height <= 0 {
            throw PNGError(code: 0, operation: op, path: path, message: "a PNG cannot be \(image.width)x\(image.height) pixels")
        }
    }
}

/// Reads PNG files into `RGBImage`s through libpng's simplified `png_image` API.
public enum PNGReader {
    /// Reads the PNG at `path` as 8-bit RGB: grey is expanded, 16-bit is reduced, palettes are applied, and
    /// an alpha channel is composited onto black.
    /// - Throws: `PNGError` naming the path when the file is missing, unreadable or not a PNG.
    /// - Wraps: `png_image_begin_read_from_file`, `png_image_finish_read`.
    public static func read(_ path: String) throws(PNGError) -> RGBImage {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        try PNGError.check(png_image_begin_read_from_file(&png, path), &png, .read, path: path)
        png.format = UInt32(PNG_FORMAT_RGB)
        let w = Int(png.width), h = Int(png.height)
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        var black = png_color(red: 0, green: 0, blue: 0)
        let result = pixels.withUnsafeMutableBytes { buf in
            png_image_finish_read(&png, &black, buf.baseAddress, Int32(w * 3), nil)
        }
        try PNGError.check(result, &png, .read, path: path)
        return RGBImage(width: w, height: h, pixels: pixels)
    }
}
