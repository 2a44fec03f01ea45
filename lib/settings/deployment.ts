/**
 * The deployment's own identity. Its team id is what Junction calls `team_id` on every user: one
 * team per deployment, drawn when the database was first migrated and never changed. A database
 * whose `deployment` row was emptied (tests truncate tables) gets a new one on first read.
 */
import { sql } from "drizzle-orm";
import { type Executor, queryRows } from "@/db/client";

// Immutable once read, so a per-handle cache is safe and saves a round trip on every user answer.
const teamIds = new WeakMap<object, string>();

export async function deploymentTeamId(db: Executor): Promise<string> {
  const cached = teamIds.get(db);
  if (cached) return cached;
  const [row] = await queryRows<{ team_id: string }>(
    db,
    sql`with created as (insert into deployment (id) values (1) on conflict (id) do nothing returning team_id)
        select team_id from created union all select team_id from deployment where id = 1 limit 1`,
  );
  teamIds.set(db, row!.team_id);
  return row!.team_id;
}
