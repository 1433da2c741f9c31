/// Writes valid PNG files without zlib: 1-bit greyscale pixels in stored
/// (uncompressed) deflate blocks, optionally padded to a target size.
public enum PNGEncoder {
    /// A striped image of `width` × `height`, at least `minimumBytes` long.
    public static func image(width: Int, height: Int, minimumBytes: Int = 0) -> [UInt8] {
        let rowBytes = (width + 7) / 8
        var raw: [UInt8] = []
        raw.reserveCapacity((rowBytes + 1) * height)
        for row in 0..<height {
            raw.append(0)
            let pattern: UInt8 = (row / 32) % 2 == 0 ? 0xf0 : 0x0f
            raw.append(contentsOf: repeatElement(pattern, count: rowBytes))
        }
        var header: [UInt8] = []
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header.append(contentsOf: [1, 0, 0, 0, 0])

        var png: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
        png.appendChunk("IHDR", header)
        png.appendChunk("IDAT", zlibStored(raw))
        let closing = 12
        if png.count + closing + 12 < minimumBytes {
            // A private ancillary chunk that decoders skip: lets the mock send large images cheaply.
            png.appendChunk("prVt", [UInt8](repeating: 0x2a, count: minimumBytes - png.count - closing - 12))
        }
        png.appendChunk("IEND", [])
        return png
    }

    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var output: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let length = min(65_535, data.count - offset)
            let isLast = offset + length == data.count
            output.append(isLast ? 1 : 0)
            output.append(UInt8(length & 0xff))
            output.append(UInt8(length >> 8))
            output.append(UInt8(~length & 0xff))
            output.append(UInt8((~length >> 8) & 0xff))
            output.append(contentsOf: data[offset..<offset + length])
            offset += length
        } while offset < data.count
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        output.appendBigEndian(b << 16 | a)
        return output
    }

    static let crcTable: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xedb8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func crc32(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
        return crc ^ 0xffff_ffff
    }
}

extension [UInt8] {
    fileprivate mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)])
    }

    fileprivate mutating func appendChunk(_ type: String, _ data: [UInt8]) {
        appendBigEndian(UInt32(data.count))
        let typeAndData = Array(type.utf8) + data
        append(contentsOf: typeAndData)
        appendBigEndian(PNGEncoder.crc32(typeAndData))
    }
}
