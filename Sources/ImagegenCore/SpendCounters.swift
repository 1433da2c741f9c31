import Foundation

/// One row a user's spend and images count on: the day's (spend and images), the month's
/// (spend) or the hour's (images).
public struct SpendCounter: Hashable, Sendable {
    public enum Period: String, Sendable {
        case day, month, hour
    }

    public let userID: UUID
    public let period: Period
    /// `YYYY-MM-DD` for a day or month, ISO 8601 for an hour, as `SpendPeriods` gives them.
    public let start: String

    public init(userID: UUID, period: Period, start: String) {
        self.userID = userID
        self.period = period
        self.start = start
    }
}

/// What a counter holds, or what is added to it.
public struct CounterValues: Sendable, Equatable {
    /// Spent, reserved or unsettled.
    public var committedMicroUSD: Int64
    /// Charged.
    public var settledMicroUSD: Int64
    /// Generated, reserved or unsettled.
    public var images: Int64

    public init(committedMicroUSD: Int64 = 0, settledMicroUSD: Int64 = 0, images: Int64 = 0) {
        self.committedMicroUSD = committedMicroUSD
        self.settledMicroUSD = settledMicroUSD
        self.images = images
    }

    public var isZero: Bool { committedMicroUSD == 0 && settledMicroUSD == 0 && images == 0 }

    public static func + (lhs: CounterValues, rhs: CounterValues) -> CounterValues {
        CounterValues(
            committedMicroUSD: lhs.committedMicroUSD + rhs.committedMicroUSD, settledMicroUSD: lhs.settledMicroUSD + rhs.settledMicroUSD,
            images: lhs.images + rhs.images
        )
    }

    public static func - (lhs: CounterValues, rhs: CounterValues) -> CounterValues {
        lhs + CounterValues(committedMicroUSD: -rhs.committedMicroUSD, settledMicroUSD: -rhs.settledMicroUSD, images: -rhs.images)
    }
}

/// An attempt's reservation: the most it can cost and the images it asks for, counted against
/// its user's day, month and hour from the attempt's start until it settles.
public struct SpendReservation: Sendable, Equatable {
    public let userID: UUID
    public let amount: MicroDollars
    public let images: Int
    public let day: String
    public let month: String
    /// Nil on reservations made before image limits existed.
    public let hour: String?

    public init(userID: UUID, amount: MicroDollars, images: Int, day: String, month: String, hour: String?) {
        self.userID = userID
        self.amount = amount
        self.images = images
        self.day = day
        self.month = month
        self.hour = hour
    }

    public init(userID: UUID, amount: MicroDollars, images: Int, periods: SpendPeriods) {
        self.init(userID: userID, amount: amount, images: images, day: periods.day, month: periods.month, hour: periods.hour)
    }

    var dayCounter: SpendCounter { SpendCounter(userID: userID, period: .day, start: day) }
    var monthCounter: SpendCounter { SpendCounter(userID: userID, period: .month, start: month) }
    var hourCounter: SpendCounter? { hour.map { SpendCounter(userID: userID, period: .hour, start: $0) } }

    /// What making the reservation adds to its counters.
    public var opening: [SpendCounter: CounterValues] {
        changes(committed: amount.value, settled: 0, images: Int64(images))
    }

    /// What ending it adds: a settled one trades the reservation for the charge, a released
    /// one gives it back, an unsettled one stays counted.
    public func closing(as end: ReservationEnd) -> [SpendCounter: CounterValues] {
        switch end {
        case .settled(let cost, let count):
            changes(committed: cost.value - amount.value, settled: cost.value, images: Int64(count - images))
        case .released: changes(committed: -amount.value, settled: 0, images: -Int64(images))
        case .unsettled: [:]
        }
    }

    private func changes(committed: Int64, settled: Int64, images: Int64) -> [SpendCounter: CounterValues] {
        var changes = [
            dayCounter: CounterValues(committedMicroUSD: committed, settledMicroUSD: settled, images: images),
            monthCounter: CounterValues(committedMicroUSD: committed, settledMicroUSD: settled),
        ]
        if let hourCounter { changes[hourCounter] = CounterValues(images: images) }
        return changes.filter { !$0.value.isZero }
    }
}

/// A reservation that would pass a limit, and how far the limit had got.
public struct LimitRefusal: Sendable, Equatable {
    public let limit: LimitKind
    /// Micro-dollars for a spend limit, images for an image limit.
    public let cap: Int64
    public let committed: Int64

    public init(limit: LimitKind, cap: Int64, committed: Int64) {
        self.limit = limit
        self.cap = cap
        self.committed = committed
    }
}

/// Decides which of a batch of reservations fit their users' limits, in the batch's order,
/// as if they had been made one after another: a reservation that does not fit is refused and
/// counts for nothing, so a smaller one after it may still fit. The limits hold exactly.
public enum SpendAdmission {
    public struct Request: Sendable {
        public let reservation: SpendReservation
        public let limits: UserLimits

        public init(reservation: SpendReservation, limits: UserLimits) {
            self.reservation = reservation
            self.limits = limits
        }
    }

    /// - Parameter counters: the counters' values before the batch; a missing one is zero.
    /// - Returns: for each request, nil when it fits, else the limit it would pass.
    public static func admit(_ requests: [Request], counters: [SpendCounter: CounterValues]) -> [LimitRefusal?] {
        var running = counters
        return requests.map { request in
            let reservation = request.reservation, limits = request.limits
            let amount = reservation.amount.value, images = Int64(reservation.images)
            let checks: [(LimitKind, SpendCounter?, KeyPath<CounterValues, Int64>, Int64, Int64?)] = [
                (.dailySpend, reservation.dayCounter, \.committedMicroUSD, amount, limits.dailySpend?.value),
                (.dailyImages, reservation.dayCounter, \.images, images, limits.dailyImages.map(Int64.init)),
                (.monthlySpend, reservation.monthCounter, \.committedMicroUSD, amount, limits.monthlySpend?.value),
                (.hourlyImages, reservation.hourCounter, \.images, images, limits.hourlyImages.map(Int64.init)),
            ]
            for (limit, counter, field, add, cap) in checks {
                guard let cap, let counter else { continue }
                let committed = running[counter, default: CounterValues()][keyPath: field]
                if committed + add > cap { return LimitRefusal(limit: limit, cap: cap, committed: committed) }
            }
            for (counter, change) in reservation.opening {
                running[counter, default: CounterValues()] = running[counter, default: CounterValues()] + change
            }
            return nil
        }
    }
}
