/// The Redis keys of one provider endpoint's gate. They share one hash tag, so every
/// key a script touches is in one Redis Cluster slot.
struct GateKeys: Sendable {
    /// HASH: the breaker's state, failure count, window start, open-until and probe-until (ms).
    let breaker: String
    /// SET of the ids of the provider keys that have been used, for status reports.
    let keyIDs: String
    private let prefix: String

    init(endpoint: String) {
        prefix = "imagegen:{provider:\(endpoint)}"
        breaker = "\(prefix):breaker"
        keyIDs = "\(prefix):keys"
    }

    /// HASH for one provider key: its bucket's tokens and refill time, and until when it is set aside and why.
    func providerKey(_ id: String) -> String {
        "\(prefix):key:\(id)"
    }
}
