import ArgumentParser
import CurlClient
import ImagegenProvider
import ImagegenStore
import ImagegenWorker
import ServiceLifecycle

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run a worker that takes tasks from the queue and calls the provider."
    )

    @Option(help: "How many tasks this process works on at once.")
    var concurrency: Int = 16

    func validate() throws {
        guard (1...10_000).contains(concurrency) else { throw ValidationError("--concurrency must be from 1 to 10000") }
    }

    func run() async throws {
        let runtime = try await Runtime.start(label: "imagegen.worker")
        let configuration = runtime.configuration
        guard let apiKey = configuration.openAIAPIKey else {
            throw StartupFailure(description: "OPENAI_API_KEY: not set; the worker needs a provider key (any value for the mock provider)")
        }
        let queue = try await runtime.connectQueue()
        if let policy = try? await queue.evictionPolicy(), policy != "noeviction" {
            runtime.logger.warning(
                "Redis maxmemory-policy is \(policy): queue keys may be evicted under memory pressure; set it to noeviction"
            )
        }
        let provider = OpenAIImagesProvider(
            client: CurlMultiClient(), baseURL: configuration.openAIBaseURL, apiKey: apiKey,
            timeoutMilliseconds: configuration.providerTimeoutMilliseconds
        )
        let worker = Worker(
            queue: queue,
            processor: TaskProcessor(tasks: TaskStore(database: runtime.database), queue: queue, provider: provider, logger: runtime.logger),
            options: .init(concurrency: concurrency),
            logger: runtime.logger
        )
        let group = ServiceGroup(
            services: [WorkerService(worker: worker)], gracefulShutdownSignals: [.sigterm, .sigint], logger: runtime.logger
        )
        try await group.run()
    }
}

/// Stops leasing on SIGTERM/SIGINT and lets running attempts finish.
private struct WorkerService: Service {
    let worker: Worker

    func run() async throws {
        await cancelWhenGracefulShutdown { await worker.run() }
    }
}
