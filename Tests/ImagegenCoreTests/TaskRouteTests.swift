import Foundation
import ImagegenCore
@testable import ImagegenProviderGate
@testable import ImagegenWorker
import Testing

@Suite("Routes: which providers a task may run on, and which one an attempt takes")
struct TaskRouteTests {
    private static func model(
        _ name: String, tier: String?, routes: [ModelRoute], sizes: [String] = ["1024x1024"], maxImages: Int = 4, retired: Bool = false
    ) -> ModelSpec {
        ModelSpec(
            name: name, maxPromptCharacters: 1000, maxImages: maxImages, sizes: sizes, qualities: ["standard"], styles: [],
            defaultSize: sizes[0], defaultQuality: "standard", acceptsResponseFormat: false,
            retirement: retired ? Retirement(day: "2026-01-01", replacement: nil, hasBegun: true) : nil, routes: routes, tier: tier
        )
    }

    private static let catalog = ModelCatalog(
        models: [
            model("fast-a", tier: "fast", routes: [ModelRoute(provider: "openai"), ModelRoute(provider: "azure", providerModel: "fast-a-eu")]),
            model("fast-b", tier: "fast", routes: [ModelRoute(provider: "replicate", providerModel: "owner/fast-b")]),
            // Same tier, but it cannot take a 1024x1024 request of 3 images as it is.
            model("fast-c", tier: "fast", routes: [ModelRoute(provider: "together")], maxImages: 1),
            model("fast-old", tier: "fast", routes: [ModelRoute(provider: "openai")], retired: true),
            model("slow", tier: "slow", routes: [ModelRoute(provider: "openai")]),
            model("plain", tier: nil, routes: []),
        ],
        prices: [
            PriceKey(model: "fast-a", size: "1024x1024", quality: "standard"): MicroDollars(10_000),
            PriceKey(model: "fast-b", size: "1024x1024", quality: "standard"): MicroDollars(3_000),
            PriceKey(model: "fast-c", size: "1024x1024", quality: "standard"): MicroDollars(1_000),
            PriceKey(model: "fast-old", size: "1024x1024", quality: "standard"): MicroDollars(1_000),
            PriceKey(model: "slow", size: "1024x1024", quality: "standard"): MicroDollars(1_000),
            PriceKey(model: "plain", size: "1024x1024", quality: "standard"): MicroDollars(5_000),
        ]
    )

    private func request(_ model: String, n: Int = 3) -> ImageRequest {
        ImageRequest(prompt: "a fox", model: model, size: "1024x1024", quality: "standard", style: nil, n: n, endUser: nil)
    }

    private func routes(_ model: String, n: Int = 3, fallback: Bool) -> [TaskRoute] {
        let request = request(model, n: n)
        return Self.catalog.routes(for: request, price: Self.catalog.price(of: request)!, fallback: fallback)
    }

    @Test("without fallback a task has its model's first route only")
    func ownRouteOnly() {
        #expect(routes("fast-a", fallback: false) == [TaskRoute(provider: "openai", model: "fast-a", providerModel: nil, unitPrice: MicroDollars(10_000))])
        #expect(routes("plain", fallback: false) == [TaskRoute(provider: nil, model: "plain", providerModel: nil, unitPrice: MicroDollars(5_000))])
    }

    @Test("with fallback: the model's own routes, then the tier's other available models that take the request, each at its own price")
    func fallbackRoutes() {
        #expect(routes("fast-a", fallback: true) == [
            TaskRoute(provider: "openai", model: "fast-a", providerModel: nil, unitPrice: MicroDollars(10_000)),
            TaskRoute(provider: "azure", model: "fast-a", providerModel: "fast-a-eu", unitPrice: MicroDollars(10_000)),
            TaskRoute(provider: "replicate", model: "fast-b", providerModel: "owner/fast-b", unitPrice: MicroDollars(3_000)),
        ])
        // One image fits fast-c too.
        #expect(routes("fast-a", n: 1, fallback: true).map(\.model) == ["fast-a", "fast-a", "fast-b", "fast-c"])
        // No tier: only the model's own routes.
        #expect(routes("plain", fallback: true).map(\.model) == ["plain"])
    }

    @Test("a route's JSON is what tasks.routes holds and the worker's SQL reads")
    func routeJSON() throws {
        let route = TaskRoute(provider: "replicate", model: "fast-b", providerModel: "owner/fast-b", unitPrice: MicroDollars(3_000))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try encoder.encode(route), as: UTF8.self)
            == #"{"model":"fast-b","provider":"replicate","provider_model":"owner\/fast-b","unit_price_micro_usd":3000}"#)
    }

    @Test("an attempt takes a route that admits it, moves on from one that is down, waits out a rate limit where it is")
    func choice() {
        let admitted = GateDecision.admitted(Admission(keyID: "k", isProbe: false, failuresPending: false, waited: .zero))
        #expect(RouteChoice.step(after: admitted, isLast: false) == .take)
        for down in ["breaker_open", "breaker_probe", "out_of_quota", "key_rejected"] {
            #expect(RouteChoice.step(after: .wait(.seconds(30), reason: down), isLast: false) == .next, "\(down)")
            #expect(RouteChoice.step(after: .wait(.seconds(30), reason: down), isLast: true) == .waitAtFirst, "\(down)")
        }
        #expect(RouteChoice.step(after: .wait(.milliseconds(200), reason: "rate_limited"), isLast: false) == .waitHere)
    }
}
