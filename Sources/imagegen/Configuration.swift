import Foundation
import ImagegenAPI
import ImagegenCore
import ImagegenProvider
import ImagegenProviderGate
import ImagegenTelemetry
import ImagegenWorker
import RedisClient

/// The API a worker's provider endpoint speaks.
enum ProviderAPI: Equatable {
    /// OpenAI's Images API, as OpenAI, compatible servers, Azure or Together AI address it.
    case openAI(OpenAIImagesProvider.Dialect)
    /// Google's Gemini `generateContent`.
    case gemini
    /// Replicate's predictions.
    case replicate
}

/// A provider workers call: the name models' routes give it, the API it speaks, where, and
/// with which keys.
struct ProviderEndpoint: Equatable {
    var name: String
    var api: ProviderAPI
    var baseURL: String
    /// The pool workers call with; empty on processes that only read the provider's gate.
    var apiKeys: [String]
    /// Images per minute each of its keys may be asked for, when it differs from PROVIDER_IMAGES_PER_MINUTE.
    var imagesPerMinute: Int?
}

/// Settings read from environment variables; each has a default that matches
/// `scripts/dev`, so a local run needs none of them.
struct Configuration: Sendable {
    var databaseURL: String
    var databaseConnections: Int
    var redisURL: RedisURL
    var redisConnections: Int
    var queueName: String
    /// The default provider (OPENAI_BASE_URL, PROVIDER_DIALECT, named PROVIDER_NAME), which
    /// also runs the models that name no route, then those PROVIDERS names.
    var providers: [ProviderEndpoint]
    var gate: GateSettings
    var providerTimeoutMilliseconds: Int
    /// A provider answer longer than this fails as `response_too_large`.
    var providerMaxResponseBytes: Int
    /// The longest `Retry-After` a provider can make a key wait.
    var providerLongestRetryAfterMilliseconds: Int64
    var host: String
    var port: Int
    var backoff: BackoffPolicy
    /// How long a task may wait to start before it fails as `expired`.
    var taskDeadline: Duration
    var spend: SpendPolicy
    var defaultModel: String
    /// Models this deployment keeps available past their retirement (its provider still serves them).
    var keptModels: Set<String>
    var migrationsDirectory: String
    var logLevel: String
    var logFormat: LogFormat
    var submissionRate: SubmissionRateLimit
    /// Long polls and event streams one user may hold open in one API process.
    var waitersPerUser: Int
    /// An event stream with no change for this long ends.
    var streamIdleTimeout: Duration
    /// Days images are kept after their task finishes; nil keeps them forever.
    var imageRetentionDays: Int?

    struct Problem: Error, CustomStringConvertible {
        let variable: String
        let message: String
        var description: String { "\(variable): \(message)" }
    }

    /// Every variable `fromEnvironment` reads, for `imagegen config` and deployment checks.
    static var variableNames: [String] {
        var names: [String] = []
        _ = try? fromEnvironment([:]) { names.append($0) }
        return names
    }

    /// - Parameter reading: told the name of each variable as it is read.
    static func fromEnvironment(
        _ variables: [String: String] = ProcessInfo.processInfo.environment, reading: (String) -> Void = { _ in }
    ) throws -> Configuration {
        func value(_ name: String) -> String? {
            reading(name)
            return variables[name].flatMap { $0.isEmpty ? nil : $0 }
        }
        func text(_ name: String, _ fallback: String) -> String {
            value(name) ?? fallback
        }
        func number(_ name: String, _ fallback: Int, _ range: ClosedRange<Int>) throws -> Int {
            guard let raw = value(name) else { return fallback }
            guard let value = Int(raw), range.contains(value) else {
                throw Problem(variable: name, message: "expected a whole number from \(range.lowerBound) to \(range.upperBound), got '\(raw)'")
            }
            return value
        }

        let redisText = text("REDIS_URL", "redis://127.0.0.1:56379/0")
        let redisURL: RedisURL
        do {
            redisURL = try RedisURL(parsing: redisText)
        } catch let error as RedisError {
            throw Problem(variable: "REDIS_URL", message: error.message)
        }
        func keyList(_ name: String) -> [String] {
            (value(name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        /// One provider's settings, each variable named by `variable` from its suffix.
        func endpoint(
            name: String, variable: (String) -> String, defaultBaseURL: String, defaultDialect: String, keys: [String],
            ownRateLimit: Bool = false
        ) throws -> ProviderEndpoint {
            let baseURL = text(variable("BASE_URL"), defaultBaseURL)
            guard let parsed = URL(string: baseURL), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
                throw Problem(variable: variable("BASE_URL"), message: "expected an http(s) URL such as https://api.openai.com/v1, got '\(baseURL)'")
            }
            let api: ProviderAPI
            switch text(variable("DIALECT"), defaultDialect) {
            case "openai":
                api = .openAI(.openAI)
            case "together":
                api = .openAI(.together)
            case "azure":
                guard let deployment = value(variable("AZURE_DEPLOYMENT")) else {
                    throw Problem(variable: variable("AZURE_DEPLOYMENT"), message: "the azure dialect needs the deployment's name")
                }
                api = .openAI(.azure(deployment: deployment, apiVersion: text(variable("AZURE_API_VERSION"), "2025-04-01-preview")))
            case "gemini":
                api = .gemini
            case "replicate":
                api = .replicate
            case let other:
                throw Problem(variable: variable("DIALECT"), message: "expected openai, azure, together, gemini or replicate, got '\(other)'")
            }
            // The default provider's rate limit is PROVIDER_IMAGES_PER_MINUTE; another's may differ.
            let imagesPerMinute = ownRateLimit && value(variable("IMAGES_PER_MINUTE")) != nil
                ? try number(variable("IMAGES_PER_MINUTE"), 0, 0...10_000_000) : nil
            return ProviderEndpoint(name: name, api: api, baseURL: baseURL, apiKeys: keys, imagesPerMinute: imagesPerMinute)
        }
        func providerName(_ name: String, variable: String) throws -> String {
            guard name.range(of: "^[a-z][a-z0-9_-]{0,39}$", options: .regularExpression) != nil else {
                throw Problem(variable: variable, message: "a provider name is lower-case letters, digits, '-' and '_', got '\(name)'")
            }
            return name
        }
        let standardVariables = [
            "BASE_URL": "OPENAI_BASE_URL", "DIALECT": "PROVIDER_DIALECT", "AZURE_DEPLOYMENT": "AZURE_OPENAI_DEPLOYMENT",
            "AZURE_API_VERSION": "AZURE_OPENAI_API_VERSION",
        ]
        var providers = [try endpoint(
            name: try providerName(text("PROVIDER_NAME", "openai"), variable: "PROVIDER_NAME"), variable: { standardVariables[$0]! },
            defaultBaseURL: "https://api.openai.com/v1", defaultDialect: "openai",
            keys: [value("OPENAI_API_KEY")].compactMap { $0 } + keyList("OPENAI_API_KEYS")
        )]
        // More providers: PROVIDERS=replicate,backup reads PROVIDER_REPLICATE_BASE_URL, PROVIDER_REPLICATE_API_KEYS, ...
        for name in keyList("PROVIDERS") {
            let name = try providerName(name, variable: "PROVIDERS")
            guard !providers.contains(where: { $0.name == name }) else {
                throw Problem(variable: "PROVIDERS", message: "the provider '\(name)' is named twice")
            }
            let prefix = "PROVIDER_" + name.uppercased().replacingOccurrences(of: "-", with: "_") + "_"
            providers.append(try endpoint(
                name: name, variable: { prefix + $0 }, defaultBaseURL: name == "replicate" ? "https://api.replicate.com/v1" : "",
                defaultDialect: ["azure", "together", "gemini", "replicate"].contains(name) ? name : "openai",
                keys: keyList(prefix + "API_KEYS"), ownRateLimit: true
            ))
        }
        let queueName = text("IMAGEGEN_QUEUE", "images")
        guard queueName.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw Problem(variable: "IMAGEGEN_QUEUE", message: "use letters, digits, '-' and '_' only, got '\(queueName)'")
        }
        let backoff = BackoffPolicy(
            baseMilliseconds: Int64(try number("RETRY_BASE_MS", 2_000, 1...3_600_000)),
            factor: Int64(try number("RETRY_FACTOR", 2, 1...10)),
            capMilliseconds: Int64(try number("RETRY_CAP_MS", 300_000, 1...86_400_000)),
            maxAttempts: try number("RETRY_MAX_ATTEMPTS", 5, 1...100)
        )
        func limit(_ name: String) throws -> MicroDollars? {
            guard let raw = value(name) else { return nil }
            guard let amount = MicroDollars(usd: raw) else {
                throw Problem(variable: name, message: "expected an amount in USD such as 5 or 0.50, got '\(raw)'")
            }
            return amount
        }
        let zoneName = text("SPEND_TIME_ZONE", "UTC")
        guard let timeZone = TimeZone(identifier: zoneName) else {
            throw Problem(variable: "SPEND_TIME_ZONE", message: "expected a time zone name such as UTC or Europe/Berlin, got '\(zoneName)'")
        }
        func imageLimit(_ name: String) throws -> Int? {
            guard value(name) != nil else { return nil }
            return try number(name, 0, 0...1_000_000_000)
        }
        let defaults = UserLimits(
            dailySpend: try limit("DEFAULT_DAILY_LIMIT_USD"), monthlySpend: try limit("DEFAULT_MONTHLY_LIMIT_USD"),
            hourlyImages: try imageLimit("DEFAULT_HOURLY_IMAGE_LIMIT"), dailyImages: try imageLimit("DEFAULT_DAILY_IMAGE_LIMIT")
        )
        let spend = SpendPolicy(defaults: defaults, timeZone: timeZone)
        let providerTimeoutSeconds = try number("PROVIDER_TIMEOUT_SECONDS", 120, 1...3_600)
        let gate = GateSettings(
            imagesPerMinute: try number("PROVIDER_IMAGES_PER_MINUTE", 0, 0...10_000_000),
            keyCooldown: .seconds(try number("PROVIDER_KEY_COOLDOWN_SECONDS", 300, 1...86_400)),
            breakerFailures: try number("BREAKER_FAILURES", 5, 1...10_000),
            breakerWindow: .seconds(try number("BREAKER_WINDOW_SECONDS", 30, 1...86_400)),
            breakerCooldown: .seconds(try number("BREAKER_COOLDOWN_SECONDS", 30, 1...86_400)),
            // A probe that is still waiting for its answer must not be taken for a lost one.
            probeTimeout: .seconds(providerTimeoutSeconds + 5)
        )
        let logLevel = text("LOG_LEVEL", "info")
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) else {
            throw Problem(variable: "LOG_LEVEL", message: "expected trace, debug, info, notice, warning, error or critical, got '\(logLevel)'")
        }
        let formatName = text("LOG_FORMAT", "text")
        guard let logFormat = LogFormat(rawValue: formatName) else {
            throw Problem(variable: "LOG_FORMAT", message: "expected text or json, got '\(formatName)'")
        }
        return Configuration(
            databaseURL: text("DATABASE_URL", "postgresql://postgres@127.0.0.1:55432/imagegen"),
            databaseConnections: try number("DATABASE_CONNECTIONS", 4, 1...256),
            redisURL: redisURL,
            redisConnections: try number("REDIS_CONNECTIONS", 2, 1...256),
            queueName: queueName,
            providers: providers,
            gate: gate,
            providerTimeoutMilliseconds: providerTimeoutSeconds * 1000,
            providerMaxResponseBytes: try number("PROVIDER_MAX_RESPONSE_MB", 64, 1...4_096) << 20,
            providerLongestRetryAfterMilliseconds: Int64(try number("PROVIDER_MAX_RETRY_AFTER_SECONDS", 600, 1...86_400)) * 1000,
            host: text("HOST", "127.0.0.1"),
            port: try number("PORT", 8080, 1...65_535),
            backoff: backoff,
            taskDeadline: .seconds(try number("TASK_DEADLINE_HOURS", 24, 1...8_760) * 3_600),
            spend: spend,
            defaultModel: text("DEFAULT_MODEL", "gpt-image-2"),
            keptModels: Set(text("KEEP_MODELS", "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }),
            migrationsDirectory: text("MIGRATIONS_DIR", "migrations"),
            logLevel: logLevel,
            logFormat: logFormat,
            submissionRate: SubmissionRateLimit(
                perMinute: try number("SUBMIT_RATE_PER_MINUTE", 600, 0...1_000_000),
                burst: try number("SUBMIT_RATE_BURST", 60, 1...1_000_000)
            ),
            waitersPerUser: try number("WAITERS_PER_USER", 16, 1...10_000),
            streamIdleTimeout: .seconds(try number("EVENT_STREAM_IDLE_SECONDS", 300, 1...86_400)),
            imageRetentionDays: Optional(try number("IMAGE_RETENTION_DAYS", 30, 0...36_500)).flatMap { $0 == 0 ? nil : $0 }
        )
    }

    /// How long a stopping worker waits for the provider calls it already made: derived
    /// from the provider timeout, so that a rollout never cuts a paid call off.
    var workerShutdownGrace: Duration {
        Worker.Options.shutdownGrace(providerTimeout: .milliseconds(providerTimeoutMilliseconds))
    }

    /// The commands that hold PostgreSQL connections.
    enum DatabaseClient: String, CaseIterable {
        case serve, worker, migrate, admin
    }

    /// PostgreSQL connections one process opens: the shared pool of DATABASE_CONNECTIONS,
    /// plus the API's LISTEN connection or the worker's heartbeat connection.
    func postgresConnections(of client: DatabaseClient) -> Int {
        switch client {
        case .serve, .worker: databaseConnections + 1
        case .migrate, .admin: databaseConnections
        }
    }

    /// DATABASE_URL with any password hidden, for error messages.
    var redactedDatabaseURL: String {
        guard let at = databaseURL.lastIndex(of: "@"), let scheme = databaseURL.range(of: "://"),
              let colon = databaseURL[scheme.upperBound..<at].firstIndex(of: ":") else { return databaseURL }
        return databaseURL[..<databaseURL.index(after: colon)] + "***" + databaseURL[at...]
    }
}
