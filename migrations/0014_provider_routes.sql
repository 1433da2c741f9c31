-- A model is bought from a provider along a route: the same model may be served by more
-- than one provider (gpt-image-2 by OpenAI and by an Azure deployment), each knowing it by
-- its own name there. A task runs on its model's first route. A task that allows fallback
-- may move to a later route of its model, or to a route of another model of the same tier,
-- when the route it would take has its breaker open or all its keys set aside.
CREATE TABLE model_routes (
    model text NOT NULL REFERENCES models (name) ON DELETE CASCADE,
    provider text NOT NULL CHECK (provider ~ '^[a-z][a-z0-9_-]{0,39}$'),
    -- The model's name at the provider (a Replicate owner/name, an Azure deployment); null: the same.
    provider_model text CHECK (provider_model <> ''),
    position integer NOT NULL CHECK (position > 0),
    PRIMARY KEY (model, provider),
    UNIQUE (model, position) DEFERRABLE INITIALLY DEFERRED
);
INSERT INTO model_routes (model, provider, position) SELECT name, 'openai', 1 FROM models;

-- Models of one tier make images of comparable quality, so fallback may move a task
-- between them; a model with no tier falls back only along its own routes.
ALTER TABLE models ADD COLUMN tier text CHECK (tier ~ '^[a-z0-9_-]{1,40}$');

-- FLUX.1 [schnell] on Replicate: an official model, billed per output image. Disabled until a
-- deployment's workers call Replicate (PROVIDERS=replicate): `imagegen admin models enable flux-schnell`.
INSERT INTO models (name, max_prompt_characters, max_images, sizes, qualities, styles, default_size, default_quality,
                    accepts_response_format, output_formats, tier, enabled)
VALUES ('flux-schnell', 2000, 4, '{1024x1024,1024x576,576x1024,1152x768,768x1152}', '{standard}', '{}', '1024x1024', 'standard',
        false, '{webp,jpeg,png}', 'draft', false);
INSERT INTO prices (model, size, quality, unit_price_micro_usd)
SELECT 'flux-schnell', size, 'standard', 3000 FROM unnest('{1024x1024,1024x576,576x1024,1152x768,768x1152}'::text[]) AS size;
INSERT INTO model_routes (model, provider, provider_model, position) VALUES ('flux-schnell', 'replicate', 'black-forest-labs/flux-schnell', 1);

-- Whether a user's tasks fall back when a request does not say.
ALTER TABLE users ADD COLUMN fallback boolean NOT NULL DEFAULT false;

-- routes: the task's candidate routes, first its own: [{provider, model, provider_model,
-- unit_price_micro_usd}], fixed at submission with the prices then in force; more than one
-- only when the task allows fallback. provider and provider_model: the route the task runs
-- (or last ran) on. progress: how far the provider says the running attempt has come (its
-- own word: starting, processing).
ALTER TABLE tasks
    ADD COLUMN routes jsonb,
    ADD COLUMN provider text,
    ADD COLUMN provider_model text,
    ADD COLUMN progress text;

-- Which provider made (and billed) the images.
ALTER TABLE charges ADD COLUMN provider text;
