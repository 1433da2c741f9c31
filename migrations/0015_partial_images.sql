-- gpt-image models can stream up to three drafts of an image while they draw it
-- (`partial_images`); the drafts reach the task's event-stream clients as they come.
ALTER TABLE models ADD COLUMN max_partial_images integer NOT NULL DEFAULT 0 CHECK (max_partial_images BETWEEN 0 AND 10);
UPDATE models SET max_partial_images = 3 WHERE name IN ('gpt-image-1', 'gpt-image-2');

-- The latest draft of each task, read by the API when it tells a stream; drafts of tasks that
-- ended are purged with the images. partial_images counts the drafts a task has received.
CREATE TABLE task_partial_images (
    task_id uuid PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    attempt integer NOT NULL,
    partial_index integer NOT NULL CHECK (partial_index >= 0),
    media_type text NOT NULL,
    bytes bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE tasks ADD COLUMN partial_images integer NOT NULL DEFAULT 0;

-- Listeners also hear of progress, of a move to another route (0014) and of each draft.
DROP TRIGGER tasks_notify_change ON tasks;
CREATE TRIGGER tasks_notify_change AFTER UPDATE ON tasks FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.attempts IS DISTINCT FROM NEW.attempts
          OR OLD.cancel_requested_at IS DISTINCT FROM NEW.cancel_requested_at
          OR OLD.images_purged_at IS DISTINCT FROM NEW.images_purged_at
          OR OLD.progress IS DISTINCT FROM NEW.progress
          OR OLD.provider IS DISTINCT FROM NEW.provider
          OR OLD.partial_images IS DISTINCT FROM NEW.partial_images)
    EXECUTE FUNCTION notify_task_change();
