import CPNG

/// A failure of libpng's simplified `png_image` API, with the file it concerned and what to do about it.
public struct PNGError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What Vigil was doing.
    public enum Operation: String, Sendable {
        case read, write, encode
    }

    /// libpng's `warning_or_error` bits (`PNG_IMAGE_WARNING`, `PNG_IMAGE_ERROR`); 0 when the failure was
    /// detected before libpng ran.
    public var code: UInt32
    /// What Vigil was doing.
    public var operation: Operation
    /// The file concerned, nil for in-memory encoding.
    public var path: String?
    /// libpng's own message (`png_image.message`), or Vigil's when libpng gave none.
    public var message: String

    /// libpng reported a warning only.
    public static let warning = UInt32(PNG_IMAGE_WARNING)
    /// libpng reported an error.
    public static let error = UInt32(PNG_IMAGE_ERROR)

    public init(code: UInt32, operation: Operation, path: String?, message: String) {
        self.code = code; self.operation = operation; self.path = path; self.message = message
    }

    public var description: String {
        switch operation {
        case .read:
            return "cannot read PNG '\(path ?? "?")': \(message); check that the file exists, is readable and is a PNG"
        case .write:
            return "cannot write PNG '\(path ?? "?")': \(message); check that the folder exists, is writable and has free space"
        case .encode:
            return "cannot encode PNG in memory: \(message)"
        }
    }

    /// Throws when a `png_image_*` call returned 0 (failure), with the image's message; frees the image's
    /// internal state in that case.
    /// - Wraps: the return value and `png_image.message` of libpng's simplified API.
    static func check(_ result: Int32, _ image: inout png_image, _ operation: Operation, path: String?) throws(PNGError) {
        if result != 0 { return }
        let message = withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        let code = image.warning_or_error
        png_image_free(&image)
        throw PNGError(code: code, operation: operation, path: path, message: message.isEmpty ? "libpng failed without a message" : "libpng: \(message)")
    }
}
