/// The Redis keys of one queue. They share one hash tag, so every key a script
/// touches is in one Redis Cluster slot.
struct QueueKeys: Sendable {
    /// ZSET of task ids ready to run, scored by the time they became ready (ms), oldest first.
    let ready: String
    /// ZSET of task ids waiting for a retry, scored by due time (ms).
    let delayed: String
    /// ZSET of leased task ids, scored by lease deadline (ms).
    let inflight: String
    /// HASH task id -> encoded `QueueEntry`; the one place a task's metadata lives.
    let entries: String
    /// HASH task id -> the `TaskQueue.owner` that holds its lease.
    let leases: String
    /// LIST of wake-up tokens that idle workers block on.
    let wakeups: String
    /// STRING held for one reconciliation period by the worker whose turn it is.
    let reconcilerTurn: String

    init(queue: String) {
        let tag = "imagegen:{\(queue)}"
        ready = "\(tag):ready"
        delayed = "\(tag):delayed"
        inflight = "\(tag):inflight"
        entries = "\(tag):entries"
        leases = "\(tag):leases"
        wakeups = "\(tag):wakeups"
        reconcilerTurn = "\(tag):reconciler"
    }
}
