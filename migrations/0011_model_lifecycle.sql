-- Models retire: a provider stops serving them on a date, and names one to use instead.
-- From `retires_on` (a calendar day, UTC) a request for the model is refused with 422
-- `model_retired`, unless an operator keeps it available on purpose (`kept_available`, or
-- KEEP_MODELS for one deployment) because their provider still serves it.
ALTER TABLE models
    ADD COLUMN retires_on date,
    ADD COLUMN replacement text REFERENCES models (name),
    ADD COLUMN kept_available boolean NOT NULL DEFAULT false,
    ADD CHECK (replacement IS NULL OR replacement <> name);

-- gpt-image-2, OpenAI's current model: billed by tokens ($5 text input, $8 image input,
-- $30 output per million). The per-image price is the reservation, which bounds the output
-- tokens' cost: 272 / 1056 / 4160 tokens for a low / medium / high 1024x1024 image and
-- 408 / 1584 / 6240 for the 1536 sizes; `auto` reserves as for the largest.
INSERT INTO models (name, max_prompt_characters, max_images, sizes, qualities, styles, default_size, default_quality, accepts_response_format)
VALUES ('gpt-image-2', 32000, 10, '{1024x1024,1536x1024,1024x1536,auto}', '{low,medium,high,auto}', '{}', '1024x1024', 'auto', false);

INSERT INTO token_prices (model, text_input_micro_usd_per_million, image_input_micro_usd_per_million, output_micro_usd_per_million)
VALUES ('gpt-image-2', 5000000, 8000000, 30000000);

INSERT INTO prices (model, size, quality, unit_price_micro_usd)
SELECT 'gpt-image-2', size, quality, price
FROM (VALUES
    ('1024x1024', 'low', 8160), ('1536x1024', 'low', 12240), ('1024x1536', 'low', 12240), ('auto', 'low', 12240),
    ('1024x1024', 'medium', 31680), ('1536x1024', 'medium', 47520), ('1024x1536', 'medium', 47520), ('auto', 'medium', 47520),
    ('1024x1024', 'high', 124800), ('1536x1024', 'high', 187200), ('1024x1536', 'high', 187200), ('auto', 'high', 187200),
    ('1024x1024', 'auto', 124800), ('1536x1024', 'auto', 187200), ('1024x1536', 'auto', 187200), ('auto', 'auto', 187200)
) AS bound (size, quality, price);

-- OpenAI shut down dall-e-2 and dall-e-3 on 2026-05-12 and gpt-image-1 on 2026-10-23.
UPDATE models SET retires_on = '2026-05-12', replacement = 'gpt-image-2' WHERE name IN ('dall-e-2', 'dall-e-3');
UPDATE models SET retires_on = '2026-10-23', replacement = 'gpt-image-2' WHERE name = 'gpt-image-1';
