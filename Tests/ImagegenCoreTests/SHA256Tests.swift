import ImagegenCore
import Testing

@Suite("SHA-256 (swift-crypto behind ImagegenCore.SHA256) matches the FIPS 180-4 test vectors")
struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func vector(_ input: String, _ digest: String) {
        #expect(SHA256.hash(Array(input.utf8)).hexString == digest)
    }

    @Test("a million 'a's (many blocks)")
    func longInput() {
        #expect(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000)).hexString
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("API keys are random, prefixed and 256 bits long")
    func apiKeys() {
        let first = APIKey.generate()
        let second = APIKey.generate()
        #expect(first.secret != second.secret)
        #expect(first.secret.hasPrefix("ig_"))
        #expect(first.secret.count == 3 + 64)
        #expect(first.digest == SHA256.hash(Array(first.secret.utf8)))
        #expect(first.displayPrefix.count == 9)
    }
}
