import BlockingIO
import ImagegenCore
import Logging
import RedisClient
import Synchronization

/// Decides when a worker may call the provider, and with which key, for every worker at once.
///
/// Three things are shared through Redis by all workers calling one provider endpoint:
/// - a token bucket of images per minute for each provider key;
/// - each key's time out: after a 429 (for `Retry-After`) or `insufficient_quota` (for the
///   key cool-down) every worker leaves that key alone and the other keys carry on;
/// - a circuit breaker: after repeated failures calls wait out a cool-down, then a single
///   probe call decides whether they resume.
///
/// Calls that wait do so before their attempt starts, so waiting never fails a task or uses up an attempt.
public final class ProviderGate: Sendable {
    public let settings: GateSettings
    private let keys: GateKeys
    private let keyIDs: [String]
    private let connection: LanePool<RedisConnection>
    private let turnstile = Turnstile()
    /// Redis connections the gate's calls spread over.
    static let connections = 4
    /// Calls that ask at the same moment (a worker's leased batch starting) are decided in one
    /// script run, in the order they asked, rather than a round trip and two thread hops each.
    private let decisions: Batcher<Int, GateDecision>
    private let clock: RedisClock
    private let logger: Logger

    /// - Parameters:
    ///   - endpoint: the provider's base URL; workers calling the same one share a gate.
    ///   - keyIDs: fingerprints of the provider keys this worker can call with; none to read `status()` only.
    ///   - clock: where the gate's scripts read the time; Redis' own outside tests.
    public init(endpoint: String, keyIDs: [String], settings: GateSettings, url: RedisURL, logger: Logger, clock: RedisClock = .server) {
        self.settings = settings
        self.clock = clock
        self.keys = GateKeys(endpoint: SHA256.fingerprint(endpoint))
        self.keyIDs = keyIDs
        // Several connections, so that a wave of calls admitted at once overlaps its round trips;
        // each script is atomic, so they need no order among them.
        let connection = LanePool(
            label: "imagegen.redis.gate", resources: (0..<Self.connections).map { _ in RedisConnection(url: url, logger: logger) }
        )
        self.connection = connection
        let admissions = AdmitScript(keys: keys, keyIDs: keyIDs, settings: settings, connection: connection, clock: clock)
        self.decisions = Batcher(concurrency: Self.connections, maxCount: 128) { try await admissions.decide($0) }
        self.logger = logger
    }

    /// Waits until a call of `images` images may go, and names the key to make it with.
    /// Throws `CancellationError` if cancelled while waiting.
    public func admit(images: Int) async throws -> Admission {
        // While no call waits in line, each asks at once, and the calls asking together are
        // decided in one script run (`decisions`), not one round trip and two thread hops after
        // another. The first call told to wait starts the line, and the calls after it join it.
        if turnstile.isIdle, case .admitted(let admission) = try await decide(images: images) { return admission }
        await turnstile.enter()
        defer { turnstile.leave() }
        let started = ContinuousClock.now
        var firstReason: String?
        while true {
            try Task.checkCancellation()
            switch try await decide(images: images) {
            case .admitted(let admission):
                let waited = ContinuousClock.now - started
                if let firstReason { GateMetrics.waited(waited, reason: firstReason) }
                return Admission(keyID: admission.keyID, isProbe: admission.isProbe, failuresPending: admission.failuresPending, waited: waited)
            case .wait(let wait, let reason):
                if firstReason == nil, reason.hasPrefix("breaker") {
                    logger.debug("the provider's circuit breaker is open; waiting", metadata: ["wait_ms": "\(wait.milliseconds)"])
                }
                firstReason = firstReason ?? reason
                // Re-read now and then: another worker's probe may close the breaker early.
                try await Task.sleep(for: min(max(wait, .milliseconds(1)), .seconds(5)))
            }
        }
    }

    /// One look at the shared state: admits a call of `images` images now, or says how long
    /// until one could go and why. It never waits itself.
    public func decide(images: Int) async throws -> GateDecision {
        try await decisions.submit(images)
    }

    /// Records how an admitted call went: pauses or sets aside its key, counts failures
    /// towards the breaker, and closes or reopens the breaker after a probe.
    public func report(_ outcome: CallOutcome, of admission: Admission) async throws {
        let name: String
        var asideMilliseconds: Int64 = 0
        switch outcome {
        case .answered:
            guard admission.isProbe || admission.failuresPending else { return }
            name = "healthy"
        case .failed:
            name = "failed"
        case .rateLimited(let retryAfter):
            name = "rate_limited"
            asideMilliseconds = (retryAfter ?? settings.defaultRetryAfter).milliseconds
        case .outOfQuota:
            name = "out_of_quota"
            asideMilliseconds = settings.keyCooldown.milliseconds
        case .keyRejected:
            name = "key_rejected"
            asideMilliseconds = settings.keyCooldown.milliseconds
        case .abandoned:
            guard admission.isProbe else { return }
            name = "unknown"
        }
        let scriptKeys = [keys.breaker, keys.providerKey(admission.keyID)]
        let arguments = [
            name, String(asideMilliseconds), String(settings.breakerFailures), String(settings.breakerWindow.milliseconds),
            String(settings.breakerCooldown.milliseconds), admission.isProbe ? "1" : "0",
        ]
        let clock = self.clock
        let reply = try await connection.withResource { connection in
            try connection.evaluate(GateScripts.report, clock: clock, keys: scriptKeys, arguments: arguments).array
        }
        if asideMilliseconds > 0 {
            GateMetrics.keySetAside(reason: name)
            logger.warning(
                "provider key set aside", metadata: ["key": "\(admission.keyID)", "reason": "\(name)", "for_ms": "\(asideMilliseconds)"]
            )
        }
        if reply.count == 2, reply[1].integer == 1, let state = reply[0].text.flatMap(BreakerState.init) {
            GateMetrics.breakerChanged(to: state)
            if state == .open {
                logger.error(
                    "provider circuit breaker opened: calls wait, tasks keep their attempts",
                    metadata: ["cooldown_ms": "\(settings.breakerCooldown.milliseconds)"]
                )
            } else {
                logger.notice("provider circuit breaker closed: calls resume")
            }
        }
    }

    /// The breaker and every provider key any worker has used at this endpoint.
    public func status() async throws -> GateStatus {
        let keys = self.keys, settings = self.settings, clock = self.clock
        let values = try await connection.withResource { connection -> [RedisValue] in
            let ids = try connection.command(["SMEMBERS", keys.keyIDs]).array.compactMap(\.text).sorted()
            return try connection.evaluate(
                GateScripts.status, clock: clock, keys: [keys.breaker] + ids.map(keys.providerKey),
                arguments: [String(settings.imagesPerMinute), String(settings.burstImages)] + ids
            ).array
        }
        guard values.count >= 4, (values.count - 4) % 4 == 0 else { throw RedisError(.reply, "unexpected reply to the gate's status script") }
        let providerKeys = stride(from: 4, to: values.count, by: 4).map { index in
            let tokens = values[index + 1].integer ?? -1
            return ProviderKeyStatus(
                id: values[index].text ?? "", tokens: settings.imagesPerMinute > 0 ? Int(tokens) : nil,
                asideMilliseconds: values[index + 2].integer ?? 0, asideReason: values[index + 3].text.flatMap { $0.isEmpty ? nil : $0 }
            )
        }
        return GateStatus(
            breaker: values[0].text.flatMap(BreakerState.init) ?? .closed, openMilliseconds: values[1].integer ?? 0,
            timesOpened: Int(values[2].integer ?? 0), failures: Int(values[3].integer ?? 0), keys: providerKeys
        )
    }

    /// Reads the status into the breaker and key gauges, for a metrics scrape.
    public func recordGauges() async {
        if let status = try? await status() { GateMetrics.record(status) }
    }
}

extension Array {
    fileprivate subscript(safe index: Int) -> Element? {
        indices.contains(index) ? self[index] : nil
    }
}

/// The admit script for the calls decided together, in the order they asked.
private final class AdmitScript: Sendable {
    private let keys: GateKeys
    private let keyIDs: [String]
    private let settings: GateSettings
    private let connection: LanePool<RedisConnection>
    private let clock: RedisClock
    /// Where the next call starts in the key list, so that calls spread over the keys.
    private let rotation = Atomic<Int>(0)

    init(keys: GateKeys, keyIDs: [String], settings: GateSettings, connection: LanePool<RedisConnection>, clock: RedisClock) {
        self.keys = keys
        self.keyIDs = keyIDs
        self.settings = settings
        self.connection = connection
        self.clock = clock
    }

    func decide(_ calls: [Int]) async throws -> [GateDecision] {
        precondition(!keyIDs.isEmpty, "admitting calls needs at least one provider key")
        let offset = rotation.wrappingAdd(calls.count, ordering: .relaxed).oldValue
        let order = keyIDs.indices.map { keyIDs[($0 + offset) % keyIDs.count] }
        let scriptKeys = [keys.breaker, keys.keyIDs] + order.map(keys.providerKey)
        let arguments = [
            String(settings.imagesPerMinute), String(settings.burstImages), String(settings.probeTimeout.milliseconds), String(calls.count),
        ] + calls.map(String.init) + order
        let clock = self.clock
        let replies = try await connection.withResource { connection in
            try connection.evaluate(GateScripts.admit, clock: clock, keys: scriptKeys, arguments: arguments).array
        }
        guard replies.count == calls.count else { throw RedisError(.reply, "unexpected reply to the gate's admit script") }
        return try replies.map { reply in
            let reply = reply.array
            guard reply.count >= 3 else { throw RedisError(.reply, "unexpected reply to the gate's admit script") }
            if reply[0].integer == 1, let keyID = reply[1].text {
                return .admitted(
                    Admission(keyID: keyID, isProbe: reply[2].integer == 1, failuresPending: (reply[safe: 3]?.integer ?? 0) > 0, waited: .zero)
                )
            }
            return .wait(.milliseconds(reply[1].integer ?? 1), reason: reply[2].text ?? "rate_limited")
        }
    }
}
