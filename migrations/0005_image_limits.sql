-- Optional limits on the number of images a user generates per hour and per day,
-- reserved and settled exactly like spend. The day's image count lives on the day's
-- spend row; hours get rows of their own. Reservations take the day row, then the
-- month row, then the hour row, always in that order, so workers never deadlock.
ALTER TABLE users
    ADD COLUMN hourly_image_limit integer CHECK (hourly_image_limit >= 0),
    ADD COLUMN daily_image_limit integer CHECK (daily_image_limit >= 0);

ALTER TABLE spend_periods ADD COLUMN committed_images integer NOT NULL DEFAULT 0 CHECK (committed_images >= 0);

CREATE TABLE image_hours (
    user_id uuid NOT NULL REFERENCES users (id),
    starts_at timestamptz NOT NULL,
    committed_images integer NOT NULL DEFAULT 0 CHECK (committed_images >= 0),
    PRIMARY KEY (user_id, starts_at)
);

-- Rows reserved before this migration counted no images and name no hour.
ALTER TABLE reservations
    ADD COLUMN images integer NOT NULL DEFAULT 0 CHECK (images >= 0),
    ADD COLUMN hour timestamptz;
