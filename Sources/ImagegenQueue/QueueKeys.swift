/// The Redis keys of one queue. They share one hash tag, so every key a script
/// touches is in one Redis Cluster slot.
struct QueueKeys: Sendable {
    /// LIST of task ids ready to run, oldest first.
    let ready: String
    /// ZSET of task ids waiting for a retry, scored by due time (ms).
    let delayed: String
    /// ZSET of leased task ids, scored by lease deadline (ms).
    let inflight: String
    /// HASH task id -> encoded `QueueEntry`; the one place a task's metadata lives.
    let entries: String
    /// LIST of wake-up tokens that idle workers block on.
    let wakeups: String

    init(queue: String) {
        let tag = "imagegen:{\(queue)}"
        ready = "\(tag):ready"
        delayed = "\(tag):delayed"
        inflight = "\(tag):inflight"
        entries = "\(tag):entries"
        wakeups = "\(tag):wakeups"
    }

    var all: [String] { [ready, delayed, inflight, entries, wakeups] }
}
