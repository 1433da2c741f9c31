import Testing
@testable import ImagegenWorker

@Suite("A worker's slots count provider calls, and recordings up to as many again")
struct SlotCountTests {
    @Test("a call's slot comes free when the call ends, before its outcome is recorded")
    func freeAtCallEnd() {
        var slots = SlotCount(total: 2)
        #expect(slots.takeFree() == 2)
        #expect(slots.free == 0)
        slots.callEnded()
        #expect(slots.free == 1)
        #expect(!slots.isIdle)
        slots.give(1)
        #expect(slots.free == 2)
        #expect(!slots.isIdle)
        slots.recorded()
        #expect(slots.isIdle)
    }

    @Test("past as many recordings as slots, an ended call keeps its slot until a recording ends")
    func recordingsAreBounded() {
        var slots = SlotCount(total: 1)
        #expect(slots.takeFree() == 1)
        slots.callEnded()
        #expect(slots.takeFree() == 1)
        slots.callEnded()
        #expect(slots.free == 0)
        #expect(slots.recording == 2)
        #expect(slots.owed == 1)
        slots.recorded()
        #expect(slots.free == 1)
        #expect(slots.owed == 0)
        slots.recorded()
        #expect(slots.free == 1)
        #expect(slots.isIdle)
    }
}
