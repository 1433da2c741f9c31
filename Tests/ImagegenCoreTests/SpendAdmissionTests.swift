import Foundation
import ImagegenCore
import Testing

@Suite("SpendAdmission and reservations' counter changes: limits held exactly within a batch, without I/O")
struct SpendAdmissionTests {
    let user = UUID()
    let periods = SpendPolicy().periods(at: Date(timeIntervalSince1970: 1_790_000_000))

    private func request(_ micro: Int64, images: Int = 1, limits: UserLimits) -> SpendAdmission.Request {
        SpendAdmission.Request(
            reservation: SpendReservation(userID: user, amount: MicroDollars(micro), images: images, periods: periods), limits: limits
        )
    }

    private var day: SpendCounter { SpendCounter(userID: user, period: .day, start: periods.day) }

    @Test("a batch admits in order until the limit, to the micro-dollar; a later smaller one may still fit")
    func greedyInOrder() {
        let limits = UserLimits(dailySpend: MicroDollars(100_000))
        let counters = [day: CounterValues(committedMicroUSD: 10_000)]
        let refusals = SpendAdmission.admit(
            [request(40_000, limits: limits), request(40_000, limits: limits), request(40_000, limits: limits),
             request(10_000, limits: limits), request(1, limits: limits)],
            counters: counters
        )
        #expect(refusals.map { $0 == nil } == [true, true, false, true, false])
        #expect(refusals[2] == LimitRefusal(limit: .dailySpend, cap: 100_000, committed: 90_000))
        #expect(refusals[4] == LimitRefusal(limit: .dailySpend, cap: 100_000, committed: 100_000))
    }

    @Test("each limit checks its own counter, in the order day spend, day images, month spend, hour images")
    func everyLimit() {
        let month = SpendCounter(userID: user, period: .month, start: periods.month)
        let hour = SpendCounter(userID: user, period: .hour, start: periods.hour)
        let counters = [month: CounterValues(committedMicroUSD: 990_000), hour: CounterValues(images: 9)]
        #expect(SpendAdmission.admit([request(20_000, limits: UserLimits(monthlySpend: MicroDollars(1_000_000)))], counters: counters)
            == [LimitRefusal(limit: .monthlySpend, cap: 1_000_000, committed: 990_000)])
        #expect(SpendAdmission.admit([request(1, images: 2, limits: UserLimits(hourlyImages: 10))], counters: counters)
            == [LimitRefusal(limit: .hourlyImages, cap: 10, committed: 9)])
        #expect(SpendAdmission.admit([request(1, images: 3, limits: UserLimits(dailyImages: 2))], counters: [:])
            == [LimitRefusal(limit: .dailyImages, cap: 2, committed: 0)])
        #expect(SpendAdmission.admit([request(1_000_000_000, images: 10, limits: UserLimits())], counters: counters) == [nil])
    }

    @Test("opening a reservation counts its price and images; settling trades it for the charge; releasing gives it back")
    func counterChanges() {
        let reservation = SpendReservation(userID: user, amount: MicroDollars(80_000), images: 2, periods: periods)
        let month = SpendCounter(userID: user, period: .month, start: periods.month)
        let hour = SpendCounter(userID: user, period: .hour, start: periods.hour)
        #expect(reservation.opening == [
            day: CounterValues(committedMicroUSD: 80_000, images: 2), month: CounterValues(committedMicroUSD: 80_000),
            hour: CounterValues(images: 2),
        ])
        #expect(reservation.closing(as: .settled(MicroDollars(40_000), images: 1)) == [
            day: CounterValues(committedMicroUSD: -40_000, settledMicroUSD: 40_000, images: -1),
            month: CounterValues(committedMicroUSD: -40_000, settledMicroUSD: 40_000), hour: CounterValues(images: -1),
        ])
        #expect(reservation.closing(as: .released) == [
            day: CounterValues(committedMicroUSD: -80_000, images: -2), month: CounterValues(committedMicroUSD: -80_000),
            hour: CounterValues(images: -2),
        ])
        #expect(reservation.closing(as: .unsettled).isEmpty)
        let total = [reservation.opening, reservation.closing(as: .settled(MicroDollars(80_000), images: 2))]
            .reduce(into: [SpendCounter: CounterValues]()) { $0.merge($1, uniquingKeysWith: +) }
        #expect(total[day] == CounterValues(committedMicroUSD: 80_000, settledMicroUSD: 80_000, images: 2))
    }
}
