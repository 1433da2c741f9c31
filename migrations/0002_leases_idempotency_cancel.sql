-- Durability: workers record a heartbeat on the tasks they run, so the reconciler
-- can tell a live attempt from an orphaned one; owners can cancel; clients can
-- retry a submission safely with an Idempotency-Key.

-- The queue a task was submitted to, so that each queue's reconciler re-enqueues
-- only its own tasks.
ALTER TABLE tasks
    ADD COLUMN queue text NOT NULL DEFAULT 'images',
    ADD COLUMN heartbeat_at timestamptz,
    ADD COLUMN cancel_requested_at timestamptz;

-- The reconciler walks a queue's unfinished tasks by id, in pages.
CREATE INDEX tasks_unfinished_by_queue ON tasks (queue, id) WHERE status IN ('queued', 'running', 'retrying');
-- Dead-letter listing: newest failures first.
CREATE INDEX tasks_by_status_time ON tasks (status, updated_at DESC);

-- One row per (user, key) while the key is remembered (24 hours). The digest is
-- of the validated request, so the same request in another field order matches.
-- The key is claimed before its task is inserted, so the reference is checked at commit.
CREATE TABLE idempotency_keys (
    user_id uuid NOT NULL REFERENCES users (id),
    key text NOT NULL,
    request_digest bytea NOT NULL,
    task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
