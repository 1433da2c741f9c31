/// The `TaskList` schema, the answer to `GET /images/tasks`; `next_cursor` is null, not
/// absent, on the last page (`Nullable`).
struct TaskListBody: Codable, Hashable, Sendable {
    let tasks: [Components.Schemas.Task]
    let next_cursor: Nullable<String>
}
