-- imagegen's first schema. PostgreSQL is the source of truth for tasks, images and money;
-- Redis only carries delivery. Money is integer micro-dollars (1 USD = 1,000,000).

CREATE TABLE users (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    daily_limit_micro_usd bigint CHECK (daily_limit_micro_usd >= 0),
    monthly_limit_micro_usd bigint CHECK (monthly_limit_micro_usd >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Only the SHA-256 digest of a key is stored; the key itself is shown once.
CREATE TABLE api_keys (
    id bigserial PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    key_digest bytea NOT NULL UNIQUE,
    display_prefix text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- Models are data: an operator adds, changes or disables one with SQL, no rebuild.
CREATE TABLE models (
    name text PRIMARY KEY,
    max_prompt_characters integer NOT NULL CHECK (max_prompt_characters > 0),
    max_images integer NOT NULL CHECK (max_images > 0),
    sizes text[] NOT NULL,
    qualities text[] NOT NULL,
    styles text[] NOT NULL DEFAULT '{}',
    default_size text NOT NULL,
    default_quality text NOT NULL,
    accepts_response_format boolean NOT NULL DEFAULT true,
    enabled boolean NOT NULL DEFAULT true,
    CHECK (default_size = ANY (sizes)),
    CHECK (default_quality = ANY (qualities))
);

-- Price of one image; a new row with a later effective_from changes the price
-- without rewriting history.
CREATE TABLE prices (
    model text NOT NULL REFERENCES models (name),
    size text NOT NULL,
    quality text NOT NULL,
    unit_price_micro_usd bigint NOT NULL CHECK (unit_price_micro_usd >= 0),
    effective_from timestamptz NOT NULL DEFAULT '-infinity',
    PRIMARY KEY (model, size, quality, effective_from)
);

CREATE TABLE tasks (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    status text NOT NULL CHECK (status IN ('queued', 'running', 'retrying', 'succeeded', 'failed', 'canceled')),
    prompt text NOT NULL,
    model text NOT NULL,
    size text NOT NULL,
    quality text NOT NULL,
    style text,
    n integer NOT NULL CHECK (n >= 1),
    end_user text,
    unit_price_micro_usd bigint NOT NULL CHECK (unit_price_micro_usd >= 0),
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL CHECK (max_attempts >= 1),
    next_attempt_at timestamptz,
    error_code text,
    error_message text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_by_user ON tasks (user_id, created_at DESC);
CREATE INDEX tasks_unfinished ON tasks (status, updated_at) WHERE status IN ('queued', 'running', 'retrying');

-- Decoded image bytes: a quarter smaller than base64 and checked on the way in.
CREATE TABLE task_images (
    task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    position integer NOT NULL,
    media_type text NOT NULL,
    bytes bytea NOT NULL,
    revised_prompt text,
    PRIMARY KEY (task_id, position)
);

-- One row per task at most: the primary key makes a second charge impossible.
CREATE TABLE charges (
    task_id uuid PRIMARY KEY REFERENCES tasks (id),
    user_id uuid NOT NULL REFERENCES users (id),
    attempt integer NOT NULL,
    amount_micro_usd bigint NOT NULL CHECK (amount_micro_usd >= 0),
    images integer NOT NULL,
    model text NOT NULL,
    size text NOT NULL,
    quality text NOT NULL,
    charged_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX charges_by_time ON charges (charged_at, user_id);

INSERT INTO models (name, max_prompt_characters, max_images, sizes, qualities, styles, default_size, default_quality, accepts_response_format) VALUES
    ('dall-e-3', 4000, 1, '{1024x1024,1792x1024,1024x1792}', '{standard,hd}', '{vivid,natural}', '1024x1024', 'standard', true),
    ('dall-e-2', 1000, 10, '{256x256,512x512,1024x1024}', '{standard}', '{}', '1024x1024', 'standard', true),
    ('gpt-image-1', 32000, 10, '{1024x1024,1536x1024,1024x1536,auto}', '{low,medium,high,auto}', '{}', '1024x1024', 'auto', false);

-- 'auto' sizes and qualities are priced at the dearest option they can resolve to,
-- so a reservation never undershoots.
INSERT INTO prices (model, size, quality, unit_price_micro_usd) VALUES
    ('dall-e-3', '1024x1024', 'standard', 40000),
    ('dall-e-3', '1792x1024', 'standard', 80000),
    ('dall-e-3', '1024x1792', 'standard', 80000),
    ('dall-e-3', '1024x1024', 'hd', 80000),
    ('dall-e-3', '1792x1024', 'hd', 120000),
    ('dall-e-3', '1024x1792', 'hd', 120000),
    ('dall-e-2', '1024x1024', 'standard', 20000),
    ('dall-e-2', '512x512', 'standard', 18000),
    ('dall-e-2', '256x256', 'standard', 16000),
    ('gpt-image-1', '1024x1024', 'low', 11000),
    ('gpt-image-1', '1536x1024', 'low', 16000),
    ('gpt-image-1', '1024x1536', 'low', 16000),
    ('gpt-image-1', 'auto', 'low', 16000),
    ('gpt-image-1', '1024x1024', 'medium', 42000),
    ('gpt-image-1', '1536x1024', 'medium', 63000),
    ('gpt-image-1', '1024x1536', 'medium', 63000),
    ('gpt-image-1', 'auto', 'medium', 63000),
    ('gpt-image-1', '1024x1024', 'high', 167000),
    ('gpt-image-1', '1536x1024', 'high', 250000),
    ('gpt-image-1', '1024x1536', 'high', 250000),
    ('gpt-image-1', 'auto', 'high', 250000),
    ('gpt-image-1', '1024x1024', 'auto', 167000),
    ('gpt-image-1', '1536x1024', 'auto', 250000),
    ('gpt-image-1', '1024x1536', 'auto', 250000),
    ('gpt-image-1', 'auto', 'auto', 250000);
