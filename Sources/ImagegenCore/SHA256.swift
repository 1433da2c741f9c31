import Crypto

/// SHA-256, used to store API keys as digests and to name secrets without revealing them.
/// The hashing itself is swift-crypto's; this is the one place that calls it.
public enum SHA256 {
    public static func hash(_ message: [UInt8]) -> [UInt8] {
        Array(Crypto.SHA256.hash(data: message))
    }
}

extension SHA256 {
    /// A short, stable name for a secret or an address that reveals nothing of it: the first
    /// 12 hex digits of its SHA-256. Used to name provider keys in logs, metrics and Redis.
    public static func fingerprint(_ text: String) -> String {
        String(hash(Array(text.utf8)).hexString.prefix(12))
    }
}
