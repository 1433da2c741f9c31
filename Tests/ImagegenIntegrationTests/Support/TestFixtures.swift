import CurlClient
import Foundation
import ImagegenCore
import ImagegenProvider
import ImagegenQueue
import ImagegenStore

extension Submission {
    /// The task the submission created or pointed back to.
    var taskID: UUID {
        switch self {
        case .created(let id, _), .replayed(let id, _), .keyReused(let id): id
        }
    }
}

extension TaskQueue {
    /// Ready, delayed and in-flight counts, for compact assertions.
    func depth() async throws -> (ready: Int, delayed: Int, inflight: Int) {
        let stats = try await stats()
        return (stats.ready, stats.delayed, stats.inflight)
    }
}

extension TaskStore {
    /// Inserts a queued dall-e-3 task at $0.04 an image without enqueuing it; no test worker
    /// serves the default queue. The store does not validate, so ledger tests, which never
    /// reach the provider, may ask for more images than dall-e-3 takes.
    func createTask(
        userID: UUID, prompt: String = "p", n: Int = 1, maxAttempts: Int = 3, queue: String = "unserved"
    ) async throws -> UUID {
        let request = ImageRequest(prompt: prompt, model: "dall-e-3", size: "1024x1024", quality: "standard", style: nil, n: n, endUser: nil)
        let route = TaskRoute(provider: "openai", model: "dall-e-3", providerModel: nil, unitPrice: MicroDollars(40_000))
        return try await create(
            userID: userID, request: request, unitPrice: MicroDollars(40_000), routes: [route], maxAttempts: maxAttempts, queue: queue
        ).taskID
    }
}

extension Database {
    /// Adds a model that only this test uses, priced at `unitPrice` (or unpriced), and returns its name.
    func addModel(prefix: String, unitPrice: Int64?) async throws -> String {
        let model = "\(prefix)-\(UUID().uuidString.prefix(6).lowercased())"
        try await run { connection in
            try connection.query(
                """
                INSERT INTO models (name, max_prompt_characters, max_images, sizes, qualities, default_size, default_quality)
                VALUES ($1, 1000, 1, '{1024x1024}', '{standard}', '1024x1024', 'standard')
                """,
                [.text(model)]
            )
            if let unitPrice {
                try connection.query(
                    "INSERT INTO prices (model, size, quality, unit_price_micro_usd) VALUES ($1, '1024x1024', 'standard', $2)",
                    [.text(model), .int(unitPrice)]
                )
            }
        }
        return model
    }
}

/// The API the system's provider speaks in a test.
enum TestProviderAPI {
    case openAI(OpenAIImagesProvider.Dialect)
    case gemini
    case replicate

    /// The base URL's path: OpenAI's and Replicate's version path, none for Azure (its base
    /// URL is the resource's endpoint), Gemini's `v1beta`.
    var versionPath: String {
        switch self {
        case .openAI(.azure): ""
        case .openAI, .replicate: "/v1"
        case .gemini: "/v1beta"
        }
    }

    /// The client for this API, as `imagegen worker` makes it, with the tests' limits.
    func provider(client: CurlMultiClient, baseURL: String, apiKeys: [String]) -> any ImageProvider {
        switch self {
        case .openAI(let dialect):
            OpenAIImagesProvider(
                client: client, baseURL: baseURL, apiKeys: apiKeys, timeoutMilliseconds: 60_000,
                maxResponseBytes: RunningSystem.providerMaxResponseBytes, longestRetryAfterMilliseconds: 2_000, dialect: dialect
            )
        case .gemini:
            GeminiImagesProvider(
                client: client, baseURL: baseURL, apiKeys: apiKeys, timeoutMilliseconds: 60_000,
                maxResponseBytes: RunningSystem.providerMaxResponseBytes, longestRetryAfterMilliseconds: 2_000
            )
        case .replicate:
            // Polls often: a test's predictions end within a few polls.
            ReplicateImagesProvider(
                client: client, baseURL: baseURL, apiKeys: apiKeys, timeoutMilliseconds: 60_000,
                maxResponseBytes: RunningSystem.providerMaxResponseBytes, longestRetryAfterMilliseconds: 2_000,
                pollInterval: .milliseconds(20)
            )
        }
    }
}
