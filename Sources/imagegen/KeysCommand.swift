import ArgumentParser
import Foundation
import ImagegenStore

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Issue, revoke and list API keys.", subcommands: [Create.self, Revoke.self, List.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a new API key for a user and print it once.")

        @Option(help: "The user's id or name.")
        var user: String

        @Option(help: "A note to tell the key apart in listings, e.g. where it is used.")
        var label: String?

        @Flag(help: "Let the key use the operator routes and the console's operator view (queue, dead letters, providers, spend per user).")
        var admin = false

        func validate() throws {
            if let label, label.isEmpty || label.count > 200 || label.contains("\u{0}") {
                throw ValidationError("--label must be 1 to 200 characters")
            }
        }

        func run() async throws {
            let runtime = try await Runtime.start(label: "imagegen.admin")
            let users = UserStore(database: runtime.database)
            guard let found = try await users.find(user) else { throw StartupFailure(description: "no user with id or name '\(user)'") }
            let (record, key) = try await users.createKey(userID: found.id, label: label, isAdmin: admin)
            print("key_id: \(record.id)")
            print("user: \(record.userName) (\(record.userID.uuidString.lowercased()))")
            print("api_key: \(key.secret)")
            if record.isAdmin { print("admin: yes (operator routes allowed)") }
            print("(the API key is shown only now; imagegen stores only its SHA-256 digest)")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API key; requests with it fail from now on.")

        @Argument(help: "The key's id or its prefix as `keys list` shows it.")
        var key: String

        func run() async throws {
            let runtime = try await Runtime.start(label: "imagegen.admin")
            guard let record = try await UserStore(database: runtime.database).revokeKey(key) else {
                throw StartupFailure(description: "no live API key with id or prefix '\(key)'")
            }
            print("revoked key \(record.id) (\(record.displayPrefix)…) of \(record.userName) at \(record.revokedAt ?? "now")")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API keys (never the keys themselves), revoked ones included.")

        @Option(help: "Only this user's keys (id or name).")
        var user: String?

        func run() async throws {
            let runtime = try await Runtime.start(label: "imagegen.admin")
            let users = UserStore(database: runtime.database)
            var userID: UUID?
            if let user {
                guard let found = try await users.find(user) else { throw StartupFailure(description: "no user with id or name '\(user)'") }
                userID = found.id
            }
            let keys = try await users.keys(userID: userID)
            let table = TextTable(
                header: ["ID", "PREFIX", "USER", "LABEL", "ADMIN", "CREATED", "REVOKED"],
                rows: keys.map { key in
                    [String(key.id), key.displayPrefix + "…", key.userName, key.label ?? "-", key.isAdmin ? "yes" : "no", key.createdAt, key.revokedAt ?? "-"]
                },
                numericColumns: [0]
            )
            print(table.render())
        }
    }
}
