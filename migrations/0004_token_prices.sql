-- Models billed by tokens (the gpt-image family): a call's charge is computed from the
-- `usage` the provider returns, at the rates in force when the task was submitted.
-- Rates are micro-dollars per million tokens, so fractional per-token prices stay exact.
CREATE TABLE token_prices (
    model text NOT NULL REFERENCES models (name),
    text_input_micro_usd_per_million bigint NOT NULL CHECK (text_input_micro_usd_per_million >= 0),
    image_input_micro_usd_per_million bigint NOT NULL CHECK (image_input_micro_usd_per_million >= 0),
    output_micro_usd_per_million bigint NOT NULL CHECK (output_micro_usd_per_million >= 0),
    effective_from timestamptz NOT NULL DEFAULT '-infinity',
    PRIMARY KEY (model, effective_from)
);

INSERT INTO token_prices (model, text_input_micro_usd_per_million, image_input_micro_usd_per_million, output_micro_usd_per_million)
VALUES ('gpt-image-1', 5000000, 10000000, 40000000);

-- For a token-billed model the per-image price is what is reserved before the call, so it
-- must bound the output tokens' cost: 272 / 1056 / 4160 tokens for a low / medium / high
-- 1024x1024 image and 408 / 1584 / 6240 for the 1536 sizes, at $40 per million. The
-- rounded published prices (0.011, 0.042, 0.016, 0.063) fall short of that, so the exact
-- figures take over from now on; earlier tasks keep the price they were submitted at.
INSERT INTO prices (model, size, quality, unit_price_micro_usd, effective_from)
SELECT 'gpt-image-1', size, quality, price, now()
FROM (VALUES
    ('1024x1024', 'low', 10880), ('1536x1024', 'low', 16320), ('1024x1536', 'low', 16320), ('auto', 'low', 16320),
    ('1024x1024', 'medium', 42240), ('1536x1024', 'medium', 63360), ('1024x1536', 'medium', 63360), ('auto', 'medium', 63360),
    ('1024x1024', 'high', 166400), ('1536x1024', 'high', 249600), ('1024x1536', 'high', 249600), ('auto', 'high', 249600),
    ('1024x1024', 'auto', 166400), ('1536x1024', 'auto', 249600), ('1024x1536', 'auto', 249600), ('auto', 'auto', 249600)
) AS bound (size, quality, price);

-- The tokens behind a charge, when the provider reported them.
ALTER TABLE charges
    ADD COLUMN text_input_tokens bigint,
    ADD COLUMN image_input_tokens bigint,
    ADD COLUMN output_tokens bigint;
