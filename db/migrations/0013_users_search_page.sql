-- The ids of one page of a user search (lib/users/search.ts says what each part is for; the page's
-- rows are read and sorted by the statement that calls this). A function so that its statements
-- keep their generic plans: a prepared statement with a bound prefix range is estimated at 0.5 % of
-- the table in its generic plan and at the few rows it matches in a custom one, so PostgreSQL chose
-- custom plans and planned the search again on every call (0.5-1 ms of a 0.2 ms lookup; a LIKE
-- pattern's custom plan also reads the trigram index to estimate it). The generic plans read the
-- same indexes whatever the values (tests/integration/users.test.ts). JIT off: these statements
-- run for a millisecond, and their generic estimates grow with the table past jit_above_cost.
-- Whether a users row passes a search's filters: live, before the cursor, in the environments, region
-- and status asked for. One definition for every part of users_search_page; a plain SQL expression,
-- so the planner inlines it into each statement.
CREATE FUNCTION users_search_keeps(
  deleted_at timestamptz, created_at timestamptz, id uuid, environment text, region text, disabled_at timestamptz,
  p_after_t timestamptz, p_after_id uuid, p_envs text[], p_region text, p_status text
) RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$
  SELECT deleted_at IS NULL AND (created_at, id) < (p_after_t, p_after_id) AND environment = ANY (p_envs)
    AND (p_region IS NULL OR region = p_region) AND (p_status IS NULL OR (p_status = 'disabled') = (disabled_at IS NOT NULL))
$$;
--> statement-breakpoint
CREATE FUNCTION users_search_page(
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
    -- being the answer; else every match from the trigram index's bitmap (GIN takes the pattern at
    -- run time), at most p_bitmap_cap of them (past it the caller walks the time index instead).
    SELECT array_agg(s.id) INTO ids FROM (
      SELECT u.id FROM (
        SELECT * FROM users u WHERE u.deleted_at IS NULL AND (u.created_at, u.id) < (p_after_t, p_after_id)
        ORDER BY u.created_at DESC NULLS LAST, u.id DESC NULLS LAST LIMIT p_probe_size) AS u
      WHERE users_search_keeps(u.deleted_at, u.created_at, u.id, u.environment, u.region, u.disabled_at, p_after_t, p_after_id, p_envs, p_region, p_status)
        AND (lower(u.client_user_id) || ' ' || coalesce(lower(u.email), '') || ' ' || coalesce(lower(u.name), '')) LIKE p_pattern
      ORDER BY u.created_at DESC NULLS LAST, u.id DESC NULLS LAST LIMIT p_page_size) AS s;
    IF coalesce(cardinality(ids), 0) >= p_page_size THEN
      RETURN QUERY SELECT unnest(ids), 'substring', 0::bigint, n_probed;
      RETURN;
    END IF;
    WITH matched AS MATERIALIZED (
      SELECT m.id, m.created_at FROM (
        SELECT * FROM users u
        WHERE (lower(u.client_user_id) || ' ' || coalesce(lower(u.email), '') || ' ' || coalesce(lower(u.name), '')) LIKE p_pattern OFFSET 0) AS m
      WHERE users_search_keeps(m.deleted_at, m.created_at, m.id, m.environment, m.region, m.disabled_at, p_after_t, p_after_id, p_envs, p_region, p_status)
    ), capped AS (SELECT c.id, c.created_at FROM matched c LIMIT p_bitmap_cap + 1)
    SELECT count(*), (SELECT array_agg(p.id) FROM (SELECT c.id FROM capped c ORDER BY c.created_at DESC NULLS LAST, c.id DESC NULLS LAST LIMIT p_page_size) AS p)
    INTO n, ids FROM capped;
    RETURN QUERY SELECT unnest(ids), 'substring', n, n_probed;
  END IF;
END
$$;
