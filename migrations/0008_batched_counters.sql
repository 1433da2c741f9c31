-- Workers start and finish attempts in batches, each batch one transaction. The rows many
-- tasks share, a user's spend and image counters, are changed by this one function as the
-- transaction's last statement, so their locks are held for the commit only. It takes the
-- rows in one fixed order (user, then period, then start), so that concurrent batches
-- never deadlock, and returns what each counter holds afterwards, from which the caller
-- checks the limits (and takes back what does not fit before it commits).
CREATE FUNCTION imagegen_add_to_counters(
    p_users uuid[], p_periods text[], p_starts text[], p_committed bigint[], p_settled bigint[], p_images bigint[]
) RETURNS TABLE (counter_user uuid, counter_period text, counter_start text, committed_micro_usd bigint, committed_images bigint)
LANGUAGE plpgsql AS $$
DECLARE
    c record;
    attempt integer;
BEGIN
    FOR c IN
        SELECT * FROM unnest(p_users, p_periods, p_starts, p_committed, p_settled, p_images) AS x (u, p, s, committed, settled, images)
        ORDER BY u::text, p, s
    LOOP
        counter_user := c.u;
        counter_period := c.p;
        counter_start := c.s;
        -- Update first: the row exists but for a period's first reservation, which creates it.
        FOR attempt IN 1..2 LOOP
            IF c.p = 'hour' THEN
                UPDATE image_hours h SET committed_images = h.committed_images + c.images
                WHERE h.user_id = c.u AND h.starts_at = c.s::timestamptz
                RETURNING 0, h.committed_images INTO committed_micro_usd, committed_images;
                EXIT WHEN FOUND;
                INSERT INTO image_hours (user_id, starts_at) VALUES (c.u, c.s::timestamptz) ON CONFLICT DO NOTHING;
            ELSE
                UPDATE spend_periods sp
                SET committed_micro_usd = sp.committed_micro_usd + c.committed, settled_micro_usd = sp.settled_micro_usd + c.settled,
                    committed_images = sp.committed_images + c.images
                WHERE sp.user_id = c.u AND sp.period = c.p AND sp.starts_on = c.s::date
                RETURNING sp.committed_micro_usd, sp.committed_images INTO committed_micro_usd, committed_images;
                EXIT WHEN FOUND;
                INSERT INTO spend_periods (user_id, period, starts_on) VALUES (c.u, c.p, c.s::date) ON CONFLICT DO NOTHING;
            END IF;
        END LOOP;
        RETURN NEXT;
    END LOOP;
END
$$;
