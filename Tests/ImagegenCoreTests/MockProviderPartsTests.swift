import ImagegenCore
@testable import MockProvider
import Testing

@Suite("The mock provider's images and fault directives")
struct MockProviderPartsTests {
    @Test("generated PNGs have the requested size and valid chunk checksums", arguments: [(256, 256), (1792, 1024), (1024, 1536)])
    func pngDimensions(_ width: Int, _ height: Int) {
        let png = PNGEncoder.image(width: width, height: height)
        let image = ImageInspector.inspect(png)
        #expect(image == ImageInspector.Image(mediaType: "image/png", width: width, height: height))
        var offset = 8
        var chunks: [String] = []
        while offset < png.count {
            let length = png[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let typeAndData = Array(png[offset + 4..<offset + 8 + length])
            let stored = png[offset + 8 + length..<offset + 12 + length].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            #expect(PNGEncoder.crc32(typeAndData) == stored)
            chunks.append(String(decoding: typeAndData.prefix(4), as: UTF8.self))
            offset += 12 + length
        }
        #expect(chunks == ["IHDR", "IDAT", "IEND"])
    }

    @Test("padding makes an image at least the asked size and still a PNG")
    func padding() {
        let png = PNGEncoder.image(width: 64, height: 64, minimumBytes: 1_500_000)
        #expect(png.count >= 1_500_000 && png.count < 1_500_100)
        #expect(ImageInspector.inspect(png)?.width == 64)
    }

    @Test("the stored-block zlib stream carries the right Adler-32")
    func adler() {
        let stream = PNGEncoder.zlibStored(Array("Wikipedia".utf8))
        #expect(Array(stream.suffix(4)) == [0x11, 0xe6, 0x03, 0x98])
    }

    @Test("prompt directives pick a fault, optionally for the first N calls only")
    func directives() {
        #expect(FaultPlan.directive(in: "a cat [mock:500]", call: 7) == .serverError)
        #expect(FaultPlan.directive(in: "a cat [mock:500x2]", call: 2) == .serverError)
        #expect(FaultPlan.directive(in: "a cat [mock:500x2]", call: 3) == nil)
        #expect(FaultPlan.directive(in: "[mock:content_policy]", call: 1) == .contentPolicy)
        #expect(FaultPlan.directive(in: "a cat", call: 1) == nil)
        #expect(FaultPlan.directive(in: "[mock:nonsense]", call: 1) == nil)
    }

    @Test("non-images are not taken for images")
    func inspectorRejects() {
        #expect(ImageInspector.inspect(Array("not an image at all, really".utf8)) == nil)
        #expect(ImageInspector.inspect([]) == nil)
        #expect(ImageInspector.inspect([0xff, 0xd8, 0xff, 0xe0])?.mediaType == "image/jpeg")
    }
}
