/// Recognises the image formats the provider returns and reads their dimensions.
public enum ImageInspector {
    public struct Image: Sendable, Equatable {
        public let mediaType: String
        public let width: Int?
        public let height: Int?

        public init(mediaType: String, width: Int?, height: Int?) {
            self.mediaType = mediaType
            self.width = width
            self.height = height
        }
    }

    private static let pngSignature: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

    /// The image `bytes` hold, or nil when they are not a PNG, JPEG or WebP image.
    public static func inspect(_ bytes: [UInt8]) -> Image? {
        if bytes.count >= 33, Array(bytes[0..<8]) == pngSignature, Array(bytes[12..<16]) == Array("IHDR".utf8) {
            let width = bigEndian(bytes, at: 16)
            let height = bigEndian(bytes, at: 20)
            guard width > 0, height > 0 else { return nil }
            return Image(mediaType: "image/png", width: width, height: height)
        }
        if bytes.count >= 4, bytes[0] == 0xff, bytes[1] == 0xd8, bytes[2] == 0xff {
            return Image(mediaType: "image/jpeg", width: nil, height: nil)
        }
        if bytes.count >= 16, Array(bytes[0..<4]) == Array("RIFF".utf8), Array(bytes[8..<12]) == Array("WEBP".utf8) {
            return Image(mediaType: "image/webp", width: nil, height: nil)
        }
        return nil
    }

    private static func bigEndian(_ bytes: [UInt8], at offset: Int) -> Int {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
    }
}
