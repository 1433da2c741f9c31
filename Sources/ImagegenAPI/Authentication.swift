import Foundation
import Hummingbird
import ImagegenStore

extension UserStore {
    /// The user whose API key the request carries as `Authorization: Bearer`, or a 401.
    func authenticate(_ request: Request) async throws -> UUID {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw APIError.unauthorized
        }
        let secret = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard let userID = try await authenticate(secret: secret) else { throw APIError.unauthorized }
        return userID
    }
}
