/**
 * Who an id is: staff members and API keys by name, for the pages that would otherwise show
 * "staff 01a23010-…" (audit log, handoffs, sign-in tokens). One query per kind for a whole page of
 * ids; unknown ids are simply absent (the page then shows the id it has).
 */
import { sql } from "drizzle-orm";
import { type Executor, queryRows } from "@/db/client";
import { isUuid } from "@/lib/ids";

export interface ActorName {
  /** What people call it: the staff member's name, the key's name. */
  name: string;
  /** The second line: a staff member's email, a key's prefix. */
  detail: string | null;
}

export interface NamedActor {
  type: string;
  id: string | null;
}

/** Names of the staff members and API keys among `actors`, keyed `type:id`. */
export async function actorNames(db: Executor, actors: Iterable<NamedActor>): Promise<Map<string, ActorName>> {
  const staffIds = new Set<string>();
  const keyIds = new Set<string>();
  for (const a of actors) {
    if (!a.id || !isUuid(a.id)) continue;
    if (a.type === "staff") staffIds.add(a.id);
    else if (a.type === "api_key") keyIds.add(a.id);
  }
  const names = new Map<string, ActorName>();
  const list = (ids: Set<string>) =>
    sql.join(
      [...ids].map((id) => sql`${id}::uuid`),
      sql`, `,
    );
  const [staffRows, keyRows] = await Promise.all([
    staffIds.size ? queryRows<{ id: string; name: string; email: string }>(db, sql`select id, name, email from staff where id in (${list(staffIds)})`) : [],
    keyIds.size ? queryRows<{ id: string; name: string; prefix: string }>(db, sql`select id, name, prefix from api_keys where id in (${list(keyIds)})`) : [],
  ]);
  for (const s of staffRows) names.set(`staff:${s.id}`, { name: s.name, detail: s.email });
  for (const k of keyRows) names.set(`api_key:${k.id}`, { name: k.name, detail: `${k.prefix}…` });
  return names;
}

/**
 * Staff whose name or email starts with `text` (case-insensitive): the audit log's Actor filter
 * finds "Ada" as well as "ada@…" and an id. The staff table is small; at most 50 are named.
 */
export async function staffIdsMatching(db: Executor, text: string): Promise<string[]> {
  const prefix = `${text
    .trim()
    .toLowerCase()
    .replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  if (prefix === "%") return [];
  const rows = await queryRows<{ id: string }>(
    db,
    sql`select id from staff where lower(name) like ${prefix} or lower(email) like ${prefix}
        or lower(name) like ${`% ${prefix}`} order by id limit 50`,
    { prepare: true }, // constant text: one round trip
  );
  return rows.map((r) => r.id);
}
