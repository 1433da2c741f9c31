import ImagegenCore

/// The answer to `POST /images/estimate`: the `Estimate` schema, whose `refused_by` is null
/// rather than absent when nothing refuses (`Nullable`).
struct EstimateBody: Codable, Hashable, Sendable {
    struct Refusal: Codable, Hashable, Sendable {
        let status: Int
        let code: String
        let message: String
    }

    let model: String
    let size: String
    let quality: String
    let n: Int
    /// What a task reserves against the caller's limits: the exact price for per-image
    /// models, the most it can cost for token-priced ones.
    let cost_usd: String
    let cost_micro_usd: Int64
    let fits_limits: Bool
    /// What a submission would be refused with now; null when it would be accepted.
    let refused_by: Nullable<Refusal>

    init(request: ImageRequest, cost: MicroDollars, refusal: APIError?) {
        model = request.model
        size = request.size
        quality = request.quality
        n = request.n
        cost_usd = cost.usd
        cost_micro_usd = cost.value
        fits_limits = refusal == nil
        refused_by = Nullable(refusal.map { Refusal(status: $0.status.code, code: $0.code, message: $0.message) })
    }
}
