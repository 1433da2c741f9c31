-- Spend limits that hold under any concurrency. Before calling the provider a worker
-- reserves the task's price against the user's day and month with a conditional
-- UPDATE on these rows, taken day first, then month, so workers never deadlock.
-- committed = settled + reserved + unsettled, so a check reads one row.
CREATE TABLE spend_periods (
    user_id uuid NOT NULL REFERENCES users (id),
    period text NOT NULL CHECK (period IN ('day', 'month')),
    starts_on date NOT NULL,
    committed_micro_usd bigint NOT NULL DEFAULT 0 CHECK (committed_micro_usd >= 0),
    settled_micro_usd bigint NOT NULL DEFAULT 0 CHECK (settled_micro_usd >= 0),
    PRIMARY KEY (user_id, period, starts_on)
);

-- One reservation per attempt. It becomes settled (the charge was recorded),
-- released (the provider certainly did not bill), or unsettled (the outcome is
-- unknown: a timeout after the request was sent, a crash), which stays counted.
CREATE TABLE reservations (
    task_id uuid NOT NULL REFERENCES tasks (id),
    attempt integer NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id),
    amount_micro_usd bigint NOT NULL CHECK (amount_micro_usd >= 0),
    day date NOT NULL,
    month date NOT NULL,
    state text NOT NULL CHECK (state IN ('reserved', 'settled', 'released', 'unsettled')),
    created_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    PRIMARY KEY (task_id, attempt)
);
CREATE INDEX reservations_unsettled ON reservations (created_at) WHERE state = 'unsettled';

-- The cost report filters charges by time and optionally by user.
CREATE INDEX charges_by_user_time ON charges (user_id, charged_at);
-- Failed tasks per period, for the report.
CREATE INDEX tasks_failed_by_time ON tasks (finished_at) WHERE status = 'failed';
