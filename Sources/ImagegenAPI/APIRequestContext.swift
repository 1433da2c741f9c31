import Foundation
import Hummingbird

/// The context every API request is handled in: Hummingbird's own, plus the user whose API
/// key `AuthenticationMiddleware` accepted, for the routes behind it.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    var authenticatedUser: UUID?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// The caller's user id. Only routes on the authenticated group ask, and there the
    /// middleware always set it; a route added outside that group by mistake answers 401.
    func userID() throws -> UUID {
        guard let authenticatedUser else { throw APIError.unauthorized }
        return authenticatedUser
    }
}
