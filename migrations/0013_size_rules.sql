-- gpt-image-2 takes any size whose sides are multiples of 16, the longest at most 3840
-- pixels and the whole at most 8,294,400 pixels, besides `auto`. A size outside the listed
-- ones has no price row: its reservation is the output tokens such an image can take, which
-- grow with its area from those of a 1024x1024 image (`output_tokens`), at the model's rate.
ALTER TABLE models
    ADD COLUMN size_step integer CHECK (size_step > 0),
    ADD COLUMN max_side integer CHECK (max_side > 0),
    ADD COLUMN max_pixels integer CHECK (max_pixels > 0),
    ADD COLUMN output_tokens jsonb,
    ADD CHECK ((size_step IS NULL) = (max_side IS NULL) AND (size_step IS NULL) = (max_pixels IS NULL));

UPDATE models SET size_step = 16, max_side = 3840, max_pixels = 8294400,
                  output_tokens = '{"low": 272, "medium": 1056, "high": 4160, "auto": 4160}'
WHERE name = 'gpt-image-2';
