import ArgumentParser
import Foundation
import ImagegenStore

struct PurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Delete the images of tasks that finished before a cutoff; tasks and charges stay.",
        discussion: "Workers do the same every reconcile interval for IMAGE_RETENTION_DAYS; this runs it now, with any cutoff."
    )

    @Option(help: "Age of the images to delete: a number of days or hours, e.g. 30d or 12h.", transform: PurgeCommand.age)
    var olderThan: Duration

    func run() async throws {
        let runtime = try await Runtime.start(label: "imagegen.admin")
        let cutoff = Date(timeIntervalSinceNow: -Double(olderThan.components.seconds))
        let purge = try await RetentionStore(database: runtime.database).purgeImages(finishedBefore: cutoff)
        let mebibytes = String(format: "%.1f", Double(purge.bytes) / 1_048_576)
        print("purged \(purge.images) images (\(mebibytes) MiB) of \(purge.tasks) tasks finished before "
            + cutoff.formatted(Date.ISO8601FormatStyle()))
    }

    static func age(_ text: String) throws -> Duration {
        guard let unit = text.last, let count = Int(text.dropLast()), count >= 0, count <= 36_500 * 24 else {
            throw ValidationError("--older-than must be a number of days or hours such as 30d or 12h, not '\(text)'")
        }
        switch unit {
        case "d": return .seconds(count * 86_400)
        case "h": return .seconds(count * 3_600)
        default: throw ValidationError("--older-than must end in d (days) or h (hours), not '\(text)'")
        }
    }
}
