import Testing

@Suite("Chaos: workers killed, Redis crashed and flushed, PostgreSQL restarted, provider faulty")
struct ChaosTests {
    @Test("no task is lost, none is stuck, none is charged twice")
    func nothingLostStuckOrPaidTwice() async throws {
        let run = try ChaosRun(settings: .fromEnvironment())
        let report = try await run.run()
        print(report.render())
        #expect(report.submitted == run.settings.tasks)
        #expect(report.lost == 0)
        #expect(report.stuck == 0)
        #expect(report.chargedMoreThanOnce == 0)
        #expect(report.chargeMismatches == 0)
        #expect(report.succeeded > report.submitted * 9 / 10)
        #expect(report.recoveries.contains { $0.fault == "PostgreSQL restart" && $0.seconds != nil })
        #expect(report.recoveries.contains { $0.fault == "Redis FLUSHALL" && $0.seconds != nil })
    }
}
