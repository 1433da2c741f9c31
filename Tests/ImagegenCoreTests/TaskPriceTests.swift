import ImagegenCore
import Testing

@Suite("Token-billed prices: exact charges and reservations that never undershoot")
struct TaskPriceTests {
    static let gptImageRates = TokenRates(textInputPerMillion: 5_000_000, imageInputPerMillion: 10_000_000, outputPerMillion: 40_000_000)

    static func request(prompt: String, n: Int = 1) -> ImageRequest {
        ImageRequest(prompt: prompt, model: "gpt-image-1", size: "1024x1024", quality: "high", style: nil, n: n, endUser: nil)
    }

    @Test("usage is charged per million tokens, rounded up to the micro-dollar")
    func tokenCost() {
        let usage = TokenUsage(textInputTokens: 3, imageInputTokens: 1, outputTokens: 4160)
        // 3 × 5 + 1 × 10 + 4160 × 40 = 166,425 micro-dollars exactly.
        #expect(Self.gptImageRates.cost(of: usage) == MicroDollars(166_425))
        let fractional = TokenRates(textInputPerMillion: 1_250_000, imageInputPerMillion: 0, outputPerMillion: 0)
        // 3 × 1.25 = 3.75 micro-dollars, charged as 4.
        #expect(fractional.cost(of: TokenUsage(textInputTokens: 3, imageInputTokens: 0, outputTokens: 0)) == MicroDollars(4))
    }

    @Test("the reservation adds the prompt's UTF-8 bytes as text tokens to the per-image bound")
    func reservationBoundsTheCharge() {
        let price = TaskPrice(unit: MicroDollars(166_400), tokenRates: Self.gptImageRates)
        let request = Self.request(prompt: "héllo", n: 2)
        // 2 × 166,400 for the images, 6 UTF-8 bytes × 5 for the prompt.
        #expect(price.reservation(for: request) == MicroDollars(332_830))
        let worstCase = TokenUsage(textInputTokens: 6, imageInputTokens: 0, outputTokens: 2 * 4160)
        #expect(price.charge(images: 2, usage: worstCase) <= price.reservation(for: request))
    }

    @Test("without reported usage, or for a per-image model, the charge is the unit price per image received")
    func perImageFallback() {
        let tokenBilled = TaskPrice(unit: MicroDollars(166_400), tokenRates: Self.gptImageRates)
        #expect(tokenBilled.charge(images: 2, usage: nil) == MicroDollars(332_800))
        let perImage = TaskPrice(unit: MicroDollars(40_000))
        let usage = TokenUsage(textInputTokens: 10, imageInputTokens: 0, outputTokens: 10)
        #expect(perImage.charge(images: 1, usage: usage) == MicroDollars(40_000))
        #expect(perImage.reservation(for: Self.request(prompt: "a long prompt that costs nothing extra")) == MicroDollars(40_000))
    }
}
