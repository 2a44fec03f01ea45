-- User search, substrings: the whole-bitmap statement counts its matches and sorts its page from one
-- materialized set. In 0015 the first p_bitmap_cap + 1 matches were copied into a second CTE
-- (capped) that the count and the page both read; now each reads the first p_bitmap_cap + 1 rows of
-- `matched` itself (a CTE's rows are stored in the order they were read, so both see the same rows:
-- the same count and the same page). For a term whose ~7,000 matches lie far back (the bench's
-- fischer1..8 at 1M users) that saves storing 7,000 rows a second time: backend CPU 17.4 -> 15.9 ms
-- a call, interleaved with 0015's on the same data. The rest of users_search_page is as in 0015.
CREATE OR REPLACE FUNCTION users_search_page(
  p_q text,              -- the search text, lower-cased
  p_q_upper text,        -- the least string above every string starting with p_q (never null here)
  p_q_id uuid,           -- p_q as a user id, when it is a UUID
  p_with_early boolean,  -- look for exact and prefix matches
  p_pattern text,        -- the LIKE pattern of a substring search, or null
  p_envs text[],
  p_region text,         -- null: any region
  p_status text,         -- 'active', 'disabled' or null
  p_after_t timestamptz, -- the cursor ('infinity' and the greatest UUID on a first page)
  p_after_id uuid,
  p_page_size integer,   -- the page's length + 1
  p_early_cap integer,
  p_bitmap_cap integer,
  p_probe_size integer
) RETURNS TABLE (id uuid, kind text, matched bigint, probed bigint)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
  ids uuid[];
  n bigint;
  n_probed bigint := 0;
  n_found bigint;
  more uuid[];
  t_top timestamptz;
  end_t timestamptz;      -- the sort key of the oldest row the probe read: the windows begin below it
  end_id uuid;
  span interval;
  mult double precision;
  lower_t timestamptz;
  upper_t timestamptz;
  window_end timestamptz;
BEGIN
  IF p_with_early AND p_q_id IS NULL THEN
    -- Exact and prefix matches among the newest rows: a full page there is the answer (every match
    -- outside is older). A common prefix costs these rows, not EARLY_CAP rows read by prefix. A
    -- UUID names one user: no probe, it would cost more than the lookup.
    SELECT array_agg(e.id) INTO ids FROM (
      SELECT u.id FROM (
        SELECT * FROM users u WHERE u.deleted_at IS NULL AND (u.created_at, u.id) < (p_after_t, p_after_id)
        ORDER BY u.created_at DESC NULLS LAST, u.id DESC NULLS LAST LIMIT p_probe_size) AS u
      WHERE users_search_keeps(u.deleted_at, u.created_at, u.id, u.environment, u.region, u.disabled_at, p_after_t, p_after_id, p_envs, p_region, p_status)
        AND (starts_with(lower(u.client_user_id), p_q) OR starts_with(lower(u.email), p_q) OR starts_with(lower(u.name), p_q))
      ORDER BY u.created_at DESC NULLS LAST, u.id DESC NULLS LAST LIMIT p_page_size) AS e;
    n_probed := coalesce(cardinality(ids), 0);
    IF n_probed >= p_page_size THEN
      RETURN QUERY SELECT unnest(ids), 'early', 0::bigint, n_probed;
      RETURN;
    END IF;
  END IF;

  IF p_with_early THEN
    -- The primary key, and each prefix index read by range in its own order (text_pattern_ops's
    -- `~<~`) so that the scan stops at the cap; `offset 0` keeps the key or the range alone on its
    -- scan (beside the filters, a plan made without statistics took users_list_idx and filtered).
    WITH early AS (
      SELECT m.id, m.created_at FROM (SELECT * FROM users u WHERE u.id = p_q_id OFFSET 0) AS m
      WHERE users_search_keeps(m.deleted_at, m.created_at, m.id, m.environment, m.region, m.disabled_at, p_after_t, p_after_id, p_envs, p_region, p_status)
      UNION
      (SELECT m.id, m.created_at FROM (
         SELECT * FROM users u WHERE lower(u.client_user_id) ~>=~ p_q AND lower(u.client_user_id) ~<~ p_q_upper
         ORDER BY lower(u.client_user_id) USING ~<~ OFFSET 0) AS m
       WHERE users_search_keeps(m.deleted_at, m.created_at, m.id, m.environment, m.region, m.disabled_at, p_after_t, p_after_id, p_envs, p_region, p_status)
       LIMIT p_early_cap + 1)
      UNION
      (SELECT m.id, m.created_at FROM (
         SELECT * FROM users u WHERE lower(u.email) ~>=~ p_q AND lower(u.email) ~<~ p_q_upper
         ORDER BY lower(u.email) USING ~<~ OFFSET 0) AS m
       WHERE users_search_keeps(m.deleted_at, m.created_at, m.id, m.environment, m.region, m.disabled_at, p_after_t, p_after_id, p_envs, p_region, p_status)
       LIMIT p_early_cap + 1)
      UNION
      (SELECT m.id, m.created_at FROM (
         SELECT * FROM users u WHERE lower(u.name) ~>=~ p_q AND lower(u.name) ~<~ p_q_upper
         ORDER BY lower(u.name) USING ~<~ OFFSET 0) AS m
       WHERE users_search_keeps(m.deleted_at, m.created_at, m.id, m.environment, m.region, m.disabled_at, p_after_t, p_after_id, p_envs, p_region, p_status)
       LIMIT p_early_cap + 1)
    )
    SELECT count(*), (SELECT array_agg(p.id) FROM (SELECT e.id FROM early e ORDER BY e.created_at DESC NULLS LAST, e.id DESC NULLS LAST LIMIT p_page_size) AS p)
    INTO n, ids FROM early;
    IF n > 0 THEN
      RETURN QUERY SELECT unnest(ids), 'early', n, n_probed;
      RETURN;
    END IF;
  END IF;

  IF p_pattern IS NOT NULL THEN
    -- Nothing matched exactly or by prefix: the substring among the newest rows, a full page there
    -- being the answer. Else, when the probe found some, newest first in growing windows of time
    -- (the trigram bitmap ANDed with a users_created_idx range, so only the window's matches are
    -- rechecked), stopping at the first window that completes the page: every match outside it is
    -- older than every match in it. Last, every match older than the windows from the trigram
    -- index's bitmap alone (GIN takes the pattern at run time), at most p_bitmap_cap of them (past
    -- it the caller walks the time index instead).
    SELECT array_agg(s.id) INTO ids FROM (
      SELECT u.id FROM (
        SELECT * FROM users u WHERE u.deleted_at IS NULL AND (u.created_at, u.id) < (p_after_t, p_after_id)
        ORDER BY u.created_at DESC NULLS LAST, u.id DESC NULLS LAST LIMIT p_probe_size) AS u
      WHERE users_search_keeps(u.deleted_at, u.created_at, u.id, u.environment, u.region, u.disabled_at, p_after_t, p_after_id, p_envs, p_region, p_status)
        AND (lower(u.client_user_id) || ' ' || coalesce(lower(u.email), '') || ' ' || coalesce(lower(u.name), '')) LIKE p_pattern
      ORDER BY u.created_at DESC NULLS LAST, u.id DESC NULLS LAST LIMIT p_page_size) AS s;
    n_found := coalesce(cardinality(ids), 0);
    IF n_found >= p_page_size THEN
      RETURN QUERY SELECT unnest(ids), 'substring', n_found, n_probed;
      RETURN;
    END IF;
    -- Where the probe ended (its oldest row) and began: read again from the time index, only here,
    -- so that a page found in the probe costs what it did. No row there: the probe read every row
    -- under the cursor, and its matches are all there are.
    SELECT e.created_at, e.id INTO end_t, end_id FROM (
      SELECT u.created_at, u.id FROM users u WHERE u.deleted_at IS NULL AND (u.created_at, u.id) < (p_after_t, p_after_id)
      ORDER BY u.created_at DESC NULLS LAST, u.id DESC NULLS LAST OFFSET p_probe_size - 1 LIMIT 1) AS e;
    IF end_id IS NULL THEN
      RETURN QUERY SELECT unnest(ids), 'substring', n_found, n_probed;
      RETURN;
    END IF;
    SELECT u.created_at INTO t_top FROM users u WHERE u.deleted_at IS NULL AND (u.created_at, u.id) < (p_after_t, p_after_id)
    ORDER BY u.created_at DESC NULLS LAST, u.id DESC NULLS LAST LIMIT 1;
    -- The windows: the probe's density says how many rows should hold a page (twice over), at the
    -- probe's rate of rows per unit of time; then ten times that; no window past 100 probes' worth
    -- of rows (a larger range costs its btree bitmap more than the rechecks it saves). A probe
    -- without matches opens no window: a page is then unlikely within a few probes' rows.
    span := t_top - end_t;
    IF n_found > 0 AND span > interval '0' THEN
      mult := greatest(2, ceil(2.0 * p_page_size / n_found));
      upper_t := end_t;
      WHILE mult <= 100 LOOP
        lower_t := t_top - span * mult;
        SELECT array_agg(w.id) INTO more FROM (
          SELECT m.id FROM (
            SELECT * FROM users u
            WHERE (lower(u.client_user_id) || ' ' || coalesce(lower(u.email), '') || ' ' || coalesce(lower(u.name), '')) LIKE p_pattern
              AND u.created_at >= lower_t AND u.created_at <= upper_t OFFSET 0) AS m
          WHERE users_search_keeps(m.deleted_at, m.created_at, m.id, m.environment, m.region, m.disabled_at, p_after_t, p_after_id, p_envs, p_region, p_status)
            AND (m.created_at, m.id) < (end_t, end_id)
            AND m.created_at < coalesce(window_end, 'infinity')
          ORDER BY m.created_at DESC NULLS LAST, m.id DESC NULLS LAST LIMIT p_page_size - n_found) AS w;
        ids := ids || coalesce(more, '{}');
        n_found := cardinality(ids);
        IF n_found >= p_page_size THEN
          RETURN QUERY SELECT unnest(ids), 'substring', n_found, n_probed;
          RETURN;
        END IF;
        window_end := lower_t;
        upper_t := lower_t;
        mult := mult * 10;
      END LOOP;
    END IF;
    WITH matched AS MATERIALIZED (
      SELECT m.id, m.created_at FROM (
        SELECT * FROM users u
        WHERE (lower(u.client_user_id) || ' ' || coalesce(lower(u.email), '') || ' ' || coalesce(lower(u.name), '')) LIKE p_pattern OFFSET 0) AS m
      WHERE users_search_keeps(m.deleted_at, m.created_at, m.id, m.environment, m.region, m.disabled_at, p_after_t, p_after_id, p_envs, p_region, p_status)
        AND (m.created_at, m.id) < (end_t, end_id)
        AND m.created_at < coalesce(window_end, 'infinity')
    )
    SELECT n_found + (SELECT count(*) FROM (SELECT FROM matched c LIMIT p_bitmap_cap + 1) AS k),
           (SELECT array_agg(p.id) FROM (
              SELECT c.id FROM (SELECT * FROM matched c LIMIT p_bitmap_cap + 1) AS c
              ORDER BY c.created_at DESC NULLS LAST, c.id DESC NULLS LAST LIMIT p_page_size - n_found) AS p)
    INTO n, more;
    RETURN QUERY SELECT unnest(ids || coalesce(more, '{}')), 'substring', n, n_probed;
  END IF;
END
$$;
