-- A task that cannot start before its deadline (the provider kept refusing, every key was
-- set aside, the queue was stopped) fails as `expired`, uncharged, instead of retrying for
-- ever. Tasks from before this migration have none.
ALTER TABLE tasks ADD COLUMN deadline_at timestamptz;
CREATE INDEX tasks_overdue ON tasks (deadline_at) WHERE status IN ('queued', 'retrying') AND deadline_at IS NOT NULL;
