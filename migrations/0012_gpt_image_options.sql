-- The gpt-image models' own request fields: which values each model takes, and what a task
-- asked for (sent to the provider as they are, so they live with the task).
ALTER TABLE models
    ADD COLUMN output_formats text[] NOT NULL DEFAULT '{}',
    ADD COLUMN backgrounds text[] NOT NULL DEFAULT '{}',
    ADD COLUMN moderations text[] NOT NULL DEFAULT '{}';

UPDATE models SET output_formats = '{png,jpeg,webp}', backgrounds = '{transparent,opaque,auto}', moderations = '{low,auto}'
WHERE name = 'gpt-image-1';
-- gpt-image-2 refuses a transparent background.
UPDATE models SET output_formats = '{png,jpeg,webp}', backgrounds = '{opaque,auto}', moderations = '{low,auto}'
WHERE name = 'gpt-image-2';

-- {"background", "output_format", "output_compression", "moderation"}, only those given.
ALTER TABLE tasks ADD COLUMN image_options jsonb;
