import Foundation
import Hummingbird
import Prometheus
import Synchronization

/// `/healthz`, `/readyz` and `/metrics`, served by the API and by every worker.
public struct OperationsRoutes: Sendable {
    /// Something the process needs in order to do its work, checked by `/readyz`.
    public struct Dependency: Sendable {
        public let name: String
        public let check: @Sendable () async throws -> Void

        public init(name: String, check: @escaping @Sendable () async throws -> Void) {
            self.name = name
            self.check = check
        }
    }

    let registry: PrometheusCollectorRegistry
    let dependencies: [Dependency]
    /// Refreshes gauges that are read on demand (queue depth) just before a scrape.
    let beforeScrape: @Sendable () async -> Void
    let checkTimeout: Duration

    public init(
        registry: PrometheusCollectorRegistry, dependencies: [Dependency], checkTimeout: Duration = .seconds(2),
        beforeScrape: @escaping @Sendable () async -> Void = {}
    ) {
        self.registry = registry
        self.dependencies = dependencies
        self.checkTimeout = checkTimeout
        self.beforeScrape = beforeScrape
    }

    /// The paths `register(on:)` serves, all with GET.
    public static let paths = ["healthz", "readyz", "metrics"]

    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("healthz") { _, _ in
            Self.json(.ok, #"{"status":"ok"}"#)
        }
        router.get("readyz") { _, _ in
            await readiness()
        }
        router.get("metrics") { _, _ in
            await beforeScrape()
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
    }

    /// 200 when every dependency answers within `checkTimeout`, 503 naming those that do
    /// not. The checks run at once, and a hung one is not waited for past its timeout.
    private func readiness() async -> Response {
        var checks: [String: String] = [:]
        await withTaskGroup(of: (String, Bool).self) { group in
            for dependency in dependencies {
                group.addTask { (dependency.name, await Self.answers(dependency, within: checkTimeout)) }
            }
            for await (name, ready) in group {
                checks[name] = ready ? "ok" : "unavailable"
            }
        }
        let ready = !checks.values.contains("unavailable")
        let body = try? JSONSerialization.data(withJSONObject: ["status": ready ? "ready" : "not_ready", "checks": checks], options: [.sortedKeys])
        return Self.json(ready ? .ok : .serviceUnavailable, String(decoding: body ?? Data(), as: UTF8.self))
    }

    /// Whether the check succeeds in time. It runs in a task of its own because a blocking
    /// storage call cannot be cancelled: the answer must not wait for it.
    private static func answers(_ dependency: Dependency, within timeout: Duration) async -> Bool {
        let verdict = Verdict()
        return await withCheckedContinuation { continuation in
            verdict.set(continuation)
            Task {
                let ready = (try? await dependency.check()) != nil
                verdict.resolve(ready)
            }
            Task {
                try? await Task.sleep(for: timeout)
                verdict.resolve(false)
            }
        }
    }

    /// The first of the check and its timeout to finish decides.
    private final class Verdict: Sendable {
        private let state = Mutex<(CheckedContinuation<Bool, Never>?, Bool?)>((nil, nil))

        func set(_ continuation: CheckedContinuation<Bool, Never>) {
            let early = state.withLock { state -> Bool? in
                if let decided = state.1 { return decided }
                state.0 = continuation
                return nil
            }
            if let early { continuation.resume(returning: early) }
        }

        func resolve(_ ready: Bool) {
            let waiting = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                guard state.1 == nil else { return nil }
                state.1 = ready
                defer { state.0 = nil }
                return state.0
            }
            waiting?.resume(returning: ready)
        }
    }

    private static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }
}
