-- What the client-facing conveniences need: a page-able task list, image retention,
-- and a notification on every task change so that long polls and event streams wake
-- at once instead of sleeping in a loop.

-- Keyset pagination walks (created_at, id) newest first; this index covers the old one.
CREATE INDEX tasks_by_user_page ON tasks (user_id, created_at DESC, id DESC);
DROP INDEX tasks_by_user;

-- Image bytes older than the retention period are deleted; the task and its charge stay
-- so that cost reports stay right, and the task says when its images went.
ALTER TABLE tasks ADD COLUMN images_purged_at timestamptz;
CREATE INDEX tasks_purgeable ON tasks (finished_at) WHERE status = 'succeeded' AND images_purged_at IS NULL;

-- Only the task id travels: listeners re-read the row, so a notification can never be stale.
CREATE FUNCTION notify_task_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('imagegen_task_changes', NEW.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER tasks_notify_change AFTER UPDATE ON tasks FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.attempts IS DISTINCT FROM NEW.attempts
          OR OLD.cancel_requested_at IS DISTINCT FROM NEW.cancel_requested_at
          OR OLD.images_purged_at IS DISTINCT FROM NEW.images_purged_at)
    EXECUTE FUNCTION notify_task_change();

-- Keys get an optional label so an operator can tell them apart in `admin keys list`.
ALTER TABLE api_keys ADD COLUMN label text;
