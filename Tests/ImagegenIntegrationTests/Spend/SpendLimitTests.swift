import Foundation
import ImagegenCore
import ImagegenStore
import PostgresClient
import Synchronization
import Testing

@Suite("Spend limits: reserve before the provider call, settle or release after")
struct SpendLimitTests {
    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        private let instant: Mutex<Date>
        init(_ text: String) { instant = Mutex(try! Date(text, strategy: .iso8601)) }
        func set(_ text: String) { instant.withLock { $0 = try! Date(text, strategy: .iso8601) } }
        var now: Date { instant.withLock { $0 } }
    }

    private struct Fixture {
        let database: Database
        let tasks: TaskStore
        let attempts: AttemptStore
        let spend: SpendStore
        let userID: UUID

        func newTask(images: Int = 1) async throws -> UUID { try await tasks.createTask(userID: userID, n: images) }

        func status(_ taskID: UUID) async throws -> (String, String?) {
            let row = try await database.run { connection in
                try connection.query("SELECT status, error_code FROM tasks WHERE id = $1", [.text(taskID.uuidString)])
            }.first!
            return (try row.string("status"), try row.optionalString("error_code"))
        }
    }

    private func fixture(_ limits: UserLimits, clock: ManualClock) async throws -> Fixture {
        let database = try await TestEnvironment.database()
        let (user, _) = try await UserStore(database: database).createUser(name: "limited", limits: limits)
        return Fixture(
            database: database, tasks: TaskStore(database: database),
            attempts: AttemptStore(database: database, takeoverAfter: .zero, now: { clock.now }),
            spend: SpendStore(database: database, policy: SpendPolicy(), now: { clock.now }), userID: user.id
        )
    }

    private let image = StoredImage(mediaType: "image/png", bytes: [1], revisedPrompt: nil)

    @Test("a limit for exactly three images admits three attempts and fails the fourth without a provider call")
    func limitIsExact() async throws {
        let clock = ManualClock("2026-03-10T12:00:00Z")
        let f = try await fixture(UserLimits(dailySpend: MicroDollars(120_000)), clock: clock)
        for _ in 0..<3 { _ = try #require(try await f.attempts.beginAttempt(taskID: try await f.newTask())) }
        let fourth = try await f.newTask()
        #expect(try await f.attempts.beginAttempt(taskID: fourth) == nil)
        let (status, code) = try await f.status(fourth)
        #expect(status == "failed")
        #expect(code == "spend_limit_exceeded")
        let usage = try await f.spend.usage(userID: f.userID)
        #expect(usage.day.reserved == MicroDollars(120_000))
        #expect(usage.day.spent == .zero)
    }

    @Test("the daily limit resets at midnight UTC (injected clock)")
    func dailyLimitResets() async throws {
        let clock = ManualClock("2026-03-10T23:59:59Z")
        let f = try await fixture(UserLimits(dailySpend: MicroDollars(40_000)), clock: clock)
        _ = try #require(try await f.attempts.beginAttempt(taskID: try await f.newTask()))
        #expect(try await f.attempts.beginAttempt(taskID: try await f.newTask()) == nil)
        clock.set("2026-03-11T00:00:01Z")
        _ = try #require(try await f.attempts.beginAttempt(taskID: try await f.newTask()))
        let usage = try await f.spend.usage(userID: f.userID)
        #expect(usage.day.startsOn == "2026-03-11")
        #expect(usage.day.reserved == MicroDollars(40_000))
        #expect(usage.month.reserved == MicroDollars(80_000))
        #expect(usage.day.resetsAt == (try Date("2026-03-12T00:00:00Z", strategy: .iso8601)))
    }

    @Test("the monthly limit blocks even when the day has room")
    func monthlyLimitBlocks() async throws {
        let clock = ManualClock("2026-04-01T10:00:00Z")
        let f = try await fixture(UserLimits(dailySpend: MicroDollars(1_000_000), monthlySpend: MicroDollars(80_000)), clock: clock)
        _ = try #require(try await f.attempts.beginAttempt(taskID: try await f.newTask()))
        clock.set("2026-04-02T10:00:00Z")
        _ = try #require(try await f.attempts.beginAttempt(taskID: try await f.newTask()))
        clock.set("2026-04-03T10:00:00Z")
        let blocked = try await f.newTask()
        #expect(try await f.attempts.beginAttempt(taskID: blocked) == nil)
        #expect(try await f.status(blocked).1 == "spend_limit_exceeded")
        let usage = try await f.spend.usage(userID: f.userID)
        #expect(usage.day.admits(MicroDollars(40_000)))
        #expect(!usage.month.admits(MicroDollars(40_000)))
    }

    @Test("success settles at the real cost; a definite provider error releases; an unknown outcome stays counted")
    func settleReleaseUnsettle() async throws {
        let clock = ManualClock("2026-05-05T08:00:00Z")
        let f = try await fixture(UserLimits(), clock: clock)
        let error = TaskError(code: "x", message: "x")

        let succeeded = try #require(try await f.attempts.beginAttempt(taskID: try await f.newTask()))
        _ = try await f.attempts.complete(succeeded, images: [image], usage: nil)
        let released = try #require(try await f.attempts.beginAttempt(taskID: try await f.newTask()))
        _ = try await f.attempts.fail(released, error: error, providerMayHaveBilled: false)
        let unknown = try #require(try await f.attempts.beginAttempt(taskID: try await f.newTask()))
        _ = try await f.attempts.scheduleRetry(unknown, delayMilliseconds: 0, error: error, providerMayHaveBilled: true)

        let usage = try await f.spend.usage(userID: f.userID)
        #expect(usage.day.spent == MicroDollars(40_000))
        #expect(usage.day.reserved == MicroDollars(40_000))
    }

    @Test("a crash between reservation and settlement leaves the reservation counted, and the report shows it unsettled")
    func crashKeepsReservation() async throws {
        let clock = ManualClock("1998-06-15T09:00:00Z")
        let f = try await fixture(UserLimits(dailySpend: MicroDollars(80_000)), clock: clock)
        let taskID = try await f.newTask()
        _ = try #require(try await f.attempts.beginAttempt(taskID: taskID))
        // The worker died mid-call; the task is redelivered and starts again.
        let second = try #require(try await f.attempts.beginAttempt(taskID: taskID))
        #expect(try await f.spend.usage(userID: f.userID).day.reserved == MicroDollars(80_000))
        #expect(try await f.attempts.beginAttempt(taskID: try await f.newTask()) == nil)

        _ = try await f.attempts.complete(second, images: [image], usage: nil)
        let usage = try await f.spend.usage(userID: f.userID)
        #expect(usage.day.spent == MicroDollars(40_000))
        #expect(usage.day.reserved == MicroDollars(40_000))
        let report = try await CostReport.load(from: "1998-06-15", to: "1998-06-15", userID: f.userID, database: f.database)
        #expect(report.total.unsettled == MicroDollars(40_000))
    }

    @Test("the hourly image limit refuses the image past it and admits again the next hour; released images count no more")
    func hourlyImageLimit() async throws {
        let clock = ManualClock("2026-07-01T10:15:00Z")
        let f = try await fixture(UserLimits(hourlyImages: 3), clock: clock)
        let pair = try #require(try await f.attempts.beginAttempt(taskID: try await f.newTask(images: 2)))
        let single = try #require(try await f.attempts.beginAttempt(taskID: try await f.newTask()))
        let blocked = try await f.newTask()
        #expect(try await f.attempts.beginAttempt(taskID: blocked) == nil)
        #expect(try await f.status(blocked) == ("failed", "image_limit_exceeded"))
        var usage = try await f.spend.usage(userID: f.userID)
        #expect(usage.hourImages.used == 3)
        #expect(usage.hourImages.resetsAt == (try Date("2026-07-01T11:00:00Z", strategy: .iso8601)))

        // The pair came back with one image, and the single one failed before any billing: two images are free again.
        _ = try await f.attempts.complete(pair, images: [image], usage: nil)
        _ = try await f.attempts.fail(single, error: TaskError(code: "x", message: "x"), providerMayHaveBilled: false)
        usage = try await f.spend.usage(userID: f.userID)
        #expect(usage.hourImages.used == 1)
        #expect(usage.day.spent == MicroDollars(40_000))
        _ = try #require(try await f.attempts.beginAttempt(taskID: try await f.newTask(images: 2)))
        #expect(try await f.attempts.beginAttempt(taskID: try await f.newTask()) == nil)

        clock.set("2026-07-01T11:00:00Z")
        _ = try #require(try await f.attempts.beginAttempt(taskID: try await f.newTask()))
        usage = try await f.spend.usage(userID: f.userID)
        #expect(usage.hourImages.used == 1)
        #expect(usage.dayImages.used == 4)
    }

    @Test("the daily image limit blocks even when the hour has room, and a refused task reserves no spend")
    func dailyImageLimit() async throws {
        let clock = ManualClock("2026-07-02T09:00:00Z")
        let f = try await fixture(UserLimits(dailySpend: MicroDollars(1_000_000), hourlyImages: 5, dailyImages: 2), clock: clock)
        _ = try #require(try await f.attempts.beginAttempt(taskID: try await f.newTask()))
        clock.set("2026-07-02T15:00:00Z")
        _ = try #require(try await f.attempts.beginAttempt(taskID: try await f.newTask()))
        clock.set("2026-07-02T20:00:00Z")
        let blocked = try await f.newTask()
        #expect(try await f.attempts.beginAttempt(taskID: blocked) == nil)
        #expect(try await f.status(blocked).1 == "image_limit_exceeded")
        let usage = try await f.spend.usage(userID: f.userID)
        #expect(usage.hourImages.used == 0)
        #expect(usage.dayImages.used == 2)
        // Spend was reserved for the two admitted tasks only: the refused one rolled back to its savepoint.
        #expect(usage.day.reserved == MicroDollars(80_000))
        #expect(usage.refusingLimit(cost: MicroDollars(40_000), images: 1) == .dailyImages)
    }
}
