import ArgumentParser
import Hummingbird
import Logging
import MockProvider

struct MockProviderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-provider",
        abstract: "Run a stand-in for the OpenAI Images API with fault injection.",
        discussion: """
            Rates are shares of requests from 0 to 1. A prompt may also name a fault itself: \
            [mock:429], [mock:500], [mock:503], [mock:malformed], [mock:bad_base64], [mock:content_policy], \
            [mock:hang], [mock:hold] (until POST /_mock/release), [mock:quota]; add xN (e.g. [mock:500x2]) to fault only its first N calls.
            """
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8089
    @Option(help: "Added latency per request, in milliseconds.") var latencyMs = 0
    @Option(help: "Extra random latency, 0 to this many milliseconds.") var latencyJitterMs = 0
    @Option(name: .customLong("rate-429"), help: "Share of 429 rate_limit_exceeded answers.") var rate429 = 0.0
    @Option(help: "Retry-After seconds sent with 429s.") var retryAfter = 1
    @Option(name: .customLong("rate-500"), help: "Share of 500 answers.") var rate500 = 0.0
    @Option(name: .customLong("rate-503"), help: "Share of 503 answers.") var rate503 = 0.0
    @Option(help: "Share of truncated JSON bodies.") var rateMalformed = 0.0
    @Option(help: "Share of bodies whose image is not base64.") var rateBadBase64 = 0.0
    @Option(help: "Share of content-policy 400s.") var rateContentPolicy = 0.0
    @Option(help: "Share of 429 insufficient_quota answers.") var rateQuota = 0.0
    @Option(help: "Share of requests that hang.") var rateHang = 0.0
    @Option(help: "How long a hanging request hangs, in seconds.") var hangSeconds = 600
    @Option(help: "Pad every PNG to at least this many bytes.") var imageBytes = 0
    @Option(help: "Require this bearer key (default: accept any).") var apiKey: String?
    @Option(help: "Seed for the fault mix.") var seed: UInt64 = 42
    @Option(help: "Images per minute each key may ask for before 429s, as OpenAI's limit (0: none).") var imagesPerMinute = 0
    @Option(help: "Most images a key may ask for at once after a quiet spell (default: a sixth of --images-per-minute).")
    var burstImages = 0
    @Option(help: "Answer 503 to every request for this many milliseconds after the first one.") var outageMs = 0
    @Option(help: "A key whose account is out of credit: it gets 429 insufficient_quota. Repeatable.") var exhaustedKey: [String] = []
    @Flag(help: "Count calls per prompt for GET /_mock/calls (for chaos runs; memory grows with prompts).") var recordCalls = false

    func validate() throws {
        let rates = [rate429, rate500, rate503, rateMalformed, rateBadBase64, rateContentPolicy, rateQuota, rateHang]
        guard rates.allSatisfy({ (0...1).contains($0) }), rates.reduce(0, +) <= 1 else {
            throw ValidationError("each --rate-* must be from 0 to 1 and together at most 1")
        }
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be from 1 to 65535") }
        guard latencyMs >= 0, latencyJitterMs >= 0, hangSeconds >= 0, imageBytes >= 0, retryAfter >= 0, imagesPerMinute >= 0, burstImages >= 0, outageMs >= 0 else {
            throw ValidationError("latencies, --hang-seconds, --image-bytes, --retry-after, --images-per-minute, --burst-images and --outage-ms must not be negative")
        }
    }

    func run() async throws {
        var plan = FaultPlan()
        plan.latencyMilliseconds = latencyMs
        plan.latencyJitterMilliseconds = latencyJitterMs
        plan.retryAfterSeconds = retryAfter
        plan.hangSeconds = hangSeconds
        plan.seed = seed
        plan.imagesPerMinutePerKey = imagesPerMinute
        plan.burstImagesPerKey = burstImages
        plan.exhaustedKeys = Set(exhaustedKey)
        plan.outageMilliseconds = outageMs
        plan.rates = [
            .rateLimited: rate429, .serverError: rate500, .overloaded: rate503, .malformed: rateMalformed,
            .badBase64: rateBadBase64, .contentPolicy: rateContentPolicy, .quota: rateQuota, .hang: rateHang,
        ]
        let server = MockProviderServer(plan: plan, apiKey: apiKey, imageBytes: imageBytes, recordCalls: recordCalls)
        let logger = Logger(label: "imagegen.mock-provider")
        try await server.makeApplication(host: host, port: port, logger: logger).runService()
    }
}
